/**
 * `clawpulse monitor …`: the openclaw-status-monitor skill's `status_uploader.py`, command for
 * command (README "Monitor platform"). Exit codes: 0 ok, 1 a failed upload (or a refused
 * stop), 2 bad usage or configuration (no token included); `status` exits 3 when no uploader
 * runs, like `clawpulse status`.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type { Config } from '../config/config.js';
import { systemClock } from '../infra/clock.js';
import { isAlive, readLivePid } from '../infra/pidfile.js';
import {
  CredentialsError,
  type MonitorCredentials,
  minutesText,
  normalizeUrl,
  readCredentials,
  updateCredentials,
  writeCredentials,
} from '../monitor/credentials.js';
import {
  type AgentFilter,
  gatewayProbe,
  onlyLiveFilter,
  recentlyActiveFromFiles,
} from '../monitor/liveness.js';
import { createUploaderLog, lastLines } from '../monitor/log-file.js';
import { failureText, noTokenText, tokenRejectedText } from '../monitor/messages.js';
import { type OnceResult, uploadNow } from '../monitor/once.js';
import { DEFAULT_MONITOR_URL, type MonitorPaths, monitorPaths } from '../monitor/paths.js';
import {
  claimUploaderPid,
  createMonitorRuntime,
  type MonitorEnv,
  readSettings,
  runningUploader,
  UploaderRunningError,
} from '../monitor/runtime.js';
import { pyList } from '../monitor/uploader.js';

export interface MonitorCliOptions {
  onlyLive?: boolean;
  stateDir?: string;
}

const out = (s: string) => process.stdout.write(`${s}\n`);
const err = (s: string) => process.stderr.write(`${s}\n`);
/** log lines on stderr as well, as the original's StreamHandler printed them */
const echo = (line: string) => err(line);

function env(config: Readonly<Config>): MonitorEnv {
  return { stateDir: config.sources.stateDir, envToken: config.monitor.token, envUrl: config.monitor.url };
}

function filterFor(config: Readonly<Config>, onlyLive: boolean | undefined): AgentFilter | undefined {
  if (!onlyLive && !config.monitor.onlyLive) return undefined;
  const stateDir = config.sources.stateDir;
  return onlyLiveFilter({
    gatewayUp: gatewayProbe({ url: config.sources.gatewayUrl, token: config.sources.gatewayToken, stateDir }),
    recentlyActive: (ids, since) => recentlyActiveFromFiles(stateDir, ids, since),
    now: () => Date.now(),
  });
}

/** the interval argument: a whole number of minutes, 1 to 1440 (one day) */
export function parseMinutes(v: string): number | undefined {
  if (!/^\d+$/.test(v.trim())) return undefined;
  const n = Number(v);
  return n >= 1 && n <= 1440 ? n : undefined;
}

function badInterval(v: string): number {
  err(`clawpulse: the interval must be a whole number of minutes from 1 to 1440 (got "${v}")`);
  return 2;
}

/** whether `pid` is the clawpulse daemon (which uploads itself when configured) */
function isDaemon(config: Readonly<Config>, pid: number): boolean {
  return readLivePid(config.pidFile) === pid;
}

function configProblem(e: unknown): number {
  err(`clawpulse: ${(e as Error).message}`);
  return 2;
}

/** the exit code and the words for a one-shot result */
function report(r: OnceResult, paths: MonitorPaths): number {
  switch (r.kind) {
    case 'no-token':
      err(noTokenText(r.settings.url, paths.credentials));
      return 2;
    case 'bad-config':
      err(`clawpulse: ${r.message}`);
      return 2;
    case 'no-agents':
      out('No agents');
      return 0;
    case 'uploaded':
      if (r.outcome.ok) return 0;
      err(failureText(r.settings.url, r.outcome.failure, r.outcome.attempts));
      return 1;
  }
}

/** `clawpulse monitor`: one upload (OpenClaw cron) */
export async function monitorOnce(config: Readonly<Config>, o: MonitorCliOptions): Promise<number> {
  const r = await uploadNow({
    ...env(config),
    clock: systemClock,
    echo,
    filter: filterFor(config, o.onlyLive),
  });
  return report(r, monitorPaths(config.sources.stateDir));
}

/** `clawpulse monitor test`: the agent ids, then one upload and its result */
export async function monitorTest(config: Readonly<Config>, o: MonitorCliOptions): Promise<number> {
  const r = await uploadNow({
    ...env(config),
    clock: systemClock,
    echo,
    filter: filterFor(config, o.onlyLive),
    onAgents: (ids, agents) => {
      out(`All agents: ${pyList(agents.ids)} (${agents.origin})`);
      if (ids.length !== agents.ids.length) out(`Live agents: ${pyList(ids)}`);
    },
  });
  if (r.kind === 'uploaded') {
    out(`Monitor platform: ${r.settings.url}`);
    out(`Upload result: ${r.outcome.ok ? 'success' : 'failed'}`);
  }
  return report(r, monitorPaths(config.sources.stateDir));
}

/** `clawpulse monitor login TOKEN [--url URL]`: saves the token (0600), validates it with one upload */
export async function monitorLogin(config: Readonly<Config>, token: string, url?: string): Promise<number> {
  const paths = monitorPaths(config.sources.stateDir);
  const t = token.trim();
  if (!t || /\s/.test(t)) {
    err('clawpulse: the token is one word, as the platform shows it on its Settings page');
    return 2;
  }
  const monitorUrl = url === undefined ? undefined : normalizeUrl(url);
  if (url !== undefined && !monitorUrl) {
    err(`clawpulse: --url must be an http(s) URL such as ${DEFAULT_MONITOR_URL} (got "${url}")`);
    return 2;
  }
  let previous: MonitorCredentials | undefined;
  try {
    previous = readCredentials(paths.credentials);
  } catch (e) {
    if (!(e instanceof CredentialsError)) throw e;
    err(`clawpulse: ${e.message}; writing a new file`);
  }
  const next: MonitorCredentials = {
    ...(previous ?? {}),
    agentToken: t,
    createdAt: new Date().toISOString(),
    monitorUrl: monitorUrl ?? normalizeUrl(previous?.monitorUrl) ?? DEFAULT_MONITOR_URL,
  };
  writeCredentials(paths.credentials, next);
  out(`Token saved to ${paths.credentials} (mode 0600)`);
  if (config.monitor.token && config.monitor.token !== t)
    err('clawpulse: note: MONITOR_PLATFORM_TOKEN is set and takes precedence over the saved token');

  out('Validating the token with one upload...');
  const r = await uploadNow({ ...env(config), envUrl: undefined, token: t, clock: systemClock, echo });
  if (r.kind !== 'uploaded') return report(r, paths);
  const platform = r.settings.url;
  if (r.outcome.ok) {
    out(`Token validated: upload success for ${pyList(r.outcome.agentIds)} at ${platform}`);
    const pid = runningUploader(paths);
    if (pid) out(`The running uploader (pid ${pid}) uses it from its next upload.`);
    else
      out(
        `Upload every ${minutesText(r.settings.intervalMinutes)}: clawpulse monitor start --fork (or run \`clawpulse monitor\` from OpenClaw cron)`,
      );
    return 0;
  }
  const f = r.outcome.failure;
  if (f.kind === 'auth') {
    // a token the platform refuses is not kept: the running uploader goes on with the old one
    if (previous) writeCredentials(paths.credentials, previous);
    else fs.rmSync(paths.credentials, { force: true });
    err(tokenRejectedText(platform, f.status, f.detail));
    err('The token was not saved.');
    return 1;
  }
  err(failureText(platform, f, r.outcome.attempts));
  err('The token is saved, but it could not be validated.');
  return 1;
}

/** `clawpulse monitor set-interval MIN` */
export function monitorSetInterval(config: Readonly<Config>, value: string): number {
  const minutes = parseMinutes(value);
  if (minutes === undefined) return badInterval(value);
  const paths = monitorPaths(config.sources.stateDir);
  try {
    saveInterval(paths, minutes);
  } catch (e) {
    return configProblem(e);
  }
  out(`Sync interval set to ${minutesText(minutes)}`);
  const pid = runningUploader(paths);
  if (pid) out(`The running uploader (pid ${pid}) uses it from now on, no restart needed.`);
  return 0;
}

function saveInterval(paths: MonitorPaths, minutes: number): void {
  updateCredentials(paths.credentials, { syncIntervalMinutes: minutes });
  createUploaderLog({ log: paths.log, errorLog: paths.errorLog }).info(
    `Saved sync interval: ${minutesText(minutes)}`,
  );
}

export interface StartOptions extends MonitorCliOptions {
  fork?: boolean;
  interval?: string;
  /** set on the forked child: its log lines go to the log file only */
  detached?: boolean;
}

/** `clawpulse monitor start [--fork] [--interval MIN] [--only-live]` */
export async function monitorStart(config: Readonly<Config>, o: StartOptions): Promise<number> {
  const paths = monitorPaths(config.sources.stateDir);
  if (o.interval !== undefined) {
    const minutes = parseMinutes(o.interval);
    if (minutes === undefined) return badInterval(o.interval);
    try {
      saveInterval(paths, minutes);
    } catch (e) {
      return configProblem(e);
    }
  }
  const running = runningUploader(paths);
  if (running && running !== process.pid) {
    if (isDaemon(config, running))
      out(`The clawpulse daemon (pid ${running}) uploads to the monitor platform; nothing to start.`);
    else out(`Status uploader is already running (pid ${running})`);
    if (o.interval !== undefined) out('It uses the new interval from now on.');
    return 0;
  }
  let settings: ReturnType<typeof readSettings>;
  try {
    settings = readSettings(env(config), paths);
  } catch (e) {
    return configProblem(e);
  }
  if (!settings.token) {
    err(noTokenText(settings.url, paths.credentials));
    return 2;
  }
  if (o.fork) return forkUploader(o, paths, settings.intervalMinutes);
  return runUploader(config, o, paths);
}

async function runUploader(config: Readonly<Config>, o: StartOptions, paths: MonitorPaths): Promise<number> {
  let release: () => void;
  try {
    release = claimUploaderPid(paths);
  } catch (e) {
    if (e instanceof UploaderRunningError) {
      out(`Status uploader is already running (pid ${e.pid})`);
      return 0;
    }
    throw e;
  }
  const rt = createMonitorRuntime({
    ...env(config),
    clock: systemClock,
    filter: filterFor(config, o.onlyLive),
    echo: o.detached ? undefined : echo,
  });
  rt.log.info(`Status uploader started, PID: ${process.pid}`);
  // the loop's timers do not hold the process; this does, until a stop signal
  const keepAlive = setInterval(() => undefined, 1 << 30);
  rt.loop.start();
  return new Promise<number>((resolve) => {
    const stop = () => {
      rt.log.info('Received stop signal, exiting...');
      void rt.loop.stop().finally(() => {
        clearInterval(keepAlive);
        release();
        resolve(0);
      });
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

async function forkUploader(o: StartOptions, paths: MonitorPaths, intervalMinutes: number): Promise<number> {
  fs.mkdirSync(paths.logDir, { recursive: true });
  const logFd = fs.openSync(paths.log, 'a');
  const args = [
    ...process.execArgv,
    process.argv[1] as string,
    'monitor',
    'start',
    '--detached',
    ...(o.onlyLive ? ['--only-live'] : []),
    ...(o.stateDir ? ['--state-dir', o.stateDir] : []),
  ];
  // a crash (not a log line) lands in the log file too
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', logFd, logFd],
    env: process.env,
  });
  child.unref();
  fs.closeSync(logFd);
  const pid = child.pid as number;
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    const holder = readLivePid(paths.pid);
    if (holder === pid) {
      out(`Status uploader started (pid ${pid})`);
      out(`  interval: ${minutesText(intervalMinutes)}`);
      out(`  log: ${paths.log}`);
      return 0;
    }
    if (!isAlive(pid)) {
      if (holder) {
        out(`Status uploader is already running (pid ${holder})`);
        return 0;
      }
      err(`clawpulse: the uploader exited during start; see ${paths.log}:`);
      err(lastLines(paths.log, 10).join('\n'));
      return 1;
    }
  }
  err(`clawpulse: the uploader (pid ${pid}) did not start within 15 s; see ${paths.log}`);
  return 1;
}

/** `clawpulse monitor stop` */
export async function monitorStop(config: Readonly<Config>, quiet = false): Promise<number> {
  const paths = monitorPaths(config.sources.stateDir);
  const pid = runningUploader(paths);
  if (!pid) {
    if (!quiet) out('Status uploader is not running');
    return 0;
  }
  if (isDaemon(config, pid)) {
    err(
      `clawpulse: uploads run inside the clawpulse daemon (pid ${pid}); \`clawpulse stop\` stops it, or restart it with MONITOR_PLATFORM=off`,
    );
    return 1;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) {
      out(`Status uploader stopped (pid ${pid})`);
      return 0;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  err(`clawpulse: the uploader (pid ${pid}) did not stop within 15 s`);
  return 1;
}

/** `clawpulse monitor restart [--interval MIN] [--only-live]`: prints the new PID */
export async function monitorRestart(config: Readonly<Config>, o: StartOptions): Promise<number> {
  if (o.interval !== undefined && parseMinutes(o.interval) === undefined) return badInterval(o.interval);
  const stopped = await monitorStop(config, true);
  if (stopped !== 0) return stopped;
  const code = await monitorStart(config, { ...o, fork: true });
  const pid = runningUploader(monitorPaths(config.sources.stateDir));
  if (code === 0 && pid) out(`Status uploader restarted, PID: ${pid}`);
  return code;
}

/** `clawpulse monitor status`: exit 0 running, 3 not running */
export function monitorStatus(config: Readonly<Config>): number {
  const paths = monitorPaths(config.sources.stateDir);
  const pid = runningUploader(paths);
  const lines: string[] = [];
  if (pid)
    lines.push(
      `Status uploader is running, PID: ${pid}${isDaemon(config, pid) ? ' (inside the clawpulse daemon)' : ''}`,
    );
  else lines.push('Status uploader is not running');
  try {
    const s = readSettings(env(config), paths);
    lines.push(`  Sync interval: ${minutesText(s.intervalMinutes)}`);
    lines.push(`  Monitor platform: ${s.url}`);
    lines.push(
      `  Token: ${s.tokenOrigin ? `from ${s.tokenOrigin}` : 'not configured (clawpulse monitor login TOKEN)'}`,
    );
  } catch (e) {
    lines.push(`  Settings: ${(e as Error).message}`);
  }
  lines.push(`  Log file: ${paths.log}`);
  const recent = lastLines(paths.log, 5);
  lines.push('', 'Recent log:', ...(recent.length ? recent.map((l) => `  ${l}`) : ['  (empty)']));
  const errors = lastLines(paths.errorLog, 5);
  lines.push(
    '',
    `Recent errors (${paths.errorLog}):`,
    ...(errors.length ? errors.map((l) => `  ${l}`) : ['  none']),
  );
  out(lines.join('\n'));
  return pid ? 0 : 3;
}

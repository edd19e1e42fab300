/**
 * `clawpulse start`: the daemon in the foreground (logs to stderr: human lines on a terminal,
 * JSON otherwise; or to `--log-file`, rotated at 10 MiB with 5 kept), or `--fork` to detach:
 * the child runs `start` again without --fork, logging to <home>/clawpulse.log (its
 * stdout/stderr go there too), and the parent waits until the child's /health answers (or it
 * dies) before returning. Either way the dashboard URL is the first line the user sees.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config/config.js';
import { displayStore } from '../config/store-env.js';
import { startDaemon } from '../daemon/daemon.js';
import { isAlive, readLivePid } from '../infra/pidfile.js';
import { fail } from './config-from-cli.js';
import { authHeaders, hostForUrl, writeRunInfo } from './daemon-link.js';
import { claimForeground, exitCleanup, failedStart } from './foreground.js';
import { dashboardUrl, describeSources, fatalReason, linesSince, logOffset } from './fork-report.js';
import { ignoreBrokenStdio, installShutdown } from './shutdown.js';

export { hostForUrl } from './daemon-link.js';

/** the URL a person opens (a daemon on 0.0.0.0 is reached on 127.0.0.1) */
export function dashboardBase(config: Readonly<Config>, port: number): string {
  return `http://${hostForUrl(config.http.host)}:${port}`;
}

export async function runForeground(config: Readonly<Config>, o: { logFile?: string } = {}): Promise<void> {
  ignoreBrokenStdio();
  const fg = claimForeground(config, config.pidFile, o.logFile);
  const { logger } = fg;

  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  try {
    daemon = await startDaemon(config, { logger });
  } catch (err) {
    failedStart(config, fg, err, 'another clawpulse, or another program');
  }
  const url = config.http.disabled ? null : dashboardBase(config, daemon.port);
  const dropRunInfo = writeRunInfo(config.pidFile, {
    pid: process.pid,
    url,
    kind: 'daemon',
    db: displayStore(config.store),
  });
  // first, before any log line: where to look (also read by `start --fork` from the log file)
  process.stdout.write(
    url
      ? `clawpulse: dashboard ${url}/  (Ctrl-C stops)\n`
      : 'clawpulse: running without HTTP (HEALTH_PORT=0): no dashboard  (Ctrl-C stops)\n',
  );
  fg.showLogs();
  // the HTTP server is what keeps a daemon's process alive; without one (HEALTH_PORT=0) this does
  const keepAlive = config.http.disabled ? setInterval(() => {}, 1 << 30) : undefined;
  installShutdown({
    stop: async (signal) => {
      await daemon.stop(signal);
      if (keepAlive) clearInterval(keepAlive);
    },
    cleanup: exitCleanup(fg, dropRunInfo),
  });
}

interface HealthLike {
  status?: string;
  sources?: Array<{ id: string; state: string; detail?: string }>;
}

async function health(url: string, config: Readonly<Config>): Promise<HealthLike | undefined> {
  try {
    const res = await fetch(`${url}/health`, {
      headers: authHeaders(config),
      signal: AbortSignal.timeout(2000),
    });
    if (res.status !== 200 && res.status !== 503) return undefined;
    return (await res.json()) as HealthLike;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `logFile`: the --log-file given (the child gets it in argv), else <home>/clawpulse.log */
export async function runForked(
  config: Readonly<Config>,
  argv: string[],
  logFileOption?: string,
): Promise<void> {
  const running = readLivePid(config.pidFile);
  if (running) fail(`clawpulse is already running (pid ${running}, pid file ${config.pidFile})`);
  mkdirSync(config.home, { recursive: true });
  const logFile = resolve(logFileOption ?? join(config.home, 'clawpulse.log'));
  // this run's lines start here: earlier runs' lines are never shown as this run's reason
  const offset = logOffset(logFile);
  const out = openSync(logFile, 'a', 0o640);
  const childArgv = argv.filter((a) => a !== '--fork');
  if (logFileOption === undefined) childArgv.push('--log-file', logFile);
  const args = [...process.execArgv, process.argv[1] as string, ...childArgv];
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', out, out],
    env: { ...process.env, LOG_FORMAT: 'json' },
  });
  child.unref();
  const pid = child.pid as number;
  const deadline = Date.now() + 20_000;
  const died = () => {
    const reason = fatalReason(linesSince(logFile, offset)) ?? 'it exited without saying why';
    fail(`the daemon could not start: ${reason}\n  (log: ${logFile})`);
  };
  while (Date.now() < deadline) {
    await sleep(100);
    if (!isAlive(pid)) died();
    if (readLivePid(config.pidFile) !== pid) continue;
    if (config.http.disabled) {
      process.stdout.write(
        `clawpulse started (pid ${pid}) without HTTP (HEALTH_PORT=0): no dashboard; logs: ${logFile}\n`,
      );
      return;
    }
    // the port it bound (--port 0 takes any): the child printed it first
    const url =
      dashboardUrl(linesSince(logFile, offset))?.replace(/\/$/, '') ??
      (config.http.port ? dashboardBase(config, config.http.port) : undefined);
    if (!url) continue;
    let h = await health(url, config);
    if (!h) continue;
    // a moment for the gateway's first connect, so "came up" or "did not" is true
    for (let i = 0; i < 30 && h?.sources?.some((s) => s.state === 'starting'); i++) {
      await sleep(100);
      h = (await health(url, config)) ?? h;
    }
    const lines = [`clawpulse: dashboard ${url}/`, `clawpulse started (pid ${pid}); logs: ${logFile}`];
    lines.push(...describeSources(h?.sources ?? []));
    if (h?.status && h.status !== 'ok')
      lines.push(`  status: ${h.status} (clawpulse status says why; it exits 4 while degraded)`);
    process.stdout.write(`${lines.join('\n')}\n`);
    return;
  }
  if (!isAlive(pid)) died();
  fail(`the daemon (pid ${pid}) did not answer /health within 20 s; see ${logFile}`);
}

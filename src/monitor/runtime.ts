/**
 * The parts of an uploader put together, for the standalone `clawpulse monitor start` process
 * and for the daemon alike: settings read from the credentials file (and the environment) on
 * every use, the log files, the uploader, the loop. The PID file says who uploads: one process
 * per state dir (a stale file, whose process is gone, is taken over).
 */
import fs from 'node:fs';
import type { Clock } from '../infra/clock.js';
import { AlreadyRunningError, claimPidFile, readLivePid } from '../infra/pidfile.js';
import { readAgentIds } from './agents.js';
import { type MonitorSettings, readCredentials, resolveSettings } from './credentials.js';
import type { AgentFilter } from './liveness.js';
import { createUploaderLog, type UploaderLog } from './log-file.js';
import { type CycleResult, createMonitorLoop, type MonitorLoop } from './loop.js';
import { noTokenText } from './messages.js';
import { type MonitorPaths, monitorPaths } from './paths.js';
import { createUploader, type UploaderOptions } from './uploader.js';

export interface MonitorEnv {
  stateDir: string;
  /** MONITOR_PLATFORM_TOKEN */
  envToken?: string;
  /** OPENCLAW_MONITOR_URL */
  envUrl?: string;
}

export function readSettings(env: MonitorEnv, paths = monitorPaths(env.stateDir)): MonitorSettings {
  return resolveSettings({
    file: paths.credentials,
    credentials: readCredentials(paths.credentials),
    envToken: env.envToken,
    envUrl: env.envUrl,
  });
}

/** changes whenever the credentials file is written (atomic writes give it a new inode) */
export function settingsVersion(file: string): string {
  try {
    const s = fs.statSync(file);
    return `${s.ino}:${s.mtimeMs}:${s.size}`;
  } catch {
    return 'none';
  }
}

export interface MonitorRuntimeOptions extends MonitorEnv {
  clock: Clock;
  /** `--only-live`: narrows each cycle's ids; all of openclaw.json's when omitted */
  filter?: AgentFilter;
  /** each log line also goes here (stderr in the foreground) */
  echo?: (line: string) => void;
  maxLogBytes?: number;
  checkEveryMs?: number;
  uploader?: Partial<Omit<UploaderOptions, 'clock' | 'log'>>;
  onCycle?(r: CycleResult): void;
}

export interface MonitorRuntime {
  paths: MonitorPaths;
  log: UploaderLog;
  loop: MonitorLoop;
}

export function createMonitorRuntime(o: MonitorRuntimeOptions): MonitorRuntime {
  const paths = monitorPaths(o.stateDir);
  const log = createUploaderLog({
    log: paths.log,
    errorLog: paths.errorLog,
    maxBytes: o.maxLogBytes,
    now: () => o.clock.now(),
    echo: o.echo,
  });
  const uploader = createUploader({ clock: o.clock, log, ...o.uploader });
  const settings = () => readSettings(o, paths);
  const loop = createMonitorLoop({
    clock: o.clock,
    log,
    uploader,
    settings,
    settingsVersion: () => settingsVersion(paths.credentials),
    agents: async (windowMs) => {
      const { ids } = readAgentIds(o.stateDir);
      return o.filter ? o.filter(ids, windowMs) : ids;
    },
    noTokenMessage: noTokenText(safeUrl(settings), paths.credentials).replace(/\n+/g, ' '),
    checkEveryMs: o.checkEveryMs,
    onCycle: o.onCycle,
  });
  return { paths, log, loop };
}

function safeUrl(settings: () => MonitorSettings): string {
  try {
    return settings().url;
  } catch {
    return 'the monitor platform';
  }
}

/** the uploader's pid when its process is alive; a stale PID file is removed (as the original did) */
export function runningUploader(paths: MonitorPaths): number | undefined {
  const pid = readLivePid(paths.pid);
  if (pid === undefined && fs.existsSync(paths.pid)) fs.rmSync(paths.pid, { force: true });
  return pid;
}

export class UploaderRunningError extends Error {
  constructor(public readonly pid: number) {
    super(`the status uploader is already running (pid ${pid})`);
    this.name = 'UploaderRunningError';
  }
}

/** claims the uploader's PID file for this process; UploaderRunningError when another live one holds it */
export function claimUploaderPid(paths: MonitorPaths, pid = process.pid): () => void {
  try {
    return claimPidFile(paths.pid, pid);
  } catch (err) {
    if (err instanceof AlreadyRunningError) throw new UploaderRunningError(err.pid);
    throw err;
  }
}

/**
 * Where the openclaw-status-monitor uploader keeps its files, under the OpenClaw state dir
 * (`$OPENCLAW_STATE_DIR`, default `~/.openclaw`): the same names as the original
 * `status_uploader.py`, so an existing setup (token, logs, PID file) carries over as it is.
 */
import path from 'node:path';

export const DEFAULT_MONITOR_URL = 'https://openclaw-agent-monitor.vercel.app';
export const DEFAULT_INTERVAL_MINUTES = 5;
/** the original rotated its logs above 10 MB */
export const DEFAULT_MAX_LOG_BYTES = 10 * 1024 * 1024;

export interface MonitorPaths {
  stateDir: string;
  /** `{agentToken, createdAt, monitorUrl, syncIntervalMinutes}` */
  credentials: string;
  logDir: string;
  log: string;
  errorLog: string;
  pid: string;
}

export function monitorPaths(stateDir: string): MonitorPaths {
  const logDir = path.join(stateDir, 'logs');
  return {
    stateDir,
    credentials: path.join(stateDir, 'credentials', 'openclaw-status-monitor.json'),
    logDir,
    log: path.join(logDir, 'status_uploader.log'),
    errorLog: path.join(logDir, 'status_uploader_error.log'),
    pid: path.join(logDir, 'status_uploader.pid'),
  };
}

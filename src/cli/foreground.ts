/**
 * What every foreground server command (`clawpulse start`, `clawpulse serve`) does around its
 * own work: claim its PID file, open its log, survive one bad input, explain a failed start and
 * clean up at exit.
 */
import type { Config } from '../config/config.js';
import { openRotatingLog } from '../infra/log-file.js';
import { createLogger, createProcessLogger, type Logger } from '../infra/logger.js';
import { AlreadyRunningError, claimPidFile } from '../infra/pidfile.js';
import { fail } from './config-from-cli.js';

export interface Foreground {
  logger: Logger;
  /** lets the held stderr log lines out (after the dashboard URL, the first line a user sees) */
  showLogs(): void;
  /** gives the PID file back */
  release(): void;
}

/**
 * Claims `pidFile` (a live one: exit with its message) and opens the log: `logFile` rotated,
 * else stderr, held until `showLogs`.
 */
export function claimForeground(config: Readonly<Config>, pidFile: string, logFile?: string): Foreground {
  let release: () => void;
  try {
    release = claimPidFile(pidFile);
  } catch (err) {
    if (err instanceof AlreadyRunningError) fail(err.message);
    throw err;
  }
  let logger: Logger;
  let showLogs = () => {};
  if (logFile) logger = createLogger(config.logLevel, openRotatingLog(logFile));
  else {
    const p = createProcessLogger(config.logLevel, config.logFormat, { hold: true });
    logger = p.logger;
    showLogs = p.release;
  }
  // a server never dies of one bad input: log and go on (a real bug shows in the logs). A
  // stdout or stderr that went away is not worth a line (there is no one to read it)
  process.on('uncaughtException', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') logger.error({ err }, 'uncaught exception (continuing)');
  });
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection (continuing)'));
  return { logger, showLogs, release };
}

/** a start that threw: the PID file given back, the held log shown, one line saying why; exits */
export function failedStart(
  config: Readonly<Config>,
  f: Foreground,
  err: unknown,
  portHolders: string,
): never {
  f.release();
  f.showLogs();
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EADDRINUSE')
    fail(
      `port ${config.http.port} on ${config.http.host} is in use (${portHolders}): set HEALTH_PORT or --port`,
    );
  fail(`could not start: ${e.message}`);
}

/** the last thing at exit: the run file and PID file gone, the log flushed */
export function exitCleanup(f: Foreground, dropRunInfo: () => void): () => void {
  return () => {
    dropRunInfo();
    f.release();
    try {
      f.logger.flush?.();
    } catch {
      // a log that cannot be flushed now never will be
    }
  };
}

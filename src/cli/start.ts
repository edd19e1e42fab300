/**
 * `clawpulse start`: the daemon in the foreground (logs to stderr, or to `--log-file`, rotated
 * at 10 MiB with 5 kept), or `--fork` to detach: the child runs `start` again without --fork,
 * logging to <home>/clawpulse.log (its stdout/stderr go there too), and the parent waits until
 * the child's /health answers (or it dies) before returning.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config/config.js';
import { startDaemon } from '../daemon/daemon.js';
import { openRotatingLog } from '../infra/log-file.js';
import { createLogger } from '../infra/logger.js';
import { AlreadyRunningError, claimPidFile, isAlive, readLivePid } from '../infra/pidfile.js';
import { fail } from './config-from-cli.js';

export async function runForeground(config: Readonly<Config>, o: { logFile?: string } = {}): Promise<void> {
  let release: () => void;
  try {
    release = claimPidFile(config.pidFile);
  } catch (err) {
    if (err instanceof AlreadyRunningError) fail(err.message);
    throw err;
  }
  const logger = o.logFile
    ? createLogger(config.logLevel, openRotatingLog(o.logFile))
    : createLogger(config.logLevel);
  // the daemon never dies of one bad input: log and go on (a real bug shows in the logs)
  process.on('uncaughtException', (err) => logger.error({ err }, 'uncaught exception (continuing)'));
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection (continuing)'));

  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  try {
    daemon = await startDaemon(config, { logger });
  } catch (err) {
    release();
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE')
      fail(`port ${config.http.port} on ${config.http.host} is in use: set HEALTH_PORT or --port`);
    fail(`could not start: ${e.message}`);
  }
  if (process.stderr.isTTY) {
    process.stderr.write(`clawpulse: dashboard http://${config.http.host}:${daemon.port}/  (Ctrl-C stops)\n`);
  }
  const shutdown = (signal: string) => {
    void daemon
      .stop(signal)
      .catch((err) => logger.error({ err }, 'shutdown failed'))
      .finally(() => {
        release();
        logger.flush?.();
        process.exit(0);
      });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

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
  const out = openSync(logFile, 'a', 0o640);
  const childArgv = argv.filter((a) => a !== '--fork');
  if (logFileOption === undefined) childArgv.push('--log-file', logFile);
  const args = [...process.execArgv, process.argv[1] as string, ...childArgv];
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', out, out],
    env: process.env,
  });
  child.unref();
  const pid = child.pid as number;
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    if (!isAlive(pid)) fail(`the daemon exited during start; see ${logFile}:\n${tail(logFile)}`);
    if (readLivePid(config.pidFile) !== pid) continue;
    try {
      const res = await fetch(`http://${hostForUrl(config.http.host)}:${config.http.port}/health`);
      if (res.status === 200 || res.status === 503) {
        process.stdout.write(`clawpulse started (pid ${pid}); logs: ${logFile}\n`);
        return;
      }
    } catch {
      // not listening yet
    }
    if (config.http.port === 0) {
      process.stdout.write(`clawpulse started (pid ${pid}); logs: ${logFile}\n`);
      return;
    }
  }
  fail(`the daemon (pid ${pid}) did not answer /health within 20 s; see ${logFile}`);
}

export function hostForUrl(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::' || host === '::1') return '[::1]';
  return host;
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '';
  }
}

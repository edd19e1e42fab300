/**
 * `clawpulse serve`: the fleet view. No OpenClaw source: it reads the shared PostgreSQL store
 * (CLAWPULSE_STORE) every daemon writes into and serves the dashboard, API and SSE for all hosts
 * (src/fleet/fleet-serve.ts). Foreground only (run it under systemd or a container like any
 * server); it claims its own PID file, `<home>/serve.pid` (PID_FILE overrides), so it runs beside
 * the host's own daemon, and `clawpulse status --serve` / `stop --serve` find it.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Config } from '../config/config.js';
import { startFleetServe } from '../fleet/fleet-serve.js';
import { redactUrl } from '../fleet/fleet-source.js';
import { fail } from './config-from-cli.js';
import { writeRunInfo } from './daemon-link.js';
import { claimForeground, exitCleanup, failedStart } from './foreground.js';
import { ignoreBrokenStdio, installShutdown } from './shutdown.js';
import { dashboardBase } from './start.js';

/** serve's PID file: PID_FILE when set, else <home>/serve.pid (the daemon keeps clawpulse.pid) */
export function servePidFile(config: Readonly<Config>, env: NodeJS.ProcessEnv = process.env): string {
  return env.PID_FILE ? config.pidFile : join(config.home, 'serve.pid');
}

/** the shared store's URL, or why serve cannot run on this configuration */
export function fleetStoreUrl(config: Readonly<Config>): string {
  if (config.store.engine !== 'postgres')
    throw new Error(
      'serve reads the shared store every daemon writes into: set CLAWPULSE_STORE=postgres://user:password@host:5432/db (the same URL as the daemons)',
    );
  return config.store.url;
}

/**
 * The local mirror's default file: one per database (host, port, name), so pointing serve at
 * another database never resumes from offsets that belong to the first.
 */
export function defaultCachePath(config: Readonly<Config>, url: string): string {
  let id = url;
  try {
    const u = new URL(url);
    id = `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    // the whole URL, hashed: never shown
  }
  return join(config.home, `fleet-${createHash('sha256').update(id).digest('hex').slice(0, 12)}.sqlite`);
}

export async function runServe(
  config: Readonly<Config>,
  o: { cache?: string; logFile?: string } = {},
): Promise<void> {
  ignoreBrokenStdio();
  let url: string;
  try {
    url = fleetStoreUrl(config);
  } catch (err) {
    fail((err as Error).message);
  }
  if (config.http.disabled) fail('serve shows the fleet over HTTP: HEALTH_PORT=0 leaves it nothing to do');
  const pidFile = servePidFile(config);
  const fg = claimForeground(config, pidFile, o.logFile);
  const { logger } = fg;

  const cachePath = o.cache ?? defaultCachePath(config, url);
  let served: Awaited<ReturnType<typeof startFleetServe>>;
  try {
    served = await startFleetServe(config, { url, cachePath, logger });
  } catch (err) {
    failedStart(config, fg, err, "this host's daemon, or another program");
  }
  const base = config.http.disabled ? null : dashboardBase(config, served.port);
  const dropRunInfo = writeRunInfo(pidFile, { pid: process.pid, url: base, kind: 'daemon', db: cachePath });
  process.stdout.write(
    base
      ? `clawpulse serve: fleet dashboard ${base}/ reading ${redactUrl(url)}  (Ctrl-C stops)\n`
      : 'clawpulse serve: running without HTTP\n',
  );
  fg.showLogs();
  logger.info({ store: redactUrl(url), cache: cachePath }, 'clawpulse serve running');
  installShutdown({
    stop: async (signal) => served.stop(signal),
    cleanup: exitCleanup(fg, dropRunInfo),
  });
}

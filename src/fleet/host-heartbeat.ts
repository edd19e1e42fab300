/**
 * A daemon on a shared store says it is alive: every 5 s it sets its row of `clawpulse_hosts`
 * (`heartbeat_at` = the database's now(), `health` = the summary of its /health), so `clawpulse
 * serve` shows each host's sources and which hosts went quiet (fleet-hosts.ts).
 *
 * Its own small async pool, apart from the store's writer: a heartbeat never waits behind a batch.
 * A database that is down costs a log line per kind of failure, never the daemon; the next beat
 * tries again. Beats never overlap (the next is scheduled when one ends).
 */
import pg from 'pg';
import { type Clock, systemClock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { HealthReport } from '../server/health.js';
import { HEARTBEAT_MS, type HostHealth } from './fleet-hosts.js';

export interface HostHeartbeatOptions {
  url: string;
  host: string;
  health: () => HealthReport;
  logger: Logger;
  clock?: Clock;
  intervalMs?: number;
}

export interface HostHeartbeat {
  /** one beat now; false when the database did not take it */
  beat(): Promise<boolean>;
  stop(): Promise<void>;
}

/** what of /health goes into the hosts table: enough for the fleet's source health, nothing bulky */
export function heartbeatHealth(h: HealthReport): HostHealth {
  return {
    status: h.status,
    ...(h.version ? { version: h.version } : {}),
    uptimeMs: h.uptimeMs,
    sources: h.sources,
    sinks: h.sinks.map((s) => ({
      id: s.id,
      kind: s.kind,
      breaker: s.breaker,
      ...(s.lastError !== undefined ? { lastError: s.lastError } : {}),
    })),
    sessions: h.sessions,
    store: {
      events: h.store.events,
      lastSeq: h.store.lastSeq,
      ...(h.store.error ? { error: h.store.error } : {}),
    },
  };
}

export function startHostHeartbeat(opts: HostHeartbeatOptions): HostHeartbeat {
  const clock = opts.clock ?? systemClock;
  const intervalMs = opts.intervalMs ?? HEARTBEAT_MS;
  const log = opts.logger.child({ part: 'heartbeat' });
  const pool = new pg.Pool({ connectionString: opts.url, max: 1, connectionTimeoutMillis: 3000 });
  pool.on('error', (err) => log.warn({ err: err.message }, 'heartbeat connection failed'));
  let stopped = false;
  let timer: unknown;
  let inFlight: Promise<boolean> | undefined;
  let failing: string | undefined;

  async function beatOnce(): Promise<boolean> {
    try {
      const health = JSON.stringify(heartbeatHealth(opts.health()));
      await pool.query(
        'UPDATE clawpulse_hosts SET heartbeat_at = now(), health = $2::jsonb WHERE host = $1',
        [opts.host, health],
      );
      if (failing) log.info('heartbeat written again');
      failing = undefined;
      return true;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (message !== failing)
        log.warn({ err: message }, 'heartbeat not written (the fleet view may show this host stale)');
      failing = message;
      return false;
    }
  }

  function beat(): Promise<boolean> {
    inFlight ??= beatOnce().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  function schedule(): void {
    if (stopped) return;
    timer = clock.setTimeout(async () => {
      await beat();
      schedule();
    }, intervalMs);
  }

  void beat().then(schedule);

  return {
    beat,
    async stop() {
      stopped = true;
      clock.clearTimeout(timer);
      await inFlight;
      await pool.end().catch(() => {});
    },
  };
}

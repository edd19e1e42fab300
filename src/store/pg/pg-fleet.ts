/**
 * The shared store's side of fleet-wide budgets (`src/alerts/shared-fleet.ts`):
 *
 * - spend: every host's (or the other hosts') spend per day and agent and per month, read from
 *   the usage aggregate (`pg-usage.ts`' tables, which every host folds its own events into);
 * - leadership: one daemon of the fleet decides the fleet-wide budget alerts. It holds a
 *   session-level advisory lock on the store's own connection; PostgreSQL drops it with the
 *   connection (the daemon stopped, was killed, or lost the database), and the next daemon whose
 *   tick tries takes it. The lock uses the two-int4 key space, which never meets the hosts'
 *   leases (one bigint key each, `pg-host-lease.ts`).
 */
import type { HostSpend, SharedFleet, SpendQuery } from '../../alerts/shared-fleet.js';
import type { SyncPg } from './sync-pg.js';

/** 'claw' and 1: the fleet-alerts lock (two int4 keys) */
const LOCK = '1668047223, 1';

/** after a failed database call, the next try waits this long: a hung server blocks each call up to its timeout */
const RETRY_AFTER_MS = 5000;

const DAYS = `SELECT d.host, d.day, COALESCE(s.agent, '') AS agent, SUM(d.cost) AS usd
  FROM clawpulse_usage_days d
  LEFT JOIN clawpulse_usage_sessions s ON s.host = d.host AND s.session_key = d.session_key
  WHERE d.day >= $1 AND d.day < '9999' AND ($2::text IS NULL OR d.host <> $2)
  GROUP BY 1, 2, 3`;
const MONTHS = `SELECT d.host, substr(d.day, 1, 7) AS month, SUM(d.cost) AS usd
  FROM clawpulse_usage_days d
  WHERE d.day >= $1 AND d.day < '9999' AND ($2::text IS NULL OR d.host <> $2)
  GROUP BY 1, 2`;

export function createPgFleet(pg: SyncPg, host: string, now: () => number = Date.now): SharedFleet {
  let held = false;
  /** the connection the lock was taken on: a new one has lost it */
  let conn = 0;
  let retryAt = 0;

  return {
    host,
    spend(q: SpendQuery): HostSpend {
      const other = q.othersOnly ? host : null;
      const days = q.fromDay
        ? pg
            .query<{ host: string; day: string; agent: string; usd: number | string }>(DAYS, [
              q.fromDay,
              other,
            ])
            .map((r) => ({ host: r.host, day: r.day, agent: r.agent, usd: Number(r.usd) }))
        : [];
      const months = q.fromMonth
        ? pg
            .query<{ host: string; month: string; usd: number | string }>(MONTHS, [
              `${q.fromMonth}-01`,
              other,
            ])
            .map((r) => ({ host: r.host, month: r.month, usd: Number(r.usd) }))
        : [];
      return { days, months };
    },
    lead() {
      if (now() < retryAt) return false;
      try {
        if (held) {
          // a statement on the connection: one that dropped is made again, with a new number
          pg.query('SELECT 1');
          if (pg.connection() === conn) return true;
          held = false;
        }
        const [r] = pg.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${LOCK}) AS ok`);
        if (r?.ok === true) {
          held = true;
          conn = pg.connection();
        }
        return held;
      } catch {
        // unreachable or timed out (sync-pg dropped the connection, and the lock with it)
        held = false;
        retryAt = now() + RETRY_AFTER_MS;
        return false;
      }
    },
    release() {
      if (!held) return;
      held = false;
      try {
        if (pg.connection() === conn) pg.query(`SELECT pg_advisory_unlock(${LOCK})`);
      } catch {
        // the connection is gone, and the lock with it
      }
    },
  };
}

/**
 * Alerts in the shared PostgreSQL store: the same contract as the SQLite ones
 * (`../alert-store.ts`, `../alert-store.contract.ts`), per host: every row carries the host id
 * (CLAWPULSE_HOST), so each daemon records, resolves and lists its own alerts; a fleet reader
 * (`allHosts`) lists and counts every host's, each alert with `host` = the host that recorded it.
 *
 * `resolve` is one UPDATE … WHERE state = 'firing' RETURNING: two processes resolving the same
 * alert cannot both succeed, and no transaction is held open around it.
 */
import { ALERT_RULES, type Alert, type AlertRule } from '../../alerts/alert.js';
import { type AlertCounts, type AlertFilter, type AlertStore, listLimit } from '../alert-store.js';
import { StoreError } from '../sqlite-open.js';
import { applyMigrations, type Migration, registerMigrations } from './migrations.js';
import { openSyncPg, type SyncPg } from './sync-pg.js';

/** the alerts table, a versioned migration (migrations.ts: alerts have ids 0200-0299) */
export const ALERTS_MIGRATION: Migration = {
  id: '0200-alerts',
  sql: `
CREATE TABLE IF NOT EXISTS clawpulse_alerts (
  host TEXT NOT NULL,
  id TEXT NOT NULL,
  rule TEXT NOT NULL,
  state TEXT NOT NULL,
  session_key TEXT,
  fired_at BIGINT NOT NULL,
  resolved_at BIGINT,
  body JSONB NOT NULL,
  PRIMARY KEY (host, id)
);
CREATE INDEX IF NOT EXISTS clawpulse_alerts_by_state ON clawpulse_alerts (host, state, fired_at);
CREATE INDEX IF NOT EXISTS clawpulse_alerts_by_session ON clawpulse_alerts (host, session_key);
`,
};
registerMigrations(ALERTS_MIGRATION);

export interface PgAlertsOptions {
  /** list and count every host's alerts (a fleet reader); writes stay this host's */
  allHosts?: boolean;
}

export function createPgAlerts(pg: SyncPg, host: string, opts: PgAlertsOptions = {}): AlertStore {
  const guarded = <T>(what: string, f: () => T): T => {
    try {
      return f();
    } catch (err) {
      if (err instanceof StoreError) throw err;
      const e = err as { code?: string; message?: string };
      throw new StoreError(
        `alerts (host ${host}): ${what} failed: ${e.message ?? String(err)}`,
        pg.url,
        e.code,
        {
          cause: err,
        },
      );
    }
  };
  // JSONB comes back parsed; a number column as a string (BIGINT) is never read from the body
  const bodyOf = (r: { body: unknown }): Alert =>
    (typeof r.body === 'string' ? JSON.parse(r.body) : r.body) as Alert;
  const put = (q: SyncPg, a: Alert) =>
    q.query(
      `INSERT INTO clawpulse_alerts (host, id, rule, state, session_key, fired_at, resolved_at, body)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)
       ON CONFLICT (host, id) DO UPDATE SET rule = excluded.rule, state = excluded.state,
         session_key = excluded.session_key, fired_at = excluded.fired_at,
         resolved_at = excluded.resolved_at, body = excluded.body`,
      [host, a.id, a.rule, a.state, a.sessionKey ?? null, a.firedAt, a.resolvedAt ?? null, JSON.stringify(a)],
    );
  const scope = (params: unknown[]): string => {
    if (opts.allHosts) return 'TRUE';
    params.push(host);
    return `host = $${params.length}`;
  };

  return {
    record: (alert) => guarded(`recording ${alert.id}`, () => void put(pg, alert)),
    resolve: (id, at, message) =>
      guarded(`resolving ${id}`, () => {
        const patch: Record<string, unknown> = {
          state: 'resolved',
          resolvedAt: at,
          ...(message ? { message } : {}),
        };
        const rows = pg.query<{ body: unknown }>(
          `UPDATE clawpulse_alerts SET state = 'resolved', resolved_at = $3, body = body || $4::jsonb
           WHERE host = $1 AND id = $2 AND state = 'firing' RETURNING body`,
          [host, id, at, JSON.stringify(patch)],
        );
        return rows[0] ? bodyOf(rows[0]) : undefined;
      }),
    get: (id) =>
      guarded(`reading ${id}`, () => {
        const rows = pg.query<{ body: unknown }>(
          'SELECT body FROM clawpulse_alerts WHERE host = $1 AND id = $2',
          [host, id],
        );
        return rows[0] ? bodyOf(rows[0]) : undefined;
      }),
    list: (filter: AlertFilter = {}) =>
      guarded('listing', () => {
        const params: unknown[] = [];
        const where = [scope(params)];
        const add = (cond: (n: number) => string, v: unknown) => {
          params.push(v);
          where.push(cond(params.length));
        };
        if (filter.state) add((n) => `state = $${n}`, filter.state);
        if (filter.rule) add((n) => `rule = $${n}`, filter.rule);
        if (filter.sessionKey) add((n) => `session_key = $${n}`, filter.sessionKey);
        if (filter.since !== undefined) add((n) => `fired_at >= $${n}`, filter.since);
        params.push(listLimit(filter.limit));
        const rows = pg.query<{ host: string; body: unknown }>(
          `SELECT host, body FROM clawpulse_alerts WHERE ${where.join(' AND ')}
           ORDER BY (state = 'firing') DESC, COALESCE(resolved_at, fired_at) DESC, id LIMIT $${params.length}`,
          params,
        );
        // a fleet reader says whose each alert is: the host that recorded it (a fleet-wide
        // alert, an error burst or a budget, names no session host of its own)
        return opts.allHosts ? rows.map((r) => ({ ...bodyOf(r), host: r.host })) : rows.map(bodyOf);
      }),
    counts: (): AlertCounts =>
      guarded('counting', () => {
        const params: unknown[] = [];
        const rows = pg.query<{ rule: string; state: string; n: string | number }>(
          `SELECT rule, state, COUNT(*) AS n FROM clawpulse_alerts WHERE ${scope(params)} GROUP BY rule, state`,
          params,
        );
        const firingByRule = Object.fromEntries(ALERT_RULES.map((r) => [r, 0])) as Record<AlertRule, number>;
        let firing = 0;
        let resolved = 0;
        for (const r of rows) {
          const n = Number(r.n);
          if (r.state === 'resolved') resolved += n;
          else if (r.state === 'firing') {
            firing += n;
            if (r.rule in firingByRule) firingByRule[r.rule as AlertRule] += n;
          }
        }
        return { firing, resolved, firingByRule };
      }),
    prune: (before) =>
      guarded('pruning', () => {
        const rows = pg.query<{ n: string | number }>(
          `WITH gone AS (DELETE FROM clawpulse_alerts WHERE host = $1 AND state = 'resolved' AND resolved_at < $2 RETURNING 1)
           SELECT COUNT(*) AS n FROM gone`,
          [host, before],
        );
        return Number(rows[0]?.n ?? 0);
      }),
  };
}

/** alerts over a connection of their own (`clawpulse alerts` without a daemon, tests) */
export function openPgAlerts(
  url: string,
  host: string,
  opts: PgAlertsOptions = {},
): { alerts: AlertStore; close(): void } {
  const pg = openSyncPg(url, { applicationName: `clawpulse-alerts ${host}` });
  try {
    applyMigrations(pg);
    return { alerts: createPgAlerts(pg, host, opts), close: () => pg.close() };
  } catch (err) {
    pg.close();
    throw err;
  }
}

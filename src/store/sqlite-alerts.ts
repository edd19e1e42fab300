/**
 * Alerts in the SQLite store file (`alert-store.ts`): one row per alert, the alert as JSON with
 * the columns the filters need. The table is created here, on first use, like the ledger's.
 *
 * The daemon uses its store's own connection (`beforeWrite` commits the store's open group first,
 * as kv and ledger writes do); `clawpulse alerts` without a daemon opens the file itself.
 */
import type Database from 'better-sqlite3';
import DatabaseCtor from 'better-sqlite3';
import { ALERT_RULES, type Alert, type AlertRule } from '../alerts/alert.js';
import type { AlertCounts, AlertFilter, AlertStore } from './alert-store.js';
import { listLimit } from './alert-store.js';
import { StoreError } from './sqlite-open.js';

export const ALERTS_SCHEMA = `
CREATE TABLE IF NOT EXISTS alerts (
  id TEXT PRIMARY KEY,
  rule TEXT NOT NULL,
  state TEXT NOT NULL,
  session_key TEXT,
  fired_at INTEGER NOT NULL,
  resolved_at INTEGER,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_by_state ON alerts(state, fired_at);
CREATE INDEX IF NOT EXISTS alerts_by_session ON alerts(session_key);
`;

export function createSqliteAlerts(
  db: Database.Database,
  beforeWrite: () => void = () => {},
  opts: { readOnly?: boolean } = {},
): AlertStore {
  if (!opts.readOnly) db.exec(ALERTS_SCHEMA);
  const upsert = db.prepare(
    `INSERT INTO alerts (id, rule, state, session_key, fired_at, resolved_at, body) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT(id) DO UPDATE SET rule = excluded.rule, state = excluded.state, session_key = excluded.session_key,
       fired_at = excluded.fired_at, resolved_at = excluded.resolved_at, body = excluded.body`,
  );
  const selectOne = db.prepare('SELECT body FROM alerts WHERE id = ?');
  const countByRule = db.prepare(
    `SELECT rule, COUNT(*) AS n FROM alerts WHERE state = 'firing' GROUP BY rule`,
  );
  const countResolved = db.prepare(`SELECT COUNT(*) AS n FROM alerts WHERE state = 'resolved'`);
  const deleteOld = db.prepare(`DELETE FROM alerts WHERE state = 'resolved' AND resolved_at < ?`);

  const write = <T>(what: string, f: () => T): T => {
    try {
      beforeWrite();
      return f();
    } catch (err) {
      if (err instanceof StoreError) throw err;
      const e = err as { code?: string; message?: string };
      throw new StoreError(`alerts: ${what} failed: ${e.message ?? String(err)}`, db.name, e.code, {
        cause: err,
      });
    }
  };
  const put = (a: Alert) =>
    upsert.run(
      a.id,
      a.rule,
      a.state,
      a.sessionKey ?? null,
      a.firedAt,
      a.resolvedAt ?? null,
      JSON.stringify(a),
    );
  const get = (id: string): Alert | undefined => {
    const r = selectOne.get(id) as { body: string } | undefined;
    return r ? (JSON.parse(r.body) as Alert) : undefined;
  };
  const resolveTx = db.transaction((id: string, at: number, message?: string): Alert | undefined => {
    const a = get(id);
    if (a?.state !== 'firing') return undefined;
    const r: Alert = { ...a, state: 'resolved', resolvedAt: at, ...(message ? { message } : {}) };
    put(r);
    return r;
  });

  return {
    record: (alert) => write(`recording ${alert.id}`, () => void put(alert)),
    resolve: (id, at, message) => write(`resolving ${id}`, () => resolveTx.immediate(id, at, message)),
    get,
    list(filter: AlertFilter = {}) {
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (cond: string, v: unknown) => {
        where.push(cond);
        params.push(v);
      };
      if (filter.state) add('state = ?', filter.state);
      if (filter.rule) add('rule = ?', filter.rule);
      if (filter.sessionKey) add('session_key = ?', filter.sessionKey);
      if (filter.since !== undefined) add('fired_at >= ?', filter.since);
      const sql = `SELECT body FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY (state = 'firing') DESC, COALESCE(resolved_at, fired_at) DESC, id LIMIT ?`;
      params.push(listLimit(filter.limit));
      return (db.prepare(sql).all(...params) as Array<{ body: string }>).map(
        (r) => JSON.parse(r.body) as Alert,
      );
    },
    counts(): AlertCounts {
      const firingByRule = Object.fromEntries(ALERT_RULES.map((r) => [r, 0])) as Record<AlertRule, number>;
      let firing = 0;
      for (const r of countByRule.all() as Array<{ rule: string; n: number }>) {
        if (r.rule in firingByRule) firingByRule[r.rule as AlertRule] = r.n;
        firing += r.n;
      }
      return { firing, resolved: (countResolved.get() as { n: number }).n, firingByRule };
    },
    prune: (before) => write('pruning', () => deleteOld.run(before).changes),
  };
}

/**
 * A CLI process's own connection to the store file's alerts (`clawpulse alerts` with no daemon
 * running). Read-only: a store that never had an alert has no table, which lists nothing.
 */
export function openAlertsFile(path: string): { alerts: AlertStore; close(): void } {
  const db = new DatabaseCtor(path, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alerts'").get();
  if (!has) return { alerts: emptyAlerts(), close: () => db.close() };
  return { alerts: createSqliteAlerts(db, () => {}, { readOnly: true }), close: () => db.close() };
}

function emptyAlerts(): AlertStore {
  const refuse = () => {
    throw new Error('alerts: read-only view');
  };
  return {
    record: refuse,
    resolve: refuse,
    get: () => undefined,
    list: () => [],
    counts: () => ({
      firing: 0,
      resolved: 0,
      firingByRule: Object.fromEntries(ALERT_RULES.map((r) => [r, 0])) as Record<AlertRule, number>,
    }),
    prune: refuse,
  };
}

/**
 * The usage aggregate (`usage-store.ts`) in the SQLite store file: its own three tables, written
 * on the store's connection inside the store's open group (so rows and watermark commit with the
 * events they count: see usage-store.ts), folded by `src/usage/fold.ts`.
 */
import type Database from 'better-sqlite3';
import type { StoredEvent } from '../model/events.js';
import {
  CACHED_ATTRS,
  createUsageFolder,
  type DayRow,
  FOLD_PAGE,
  foldStoredRange,
  type SessionAttrs,
} from '../usage/fold.js';
import { dayBounds, orderRows } from '../usage/group.js';
import type { AgentModelUsage, UsageGroupBy, UsageQuery, UsageRow, UsageStore } from './usage-store.js';

export const USAGE_SCHEMA = `
CREATE TABLE IF NOT EXISTS usage_days (
  day TEXT NOT NULL,
  session_key TEXT NOT NULL,
  model TEXT NOT NULL,
  input INTEGER NOT NULL DEFAULT 0,
  output INTEGER NOT NULL DEFAULT 0,
  cache_read INTEGER NOT NULL DEFAULT 0,
  cache_write INTEGER NOT NULL DEFAULT 0,
  reasoning INTEGER NOT NULL DEFAULT 0,
  cost REAL NOT NULL DEFAULT 0,
  cost_est REAL NOT NULL DEFAULT 0,
  runs INTEGER NOT NULL DEFAULT 0,
  tool_calls INTEGER NOT NULL DEFAULT 0,
  failed_tools INTEGER NOT NULL DEFAULT 0,
  errors INTEGER NOT NULL DEFAULT 0,
  active_ms INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (day, session_key, model)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS usage_sessions (
  session_key TEXT PRIMARY KEY,
  agent TEXT NOT NULL, label TEXT NOT NULL, channel TEXT NOT NULL, repo TEXT NOT NULL,
  host TEXT NOT NULL, gateway TEXT NOT NULL, model TEXT NOT NULL,
  last_ts INTEGER NOT NULL, err_run TEXT NOT NULL, err_kind TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS usage_state (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
`;

/** what the store gives its usage aggregate */
export interface UsageStoreHooks {
  /** runs a write in the store's open group (committed with the events) */
  write<T>(fn: () => T): T;
  /** commits the open group (before the tables are created, outside any group) */
  flush(): void;
  /** stored events after a seq (the catch-up reads them) */
  readAfter(after: number, limit: number): StoredEvent[];
  /** false while the disk refuses writes (the store holds events in memory): folded later */
  canWrite(): boolean;
}

/** SQL column of each grouping (week and month computed from the day) */
export const SQLITE_GROUP_KEY: Record<UsageGroupBy, string> = {
  day: 'd.day',
  week: "date(d.day, 'weekday 0', '-6 days')",
  month: 'substr(d.day, 1, 7)',
  agent: "COALESCE(s.agent, '')",
  model: 'd.model',
  channel: "COALESCE(s.channel, '')",
  label: "COALESCE(s.label, '')",
  repo: "COALESCE(s.repo, '')",
  host: "COALESCE(s.host, '')",
  gateway: "COALESCE(s.gateway, '')",
  session: 'd.session_key',
};

/** groupings by a session attribute read usage_sessions; the others need no join */
export const joinFor = (by: UsageGroupBy): string =>
  by === 'day' || by === 'week' || by === 'month' || by === 'model' || by === 'session'
    ? ''
    : 'LEFT JOIN usage_sessions s ON s.session_key = d.session_key';

/** the SELECT list of a report (same in SQLite and PostgreSQL) */
export const REPORT_COLUMNS = `SUM(d.input) AS input, SUM(d.output) AS output, SUM(d.cache_read) AS "cacheRead",
  SUM(d.cache_write) AS "cacheWrite", SUM(d.reasoning) AS reasoning, SUM(d.cost) AS "costUsd",
  SUM(d.cost_est) AS "estimatedCostUsd", SUM(d.runs) AS runs, SUM(d.tool_calls) AS "toolCalls",
  SUM(d.failed_tools) AS "failedTools", SUM(d.errors) AS errors, SUM(d.active_ms) AS "activeMs",
  COUNT(DISTINCT d.session_key) AS sessions`;

/** a report row from SQL (numbers may come back as strings from PostgreSQL) */
export function rowFromSql(r: Record<string, unknown>): UsageRow {
  const num = (k: string): number => Number(r[k] ?? 0);
  const row: UsageRow = {
    key: String(r.key ?? ''),
    input: num('input'),
    output: num('output'),
    cacheRead: num('cacheRead'),
    cacheWrite: num('cacheWrite'),
    reasoning: num('reasoning'),
    totalTokens: 0,
    costUsd: num('costUsd'),
    estimatedCostUsd: num('estimatedCostUsd'),
    runs: num('runs'),
    toolCalls: num('toolCalls'),
    failedTools: num('failedTools'),
    errors: num('errors'),
    activeMs: num('activeMs'),
    sessions: num('sessions'),
  };
  row.totalTokens = row.input + row.output + row.cacheRead + row.cacheWrite + row.reasoning;
  return row;
}

export const dayRowParams = (r: DayRow): unknown[] => [
  r.day,
  r.sessionKey,
  r.model,
  r.input,
  r.output,
  r.cacheRead,
  r.cacheWrite,
  r.reasoning,
  r.cost,
  r.costEst,
  r.runs,
  r.toolCalls,
  r.failedTools,
  r.errors,
  r.activeMs,
];

export const attrsParams = (key: string, a: SessionAttrs): unknown[] => [
  key,
  a.agent,
  a.label,
  a.channel,
  a.repo,
  a.host,
  a.gateway,
  a.model,
  a.lastTs,
  a.errRun,
  a.errKind,
];

export const attrsFromSql = (r: Record<string, unknown>): SessionAttrs => ({
  agent: String(r.agent ?? ''),
  label: String(r.label ?? ''),
  channel: String(r.channel ?? ''),
  repo: String(r.repo ?? ''),
  host: String(r.host ?? ''),
  gateway: String(r.gateway ?? ''),
  model: String(r.model ?? ''),
  lastTs: Number(r.last_ts ?? 0),
  errRun: String(r.err_run ?? ''),
  errKind: String(r.err_kind ?? ''),
});

/** upserts shared by both SQL dialects ($n placeholders are rewritten to ? for SQLite) */
export const UPSERT_DAY = `INSERT INTO usage_days (day, session_key, model, input, output, cache_read, cache_write,
  reasoning, cost, cost_est, runs, tool_calls, failed_tools, errors, active_ms)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
  ON CONFLICT (day, session_key, model) DO UPDATE SET input = usage_days.input + excluded.input,
  output = usage_days.output + excluded.output, cache_read = usage_days.cache_read + excluded.cache_read,
  cache_write = usage_days.cache_write + excluded.cache_write, reasoning = usage_days.reasoning + excluded.reasoning,
  cost = usage_days.cost + excluded.cost, cost_est = usage_days.cost_est + excluded.cost_est,
  runs = usage_days.runs + excluded.runs, tool_calls = usage_days.tool_calls + excluded.tool_calls,
  failed_tools = usage_days.failed_tools + excluded.failed_tools, errors = usage_days.errors + excluded.errors,
  active_ms = usage_days.active_ms + excluded.active_ms`;
export const UPSERT_SESSION = `INSERT INTO usage_sessions (session_key, agent, label, channel, repo, host, gateway,
  model, last_ts, err_run, err_kind) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
  ON CONFLICT (session_key) DO UPDATE SET agent = excluded.agent, label = excluded.label,
  channel = excluded.channel, repo = excluded.repo, host = excluded.host, gateway = excluded.gateway,
  model = excluded.model, last_ts = excluded.last_ts, err_run = excluded.err_run, err_kind = excluded.err_kind`;

export const BY_AGENT_MODEL = `SELECT COALESCE(s.agent, '') AS agent, d.model AS key, ${REPORT_COLUMNS}
  FROM usage_days d LEFT JOIN usage_sessions s ON s.session_key = d.session_key GROUP BY 1, 2 ORDER BY 1, 2`;

export const agentModelFromSql = (r: Record<string, unknown>): AgentModelUsage => {
  const { key, ...totals } = rowFromSql(r);
  return { agent: String(r.agent ?? ''), model: key, ...totals };
};

const toQ = (sql: string): string => sql.replace(/\$\d+/g, '?');

export function createSqliteUsage(db: Database.Database, hooks: UsageStoreHooks): UsageStore {
  const exists = db
    .prepare("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'usage_state'")
    .pluck()
    .get();
  if (!exists) {
    hooks.flush();
    db.exec(USAGE_SCHEMA);
  }
  const selectSeq = db.prepare("SELECT value FROM usage_state WHERE name = 'seq'").pluck();
  const setSeq = db.prepare(
    "INSERT INTO usage_state (name, value) VALUES ('seq', ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
  );
  const upsertDay = db.prepare(toQ(UPSERT_DAY));
  const upsertSession = db.prepare(toQ(UPSERT_SESSION));
  const selectAttrs = db.prepare('SELECT * FROM usage_sessions WHERE session_key = ?');
  const reports = new Map<UsageGroupBy, Database.Statement>();
  let byAgentModel: Database.Statement | undefined;

  const cache = new Map<string, SessionAttrs>();
  const folder = createUsageFolder((key) => {
    const r = selectAttrs.get(key) as Record<string, unknown> | undefined;
    return r ? attrsFromSql(r) : undefined;
  }, cache);
  /** the watermark this process last wrote: another value in the table means another writer */
  let known: number | undefined;

  const stored = (): number => Number(selectSeq.get() ?? 0);

  /** inside the write: the watermark, with the cache dropped when someone else moved it */
  function begin(): number {
    const w = stored();
    if (w !== known) cache.clear();
    return w;
  }

  function commitFold(upTo: number): void {
    for (const r of folder.takeRows()) upsertDay.run(dayRowParams(r));
    for (const [k, a] of folder.takeAttrs()) upsertSession.run(attrsParams(k, a));
    setSeq.run(upTo);
    known = upTo;
    if (cache.size > CACHED_ATTRS) cache.clear();
  }

  /** folds stored events in (from, to] from the store; the last seq folded */
  const foldStored = (from: number, to: number): number => foldStoredRange(hooks.readAfter, folder, from, to);

  function forget(): void {
    // a failed write left rows half-folded in memory: drop them (the watermark did not move)
    folder.takeRows();
    folder.takeAttrs();
    cache.clear();
    known = undefined;
  }

  return {
    record(events) {
      if (!events.length || !hooks.canWrite()) return;
      const last = (events[events.length - 1] as StoredEvent).seq;
      try {
        hooks.write(() => {
          const w = begin();
          if (last <= w) return;
          const first = (events[0] as StoredEvent).seq;
          // a gap (a write that failed, events stored by another process): read it from the store
          if (first > w + 1) foldStored(w, first - 1);
          for (const s of events) if (s.seq > w) folder.fold(s.event);
          commitFold(last);
        });
      } catch (err) {
        forget();
        throw err;
      }
    },
    catchUp() {
      if (!hooks.canWrite()) return 0;
      let total = 0;
      try {
        for (;;) {
          const done = hooks.write(() => {
            const w = begin();
            const to = foldStored(w, w + FOLD_PAGE * 10);
            if (to === w) return 0;
            commitFold(to);
            return to - w;
          });
          if (!done) break;
          total += done;
          // commits between slices: a backfill of millions of events holds no group for long
          hooks.flush();
        }
      } catch (err) {
        forget();
        throw err;
      }
      return total;
    },
    appliedSeq: stored,
    report(q: UsageQuery): UsageRow[] {
      let stmt = reports.get(q.by);
      if (!stmt) {
        stmt = db.prepare(
          `SELECT ${SQLITE_GROUP_KEY[q.by]} AS key, ${REPORT_COLUMNS}
           FROM usage_days d ${joinFor(q.by)} WHERE d.day >= ? AND d.day < ? GROUP BY 1`,
        );
        reports.set(q.by, stmt);
      }
      const [from, to] = dayBounds(q);
      const rows = (stmt.all(from, to) as Array<Record<string, unknown>>).map(rowFromSql);
      return orderRows(q.by, rows, q.limit);
    },
    byAgentModel() {
      byAgentModel ??= db.prepare(BY_AGENT_MODEL);
      return (byAgentModel.all() as Array<Record<string, unknown>>).map(agentModelFromSql);
    },
  };
}

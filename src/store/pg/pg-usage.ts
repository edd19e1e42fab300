/**
 * The usage aggregate (`../usage-store.ts`) in the PostgreSQL store: rows per host, UTC day,
 * session and model, folded by `src/usage/fold.ts` like the SQLite one; reports read every host
 * (the fleet's usage).
 *
 * Exactness: the rows and the host's watermark (the last seq folded) are written in one
 * transaction after the events they count are committed (`PgStore.writeAfterEvents`), and only
 * seqs above the watermark read inside that transaction (row-locked) are folded. A fold that
 * never reached the database (a crash, the database down) leaves the watermark where it was: the
 * next write, or `catchUp` at start, folds those events from the store.
 *
 * Group commit: writing after every batch would commit the events' group each time, so `record`
 * keeps the batches' events in memory and writes them at most every `writeEveryMs` (1 s), past
 * `maxPending` events, or before a report. What is kept is only a copy: losing it loses nothing.
 */
import type { StoredEvent } from '../../model/events.js';
import {
  CACHED_ATTRS,
  createUsageFolder,
  type DayRow,
  FOLD_PAGE,
  foldStoredRange,
  type SessionAttrs,
} from '../../usage/fold.js';
import { dayBounds, orderRows } from '../../usage/group.js';
import { agentModelFromSql, attrsFromSql, REPORT_COLUMNS, rowFromSql } from '../sqlite-usage.js';
import type { AgentModelUsage, UsageGroupBy, UsageQuery, UsageRow, UsageStore } from '../usage-store.js';
import { type Migration, registerMigrations } from './migrations.js';
import type { SyncPg } from './sync-pg.js';

/** the usage tables, a versioned migration (migrations.ts: usage has ids 0300-0399) */
export const USAGE_MIGRATION: Migration = {
  id: '0300-usage',
  sql: `
CREATE TABLE IF NOT EXISTS clawpulse_usage_days (
  host TEXT NOT NULL,
  day TEXT NOT NULL,
  session_key TEXT NOT NULL,
  model TEXT NOT NULL,
  input BIGINT NOT NULL DEFAULT 0,
  output BIGINT NOT NULL DEFAULT 0,
  cache_read BIGINT NOT NULL DEFAULT 0,
  cache_write BIGINT NOT NULL DEFAULT 0,
  reasoning BIGINT NOT NULL DEFAULT 0,
  cost DOUBLE PRECISION NOT NULL DEFAULT 0,
  cost_est DOUBLE PRECISION NOT NULL DEFAULT 0,
  runs BIGINT NOT NULL DEFAULT 0,
  tool_calls BIGINT NOT NULL DEFAULT 0,
  failed_tools BIGINT NOT NULL DEFAULT 0,
  errors BIGINT NOT NULL DEFAULT 0,
  active_ms BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (host, day, session_key, model)
);
CREATE INDEX IF NOT EXISTS clawpulse_usage_days_by_day ON clawpulse_usage_days (day);
CREATE TABLE IF NOT EXISTS clawpulse_usage_sessions (
  host TEXT NOT NULL,
  session_key TEXT NOT NULL,
  agent TEXT NOT NULL, label TEXT NOT NULL, channel TEXT NOT NULL, repo TEXT NOT NULL,
  session_host TEXT NOT NULL, gateway TEXT NOT NULL, model TEXT NOT NULL,
  last_ts BIGINT NOT NULL, err_run TEXT NOT NULL, err_kind TEXT NOT NULL,
  PRIMARY KEY (host, session_key)
);
CREATE TABLE IF NOT EXISTS clawpulse_usage_state (host TEXT PRIMARY KEY, seq BIGINT NOT NULL);
`,
};
registerMigrations(USAGE_MIGRATION);

const GROUP_KEY: Record<UsageGroupBy, string> = {
  day: 'd.day',
  week: "to_char(date_trunc('week', d.day::date), 'YYYY-MM-DD')",
  month: 'substr(d.day, 1, 7)',
  agent: "COALESCE(s.agent, '')",
  model: 'd.model',
  channel: "COALESCE(s.channel, '')",
  label: "COALESCE(s.label, '')",
  repo: "COALESCE(s.repo, '')",
  host: 'd.host',
  gateway: "COALESCE(s.gateway, '')",
  // reports read every host's rows: another host's session is `<host>|<key>` (the fleet view's
  // key), so the same OpenClaw key on two hosts (agent:main:main on each) is two rows, not one
  // summing both; the reading host's own sessions keep their plain key (`reportRows`)
  session: "d.host || '|' || d.session_key",
};

const needsJoin = (by: UsageGroupBy): boolean =>
  !['day', 'week', 'month', 'model', 'session', 'host'].includes(by);
const JOIN = 'LEFT JOIN clawpulse_usage_sessions s ON s.host = d.host AND s.session_key = d.session_key';
/** the same session key on two hosts is two sessions */
const COLUMNS = REPORT_COLUMNS.replace(
  'COUNT(DISTINCT d.session_key)',
  "COUNT(DISTINCT d.host || '|' || d.session_key)",
);

const UPSERT_DAYS =
  `INSERT INTO clawpulse_usage_days (host, day, session_key, model, input, output, cache_read,
  cache_write, reasoning, cost, cost_est, runs, tool_calls, failed_tools, errors, active_ms)
  SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[],
    $9::bigint[], $10::float8[], $11::float8[], $12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[], $16::bigint[])
  ON CONFLICT (host, day, session_key, model) DO UPDATE SET input = d.input + excluded.input,
  output = d.output + excluded.output, cache_read = d.cache_read + excluded.cache_read,
  cache_write = d.cache_write + excluded.cache_write, reasoning = d.reasoning + excluded.reasoning,
  cost = d.cost + excluded.cost, cost_est = d.cost_est + excluded.cost_est, runs = d.runs + excluded.runs,
  tool_calls = d.tool_calls + excluded.tool_calls, failed_tools = d.failed_tools + excluded.failed_tools,
  errors = d.errors + excluded.errors, active_ms = d.active_ms + excluded.active_ms`.replace(
    'INSERT INTO clawpulse_usage_days ',
    'INSERT INTO clawpulse_usage_days AS d ',
  );
const UPSERT_SESSIONS = `INSERT INTO clawpulse_usage_sessions (host, session_key, agent, label, channel, repo,
  session_host, gateway, model, last_ts, err_run, err_kind)
  SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
    $9::text[], $10::bigint[], $11::text[], $12::text[])
  ON CONFLICT (host, session_key) DO UPDATE SET agent = excluded.agent, label = excluded.label,
  channel = excluded.channel, repo = excluded.repo, session_host = excluded.session_host,
  gateway = excluded.gateway, model = excluded.model, last_ts = excluded.last_ts, err_run = excluded.err_run,
  err_kind = excluded.err_kind`;

/** text PostgreSQL takes (no NUL) */
const t = (s: string): string => (s.includes('\u0000') ? s.replaceAll('\u0000', '\uFFFD') : s);

export interface PgUsageDeps {
  pg: SyncPg;
  host: string;
  /** commits the store's pending events, then runs fn in a transaction */
  writeAfterEvents<T>(fn: (q: SyncPg) => T): T;
  /** this host's stored events after a seq */
  readAfter(after: number, limit: number): StoredEvent[];
  now?: () => number;
  writeEveryMs?: number;
  maxPending?: number;
}

export function createPgUsage(deps: PgUsageDeps): UsageStore {
  const { pg, host } = deps;
  const now = deps.now ?? Date.now;
  const writeEveryMs = deps.writeEveryMs ?? 1000;
  const maxPending = deps.maxPending ?? 5000;
  const cache = new Map<string, SessionAttrs>();
  let q: SyncPg = pg;
  const folder = createUsageFolder((key) => {
    const r = q.query('SELECT * FROM clawpulse_usage_sessions WHERE host = $1 AND session_key = $2', [
      host,
      t(key),
    ])[0];
    return r ? attrsFromSql({ ...r, host: r.session_host }) : undefined;
  }, cache);
  let known: number | undefined;
  let pending: StoredEvent[] = [];
  let lastWrite = now();

  const watermark = (c: SyncPg, lock: boolean): number =>
    Number(
      c.query<{ seq: number }>(
        `SELECT seq FROM clawpulse_usage_state WHERE host = $1${lock ? ' FOR UPDATE' : ''}`,
        [host],
      )[0]?.seq ?? 0,
    );

  function writeRows(c: SyncPg, rows: DayRow[]): void {
    if (!rows.length) return;
    const col = <K extends keyof DayRow>(k: K) => rows.map((r) => r[k]);
    c.query(UPSERT_DAYS, [
      host,
      col('day'),
      rows.map((r) => t(r.sessionKey)),
      rows.map((r) => t(r.model)),
      col('input'),
      col('output'),
      col('cacheRead'),
      col('cacheWrite'),
      col('reasoning'),
      col('cost'),
      col('costEst'),
      col('runs'),
      col('toolCalls'),
      col('failedTools'),
      col('errors'),
      col('activeMs'),
    ]);
  }

  function writeAttrs(c: SyncPg, attrs: Array<[string, SessionAttrs]>): void {
    if (!attrs.length) return;
    const col = (k: keyof SessionAttrs) =>
      attrs.map(([, a]) => (typeof a[k] === 'string' ? t(a[k] as string) : a[k]));
    c.query(UPSERT_SESSIONS, [
      host,
      attrs.map(([k]) => t(k)),
      col('agent'),
      col('label'),
      col('channel'),
      col('repo'),
      col('host'),
      col('gateway'),
      col('model'),
      col('lastTs'),
      col('errRun'),
      col('errKind'),
    ]);
  }

  /** folds stored events in (from, to] from the store; the last seq folded */
  const foldStored = (from: number, to: number): number => foldStoredRange(deps.readAfter, folder, from, to);

  /** one transaction: the pending events (and any gap before them, or up to `upTo`) folded and written */
  function write(upTo?: number): number {
    const events = pending;
    let folded = 0;
    try {
      folded = deps.writeAfterEvents((c) => {
        q = c;
        const w = watermark(c, true);
        if (w !== known) cache.clear();
        let last = w;
        const first = events[0]?.seq;
        const gapTo = first !== undefined ? first - 1 : (upTo ?? w);
        if (gapTo > w) last = foldStored(w, gapTo);
        for (const s of events) {
          if (s.seq <= last) continue;
          folder.fold(s.event);
          last = s.seq;
        }
        if (last === w) return 0;
        writeRows(c, folder.takeRows());
        writeAttrs(c, folder.takeAttrs());
        c.query(
          'INSERT INTO clawpulse_usage_state (host, seq) VALUES ($1, $2) ON CONFLICT (host) DO UPDATE SET seq = excluded.seq',
          [host, last],
        );
        known = last;
        return last - w;
      });
      pending = [];
      lastWrite = now();
    } catch (err) {
      folder.takeRows();
      folder.takeAttrs();
      cache.clear();
      known = undefined;
      // nothing written: the events stay for the next try (bounded: past it they are read again from the store)
      if (pending.length > maxPending * 4) pending = [];
      throw err;
    } finally {
      q = pg;
      if (cache.size > CACHED_ATTRS) cache.clear();
    }
    return folded;
  }

  const flushPending = (): void => {
    if (pending.length) write();
  };

  return {
    record(events) {
      // no events (the pipeline's tick): what a quiet daemon folded last is written once its
      // second is up, so other processes (serve, `clawpulse usage`) see it without a next batch
      for (const e of events) pending.push(e);
      if (!pending.length) return;
      if (pending.length >= maxPending || now() - lastWrite >= writeEveryMs) write();
    },
    catchUp() {
      let total = 0;
      if (pending.length) total += write();
      for (;;) {
        const w = watermark(pg, false);
        const n = write(w + FOLD_PAGE * 10);
        if (!n) break;
        total += n;
      }
      return total;
    },
    appliedSeq() {
      flushPending();
      return watermark(pg, false);
    },
    report(qy: UsageQuery): UsageRow[] {
      flushPending();
      return reportRows(pg, qy, host);
    },
    byAgentModel() {
      flushPending();
      return agentModelRows(pg);
    },
  };
}

/** every host's rows of a period, grouped as asked; `own`: the host whose session keys stay plain */
function reportRows(pg: SyncPg, qy: UsageQuery, own?: string): UsageRow[] {
  const [from, to] = dayBounds(qy);
  const params: unknown[] = [from, to];
  let key = GROUP_KEY[qy.by];
  if (qy.by === 'session' && own !== undefined) {
    params.push(own);
    key = `CASE WHEN d.host = $3 THEN d.session_key ELSE ${key} END`;
  }
  const rows = pg
    .query(
      `SELECT ${key} AS key, ${COLUMNS} FROM clawpulse_usage_days d ${needsJoin(qy.by) ? JOIN : ''}
       WHERE d.day >= $1 AND d.day < $2 GROUP BY 1`,
      params,
    )
    .map(rowFromSql);
  return orderRows(qy.by, rows, qy.limit);
}

/** every host's totals per agent and model (the /metrics counters) */
function agentModelRows(pg: SyncPg): AgentModelUsage[] {
  return pg
    .query(
      `SELECT COALESCE(s.agent, '') AS agent, d.model AS key, ${COLUMNS} FROM clawpulse_usage_days d ${JOIN}
       GROUP BY 1, 2 ORDER BY 1, 2`,
    )
    .map(agentModelFromSql);
}

/**
 * The fleet's usage for a process that folds nothing (`clawpulse serve`): the reports of every
 * host's rows, as folded by each host's daemon. Recording or catching up is the daemons' (each
 * folds its own host's events under the watermark it holds), so those throw here.
 */
export function createPgUsageReader(pg: SyncPg): UsageStore {
  const notHere = (what: string): never => {
    throw new Error(
      `usage ${what}: the fleet's usage is folded by each host's daemon; this reader only reports`,
    );
  };
  return {
    record: () => notHere('record'),
    catchUp: () => notHere('catch-up'),
    appliedSeq: () => notHere('watermark'),
    report: (qy) => reportRows(pg, qy),
    byAgentModel: () => agentModelRows(pg),
  };
}

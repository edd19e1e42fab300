/**
 * A usage report as `clawpulse usage` and `/api/usage` give it: the parameters parsed the same
 * way for both (`parseUsageParams`), the rows of the period, its total, and with
 * `compare: 'previous'` the period of the same length just before it and the change.
 *
 * Periods are whole UTC days: `since` 7d = the last 7 days with today; a date (YYYY-MM-DD) is
 * that day's start; `until` a date includes that day; left out: through today.
 */
import {
  USAGE_GROUPS,
  type UsageGroupBy,
  type UsageRow,
  type UsageStore,
  type UsageTotals,
} from '../store/usage-store.js';
import { dayOf } from './fold.js';
import { addTotals, emptyTotals, isTimeGroup } from './group.js';

const DAY_MS = 86_400_000;

export class UsageParamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageParamError';
  }
}

export interface UsageParams {
  by: UsageGroupBy;
  /** epoch ms, start of a UTC day */
  since: number;
  /** epoch ms, start of a UTC day (exclusive) */
  until: number;
  compare: boolean;
  limit?: number;
}

export interface RawUsageParams {
  by?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  compare?: string | boolean | undefined;
  limit?: string | number | undefined;
}

const startOfDay = (t: number): number => Math.floor(t / DAY_MS) * DAY_MS;

/** '7d', '2w', '2026-11-01' → the start of that UTC day; `end`: a date means through that day */
export function parsePoint(text: string, now: number, end: boolean, name: string): number {
  const t = text.trim();
  const rel = /^(\d+)\s*([dw])$/i.exec(t);
  if (rel) {
    const days = Number(rel[1]) * ((rel[2] as string).toLowerCase() === 'w' ? 7 : 1);
    if (days < 1) throw new UsageParamError(`${name} ${text}: at least 1d`);
    // the last N days, today included
    return startOfDay(now) - (days - (end ? 0 : 1)) * DAY_MS;
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(t)) {
    const d = Date.parse(`${t}T00:00:00Z`);
    if (Number.isNaN(d) || dayOf(d) !== t) throw new UsageParamError(`${name} ${text}: not a date`);
    return end ? d + DAY_MS : d;
  }
  throw new UsageParamError(
    `${name} ${text}: expected a number of days back (7d, 2w) or a date (2026-11-01)`,
  );
}

export function parseUsageParams(raw: RawUsageParams, now: number): UsageParams {
  const by = (raw.by ?? 'day').trim().toLowerCase();
  if (!(USAGE_GROUPS as readonly string[]).includes(by))
    throw new UsageParamError(`--by ${raw.by}: expected one of ${USAGE_GROUPS.join(', ')}`);
  const until = raw.until ? parsePoint(raw.until, now, true, '--until') : startOfDay(now) + DAY_MS;
  const since = raw.since ? parsePoint(raw.since, now, false, '--since') : until - 7 * DAY_MS;
  if (since >= until)
    throw new UsageParamError(`--since ${raw.since ?? ''} is not before --until ${raw.until ?? ''}`);
  const cmp = raw.compare;
  let compare = false;
  if (cmp === true || cmp === 'previous' || cmp === 'true' || cmp === '1') compare = true;
  else if (cmp !== undefined && cmp !== false && cmp !== '' && cmp !== 'false' && cmp !== '0')
    throw new UsageParamError(`--compare ${String(cmp)}: expected previous`);
  const p: UsageParams = { by: by as UsageGroupBy, since, until, compare };
  if (raw.limit !== undefined && raw.limit !== '') {
    const n = Number(raw.limit);
    if (!Number.isInteger(n) || n < 1)
      throw new UsageParamError(`--limit ${raw.limit}: expected a whole number ≥ 1`);
    p.limit = n;
  }
  return p;
}

export interface UsagePeriod {
  /** YYYY-MM-DD, first day */
  since: string;
  /** YYYY-MM-DD, last day (inclusive) */
  until: string;
  rows: UsageRow[];
  total: UsageTotals;
}

export interface UsageChange {
  costUsd: number;
  totalTokens: number;
  runs: number;
  errors: number;
  /** relative change of cost (0.25 = +25 %); undefined when the previous period cost nothing */
  costRatio?: number;
  tokensRatio?: number;
}

export interface UsageReport extends UsagePeriod {
  by: UsageGroupBy;
  previous?: UsagePeriod & { byKey: Record<string, UsageRow> };
  change?: UsageChange;
}

function period(
  usage: UsageStore,
  by: UsageGroupBy,
  since: number,
  until: number,
  limit?: number,
): UsagePeriod {
  const rows = usage.report({ by, since, until, ...(limit !== undefined ? { limit } : {}) });
  // the total over every group (rows may be cut by the limit): from the day rows
  const days = by === 'day' && limit === undefined ? rows : usage.report({ by: 'day', since, until });
  const total = emptyTotals();
  for (const r of days) addTotals(total, r);
  total.sessions = usage.report({ by: 'session', since, until }).length;
  return { since: dayOf(since), until: dayOf(until - DAY_MS), rows, total };
}

const ratio = (now: number, before: number): number | undefined =>
  before > 0 ? (now - before) / before : undefined;

export function buildUsageReport(usage: UsageStore, p: UsageParams): UsageReport {
  const cur = period(usage, p.by, p.since, p.until, p.limit);
  const report: UsageReport = { by: p.by, ...cur };
  if (!p.compare) return report;
  const len = p.until - p.since;
  const prev = period(usage, p.by, p.since - len, p.since);
  const byKey: Record<string, UsageRow> = {};
  if (!isTimeGroup(p.by)) for (const r of prev.rows) byKey[r.key] = r;
  report.previous = { ...prev, byKey };
  const change: UsageChange = {
    costUsd: cur.total.costUsd - prev.total.costUsd,
    totalTokens: cur.total.totalTokens - prev.total.totalTokens,
    runs: cur.total.runs - prev.total.runs,
    errors: cur.total.errors - prev.total.errors,
  };
  const c = ratio(cur.total.costUsd, prev.total.costUsd);
  if (c !== undefined) change.costRatio = c;
  const t = ratio(cur.total.totalTokens, prev.total.totalTokens);
  if (t !== undefined) change.tokensRatio = t;
  report.change = change;
  return report;
}

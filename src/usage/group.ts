/**
 * Report helpers shared by the store implementations: the empty totals, adding rows, folding
 * day rows into weeks (ISO, starting Monday) and months, and the UTC day bounds of a query.
 */
import type { UsageGroupBy, UsageQuery, UsageRow, UsageTotals } from '../store/usage-store.js';
import { dayOf } from './fold.js';

export const emptyTotals = (): UsageTotals => ({
  input: 0,
  output: 0,
  cacheRead: 0,
  cacheWrite: 0,
  reasoning: 0,
  totalTokens: 0,
  costUsd: 0,
  estimatedCostUsd: 0,
  runs: 0,
  toolCalls: 0,
  failedTools: 0,
  errors: 0,
  activeMs: 0,
  sessions: 0,
});

const SUMMED = [
  'input',
  'output',
  'cacheRead',
  'cacheWrite',
  'reasoning',
  'totalTokens',
  'costUsd',
  'estimatedCostUsd',
  'runs',
  'toolCalls',
  'failedTools',
  'errors',
  'activeMs',
] as const;

/** adds b's counters into a (sessions are not additive: the caller counts them) */
export function addTotals(a: UsageTotals, b: UsageTotals): UsageTotals {
  for (const k of SUMMED) a[k] += b[k];
  return a;
}

/** the Monday (YYYY-MM-DD) of a day's ISO week */
export function weekOf(day: string): string {
  const t = Date.parse(`${day}T00:00:00Z`);
  const dow = (new Date(t).getUTCDay() + 6) % 7; // Monday 0
  return dayOf(t - dow * 86_400_000);
}

export const monthOf = (day: string): string => day.slice(0, 7);

/** the [from, to) UTC day strings of a query ('' and '9999' when open) */
export function dayBounds(q: Pick<UsageQuery, 'since' | 'until'>): [string, string] {
  // '9999' sorts after every YYYY-MM-DD in any collation (SQLite's binary, PostgreSQL's locale)
  return [q.since !== undefined ? dayOf(q.since) : '', q.until !== undefined ? dayOf(q.until) : '9999'];
}

export const isTimeGroup = (by: UsageGroupBy): boolean => by === 'day' || by === 'week' || by === 'month';

/** sorted as a report is: time oldest first, else by cost, then tokens, then name; cut to `limit` */
export function orderRows(by: UsageGroupBy, rows: UsageRow[], limit?: number): UsageRow[] {
  if (isTimeGroup(by)) return rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  rows.sort(
    (a, b) =>
      b.costUsd - a.costUsd || b.totalTokens - a.totalTokens || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
  return limit !== undefined ? rows.slice(0, limit) : rows;
}

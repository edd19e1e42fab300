/**
 * Usage aggregates: tokens, cost, runs, tool calls, errors and active time per session per day,
 * kept beside the events in the same store so a report over a big store reads a few thousand
 * rows instead of every event (`npm run bench -- usage`).
 *
 * Rows: one per (UTC day, session key, model). A session's attributes (agent, label, channel,
 * repo = transcript `cwd`, host, gateway) are one row per session, joined at query time: a label
 * or cwd learnt after the tokens were counted still groups them. What each counter means and how
 * an event is folded in: `src/usage/fold.ts`.
 *
 * Exactness: every stored event is folded exactly once. The aggregate keeps a watermark (the last
 * folded seq) written in the same transaction as the rows it covers; in the SQLite store that is
 * the store's open group, so rows, watermark and the events they count commit (or roll back)
 * together, like snapshots and their `appliedSeq`. A restart, a rolled-back group or a writer in
 * another process cannot count an event twice or miss one: `record` folds only seqs above the
 * watermark it reads inside the transaction, and first catches up on any gap from the stored
 * events. A store made before this feature has no watermark: `catchUp` (the daemon calls it at
 * start) folds every stored event once (the backfill).
 *
 * Querying (for other features, e.g. daily budgets): `report({ by, since, until })` with
 * `since`/`until` as epoch ms, cut on UTC days ([since's day, until's day)). Spend per day:
 * `report({ by: 'day', since, until })`; per agent on one day:
 * `report({ by: 'agent', since: dayStart, until: dayStart + 86_400_000 })`; per label the same
 * with `by: 'label'`; one session: `by: 'session'`. `costUsd` includes estimated cost
 * (`estimatedCostUsd` is the part of it that was estimated). Call `catchUp()` first in a process
 * that does not feed `record` (a CLI), so the report includes everything stored.
 */
import type { StoredEvent } from '../model/events.js';

export const USAGE_GROUPS = [
  'day',
  'week',
  'month',
  'agent',
  'model',
  'channel',
  'label',
  'repo',
  'host',
  'gateway',
  'session',
] as const;
export type UsageGroupBy = (typeof USAGE_GROUPS)[number];

export interface UsageQuery {
  by: UsageGroupBy;
  /** epoch ms: rows from this UTC day on (all when left out) */
  since?: number;
  /** epoch ms: rows before this UTC day (exclusive; all when left out) */
  until?: number;
  /** the largest groups by cost first, at most this many (time groupings are never cut) */
  limit?: number;
}

export interface UsageTotals {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  reasoning: number;
  /** input + output + cacheRead + cacheWrite + reasoning */
  totalTokens: number;
  /** USD, source cost plus estimated cost */
  costUsd: number;
  /** the part of costUsd clawpulse priced itself (the source gave none): `src/usage/estimate.ts` */
  estimatedCostUsd: number;
  runs: number;
  toolCalls: number;
  failedTools: number;
  errors: number;
  activeMs: number;
  /** distinct sessions with a row in the group */
  sessions: number;
}

export interface UsageRow extends UsageTotals {
  /** the group: a day (YYYY-MM-DD), week (its Monday), month (YYYY-MM), or a name ('' = unknown) */
  key: string;
}

/** all-time totals of one agent and model (the /metrics counters) */
export interface AgentModelUsage extends UsageTotals {
  agent: string;
  model: string;
}

export interface UsageStore {
  /**
   * folds newly stored events (the pipeline's, in seq order) into the aggregate; an empty batch
   * (the pipeline's tick) lets an aggregate that writes in batches write what it holds
   */
  record(events: readonly StoredEvent[]): void;
  /** folds every stored event past the watermark (the backfill); returns how many */
  catchUp(): number;
  /** the last seq folded */
  appliedSeq(): number;
  /** rows grouped as asked, largest cost first (time groupings oldest first) */
  report(q: UsageQuery): UsageRow[];
  /** totals per agent and model over every day stored (monotonic: /metrics counters) */
  byAgentModel(): AgentModelUsage[];
}

/**
 * What the live model says about a dispatched label's current run: still running, ended ok,
 * failed (and whether the failure was an overload worth a retry), or aborted.
 *
 * A run belongs to the label when the session was active at or after the label's `spawnedAt`
 * (a reused session's earlier runs ended before it). OpenClaw stamps events with its own clock
 * on the same host, so a little skew is allowed.
 */
import type { SessionState } from '../model/session.js';
import type { LabelEntry } from '../store/dispatch-ledger.js';

export const CLOCK_SKEW_MS = 2_000;

/** the phrases openclaw-scheduler's 529 recovery matched, case-insensitive */
const OVERLOAD_RE =
  /\b529\b|overload|failover\s*error|temporarily\s+overloaded|service\b.{0,60}\boverloaded/i;

export function isOverload(message: string | undefined, status?: number): boolean {
  return status === 529 || (message !== undefined && OVERLOAD_RE.test(message));
}

export type RunVerdict =
  | { kind: 'pending' }
  | { kind: 'running' }
  | { kind: 'ok'; endedAt: number }
  | { kind: 'aborted'; endedAt: number; error: string }
  | { kind: 'error'; endedAt: number; error: string; overload: boolean };

export function spawnedAtMs(e: LabelEntry): number {
  const t = Date.parse(e.spawnedAt);
  return Number.isFinite(t) ? t : 0;
}

export function runVerdict(e: LabelEntry, s: SessionState | undefined): RunVerdict {
  if (!s) return { kind: 'pending' };
  const since = spawnedAtMs(e) - CLOCK_SKEW_MS;
  if (s.runOpen)
    return (s.activeSince ?? s.startedAt) >= since || s.lastEventAt >= since
      ? { kind: 'running' }
      : { kind: 'pending' };
  if (s.lastOutcome === undefined || s.endedAt === undefined || s.endedAt < since) return { kind: 'pending' };
  const endedAt = s.endedAt;
  if (s.lastOutcome === 'ok') return { kind: 'ok', endedAt };
  const err = [...s.errors].reverse().find((x) => x.ts >= since);
  const error = err?.message ?? s.note ?? (s.lastOutcome === 'aborted' ? 'run aborted' : 'run failed');
  if (s.lastOutcome === 'aborted') return { kind: 'aborted', endedAt, error };
  const overload = s.errors.some((x) => x.ts >= since && isOverload(x.message, x.status));
  return { kind: 'error', endedAt, error, overload: overload || isOverload(error) };
}

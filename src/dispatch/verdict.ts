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

/** run ids a legacy transcript source made up (`<tag>:r:<entry id>`): the gateway does not know them */
const SYNTHETIC_RUN_RE = /:r:/;

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
  // An earlier run of the session is still what the model shows until the label's run starts,
  // and it may have ended inside the skew allowance. Seen against the real gateway (2026.9.6):
  // a `--mode reuse` enqueued ~1.5 s after the previous turn ended was marked done with that
  // turn's outcome before its own run began; with DISPATCH_RETRY_BACKOFF_S=1 the failure a
  // retry continues from was taken for the retried run's, and retries 2 and 3 went out within
  // 600 ms of retry 1. So: a run the gateway named (not a made-up transcript id) that is not
  // the label's must have ended after the label's run was asked for, and the failure a retry
  // was made for never counts again (`failedAt` stays set through the retry: same clock).
  const lastRun = s.currentRunId;
  if (
    lastRun !== undefined &&
    lastRun !== e.runId &&
    !SYNTHETIC_RUN_RE.test(lastRun) &&
    s.endedAt < spawnedAtMs(e)
  )
    return { kind: 'pending' };
  if (e.retries?.length && e.failedAt !== undefined && s.endedAt <= e.failedAt) return { kind: 'pending' };
  const endedAt = s.endedAt;
  if (s.lastOutcome === 'ok') return { kind: 'ok', endedAt };
  const err = [...s.errors].reverse().find((x) => x.ts >= since);
  const error = err?.message ?? s.note ?? (s.lastOutcome === 'aborted' ? 'run aborted' : 'run failed');
  // an abort reaches the model as agent.finished "aborted" or as the row's status "killed",
  // whichever comes first (both seen live on 2026.9.6): the label says aborted either way
  if (s.lastOutcome === 'aborted')
    return { kind: 'aborted', endedAt, error: /abort/i.test(error) ? error : `run aborted (${error})` };
  const overload = s.errors.some((x) => x.ts >= since && isOverload(x.message, x.status));
  return { kind: 'error', endedAt, error, overload: overload || isOverload(error) };
}

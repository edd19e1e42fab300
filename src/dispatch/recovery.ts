/**
 * 529 recovery: a dispatched run that failed on a model overload is retried, at most 3 times
 * per label, after 30 s, 2 min and 5 min, never for a failure older than 60 min, and never twice
 * for the same failure (a claim in the ledger, so a restarted daemon and a concurrent
 * `dispatch recover` agree on who retries). The retry is a continuation message into the same
 * session; when that cannot be sent, a fresh session with the same task, model, thinking,
 * origin and delivery.
 */
import { randomUUID } from 'node:crypto';
import type { DispatchLedger, LabelEntry, RetryRecord } from '../store/dispatch-ledger.js';
import { type GatewayCaller, newKey, patchSession, startRun, steerSession } from './gateway-ops.js';
import { continuationMessage, taskMessage } from './task-prompt.js';

export const MAX_RETRIES = 3;
export const RETRY_BACKOFF_MS = [30_000, 120_000, 300_000] as const;
export const MAX_FAILURE_AGE_MS = 60 * 60_000;

/** when the next retry of a failure at `failedAt` is due, or why there is none */
export function retryPlan(
  e: LabelEntry,
  failedAt: number,
  now: number,
  backoffMs: readonly number[] = RETRY_BACKOFF_MS,
): { dueAt: number } | { giveUp: string } {
  const done = e.retryCount ?? 0;
  if (done >= MAX_RETRIES) return { giveUp: `gave up after ${MAX_RETRIES} retries` };
  if (now - failedAt > MAX_FAILURE_AGE_MS) return { giveUp: 'failure older than 60 min: not retried' };
  return { dueAt: failedAt + (backoffMs[done] ?? backoffMs.at(-1) ?? 300_000) };
}

/** a label waiting for its retry, and due now */
export function retryDue(e: LabelEntry, now: number): boolean {
  return (
    e.status === 'error' &&
    e.retryDueAt !== undefined &&
    e.failedAt !== undefined &&
    now >= e.retryDueAt &&
    now - e.failedAt <= MAX_FAILURE_AGE_MS &&
    (e.retryCount ?? 0) < MAX_RETRIES
  );
}

/** the once-only claim for retrying this failure */
export const retryClaimKey = (label: string, e: LabelEntry): string =>
  `retry:${label}:${e.runId ?? ''}:${e.failedAt ?? ''}`;

export interface RetryOutcome {
  label: string;
  attempt: number;
  via: 'continue' | 'fresh';
  sessionKey: string;
  runId: string;
  error: string;
}

/**
 * Retries one due label. Returns undefined when it was not due or someone else took the claim;
 * throws when neither the continuation nor the fresh session could be started (the claim is
 * given back, so a later pass tries again).
 */
export async function retryLabel(
  label: string,
  deps: { gateway: GatewayCaller; ledger: DispatchLedger; now: () => number },
): Promise<RetryOutcome | undefined> {
  const e = deps.ledger.get(label);
  if (!e || !retryDue(e, deps.now())) return undefined;
  const claim = retryClaimKey(label, e);
  if (!deps.ledger.claim(claim, label, deps.now())) return undefined;
  const attempt = (e.retryCount ?? 0) + 1;
  const error = e.error ?? 'overloaded';
  let via: 'continue' | 'fresh' = 'continue';
  let sessionKey = e.sessionKey;
  let runId: string;
  try {
    runId =
      (await steerSession(deps.gateway, sessionKey, continuationMessage(attempt, MAX_RETRIES, error)))
        .runId ?? '';
  } catch (err) {
    // a label imported from labels.json may have no stored task: nothing to start afresh with
    if (!e.taskPrompt) {
      deps.ledger.release(claim);
      throw new Error(
        `the continuation could not be sent (${(err as Error).message}) and the label has no stored task prompt for a fresh session`,
      );
    }
    via = 'fresh';
    sessionKey = newKey(e.agent, randomUUID);
    try {
      await patchSession(deps.gateway, sessionKey, { model: e.model, thinking: e.thinking });
      runId = (
        await startRun(deps.gateway, {
          sessionKey,
          message: taskMessage(label, e.taskPrompt),
          thinking: e.thinking,
          timeoutSeconds: e.timeoutSeconds,
        })
      ).runId;
    } catch (err) {
      deps.ledger.release(claim);
      throw err;
    }
  }
  const at = new Date(deps.now()).toISOString();
  const record: RetryRecord = {
    attempt,
    at,
    failedRunId: e.runId ?? undefined,
    error,
    via,
    sessionKey,
    runId,
  };
  deps.ledger.update(label, (cur) =>
    cur
      ? {
          ...cur,
          sessionKey,
          runId,
          mode: via === 'fresh' ? 'fresh' : cur.mode,
          status: 'running',
          error: null,
          spawnedAt: at,
          updatedAt: at,
          retryCount: attempt,
          retries: [...(cur.retries ?? []), record],
          retryDueAt: undefined,
          // kept: the end of the failure this run continues from. Until the continued run
          // ends, the model still shows that failure, and with a short backoff it ends inside
          // verdict.ts's clock-skew allowance; counting it again made the real gateway take
          // retries 2 and 3 within 600 ms of retry 1 (conformance, DISPATCH_RETRY_BACKOFF_S=1)
          failedAt: cur.failedAt,
          endedAt: undefined,
        }
      : undefined,
  );
  return { label, attempt, via, sessionKey, runId, error };
}

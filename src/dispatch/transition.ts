/**
 * How a label's ledger entry follows its session: given what the live model says about the
 * current run (verdict.ts), the entry it becomes and the lifecycle events that tell the world.
 * Pure: the service applies it inside one atomic ledger update, so it happens once.
 */
import type { LabelEntry } from '../store/dispatch-ledger.js';
import { deliveryFor } from './delivery.js';
import type { LifecycleEventName } from './lifecycle.js';
import { MAX_RETRIES, retryPlan } from './recovery.js';
import type { RunVerdict } from './verdict.js';

export interface Transition {
  entry: LabelEntry;
  events: Array<{ event: LifecycleEventName; error?: string; detail?: string }>;
  /** a line for the session's status box and dashboard */
  note?: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function transitionFor(
  label: string,
  e: LabelEntry,
  v: RunVerdict,
  now: number,
  /** the waits before retries 1, 2, 3 (DISPATCH_RETRY_BACKOFF_S) */
  backoffMs?: readonly number[],
): Transition | undefined {
  if (v.kind === 'pending' || v.kind === 'running' || e.endedAt !== undefined) return undefined;
  // the agent called `done` before its run ended: the run's end only completes the record
  if (e.status === 'done') {
    return {
      entry: { ...e, endedAt: iso(v.endedAt), ...followUps(label, e) },
      events: [{ event: 'dispatch.finished' }],
    };
  }
  if (e.status !== 'running') return undefined;
  const at = iso(now);
  if (v.kind === 'ok') {
    const done: LabelEntry = { ...e, status: 'done', endedAt: iso(v.endedAt), updatedAt: at };
    done.summary ??= 'completed';
    return { entry: { ...done, ...followUps(label, done) }, events: [{ event: 'dispatch.finished' }] };
  }
  if (v.kind === 'error' && v.overload) {
    const plan = retryPlan(e, v.endedAt, now, backoffMs);
    if ('dueAt' in plan) {
      const n = (e.retryCount ?? 0) + 1;
      const inS = Math.max(0, Math.round((plan.dueAt - now) / 1000));
      return {
        entry: {
          ...e,
          status: 'error',
          error: v.error,
          failedAt: v.endedAt,
          retryDueAt: plan.dueAt,
          updatedAt: at,
        },
        events: [],
        note: `retry ${n}/${MAX_RETRIES} after 529 in ${inS}s`,
      };
    }
    const failed: LabelEntry = {
      ...e,
      status: 'error',
      error: `${v.error} (${plan.giveUp})`,
      endedAt: iso(v.endedAt),
      updatedAt: at,
    };
    return {
      entry: { ...failed, ...followUps(label, failed) },
      events: [{ event: 'dispatch.failed', error: failed.error ?? undefined }],
      note: plan.giveUp,
    };
  }
  const failed: LabelEntry = {
    ...e,
    status: 'error',
    error: v.error,
    endedAt: iso(v.endedAt),
    updatedAt: at,
  };
  return {
    entry: { ...failed, ...followUps(label, failed) },
    events: [{ event: 'dispatch.failed', error: v.error }],
  };
}

/** what runs after a run's end: the delivery of its reply, and the verify command (ok runs) */
function followUps(label: string, e: LabelEntry): Partial<LabelEntry> {
  const out: Partial<LabelEntry> = {};
  const wantsDelivery = e.status !== 'error' || e.deliveryMode === 'announce-always';
  const delivery = wantsDelivery ? deliveryFor(label, e) : undefined;
  if (delivery && !e.delivery) out.delivery = delivery;
  if (e.verifyCmd && e.monitor !== false && e.status === 'done' && !e.verify)
    out.verify = { command: e.verifyCmd, state: 'pending' };
  return out;
}

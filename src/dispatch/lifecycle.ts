/**
 * Lifecycle events of dispatched runs: the contract between the dispatcher (which emits them)
 * and the outputs that deliver them (src/sinks/lifecycle-sinks.ts: Loki, a webhook).
 * Types only: emitting must never wait on or fail because of an output.
 */

export type LifecycleEventName =
  | 'dispatch.started'
  | 'dispatch.finished'
  | 'dispatch.failed'
  | 'dispatch.retried'
  | 'dispatch.stuck'
  | 'dispatch.delivered';

export interface LifecycleEvent {
  event: LifecycleEventName;
  /** epoch ms */
  ts: number;
  label: string;
  sessionKey?: string;
  runId?: string;
  /** DISPATCH_HOST, default os.hostname() */
  host: string;
  agent?: string;
  model?: string;
  durationMs?: number;
  tokens?: {
    input: number;
    output: number;
    cacheRead: number;
    cacheWrite: number;
    reasoning: number;
    total: number;
  };
  costUsd?: number;
  error?: string;
  /** for dispatch.retried: 1..3 */
  attempt?: number;
  detail?: string;
}

/** `emit` returns at once and never throws; delivery happens later, elsewhere. */
export interface LifecycleEmitter {
  emit(e: LifecycleEvent): void;
}

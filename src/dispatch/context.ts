/**
 * What a dispatch command works with: the ledger, the gateway (connected on first use), where
 * live session state comes from, the clock, and the lifecycle events it may have to send itself
 * (when no daemon runs to send them).
 */
import type { DispatchLedger } from '../store/dispatch-ledger.js';
import type { GatewayCaller } from './gateway-ops.js';
import type { LifecycleEmitter } from './lifecycle.js';
import type { LiveView } from './live.js';

export interface DispatchContext {
  ledger: DispatchLedger;
  /** the gateway, connected on first use; rejects with a message naming the URL and token origin */
  gateway(): Promise<GatewayCaller>;
  live: LiveView;
  /** a clawpulse daemon runs (it follows labels, retries, delivers and emits events) */
  daemonRunning: boolean;
  now(): number;
  host: string;
  /** lifecycle events a command sends itself when no daemon runs */
  emitter: LifecycleEmitter;
  minRuntimeMs: number;
  /** the waits before 529 retries 1, 2, 3 */
  retryBackoffMs?: readonly number[];
}

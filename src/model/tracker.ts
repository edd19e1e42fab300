/**
 * SessionTracker: the live model of every session. A thin stateful wrapper around the pure
 * reducer (reducer.ts): apply(event) / tick(now) return the keys of sessions that changed.
 * STUB: the model work replaces the body; the interface is the contract.
 */
import type { PulseEvent } from './events.js';
import type { SessionState, TrackerLimits } from './session.js';

export interface SessionTracker {
  /** applies one event; returns the keys of the sessions whose state changed */
  apply(event: PulseEvent): string[];
  /** time-based transitions (idle → done, stuck, stopped at max duration); returns changed keys */
  tick(now: number): string[];
  get(key: string): SessionState | undefined;
  all(): SessionState[];
  /** the root of a session's tree (itself when it has no known parent) */
  rootOf(key: string): SessionState | undefined;
  /** loads snapshots saved by the store after a restart */
  restore(snapshots: readonly SessionState[]): void;
  /** marks every active/idle/stuck session interrupted (shutdown); returns changed keys */
  interruptAll(now: number, note?: string): string[];
}

export function createSessionTracker(_limits: TrackerLimits): SessionTracker {
  throw new Error('not implemented yet');
}

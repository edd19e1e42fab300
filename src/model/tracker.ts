/**
 * SessionTracker: the live model of every session. A thin stateful wrapper around the pure
 * reducer (reducer.ts): apply(event) / tick(now) return the keys of sessions that changed.
 */
import type { PulseEvent } from './events.js';
import { evictFinished } from './evict.js';
import { reduce } from './reducer.js';
import { emptyTokens, type SessionState, type TrackerLimits } from './session.js';
import { createTrackerState, reindex, rootOf } from './state.js';
import { interruptAllState, tickState } from './stuck.js';

export interface SessionTracker {
  /**
   * applies one event; returns the keys of the sessions whose state changed (read-only: the
   * array may be shared between calls)
   */
  apply(event: PulseEvent): readonly string[];
  /** time-based transitions (idle → done, stuck, stopped at max duration); returns changed keys */
  tick(now: number): string[];
  get(key: string): SessionState | undefined;
  all(): SessionState[];
  /** the root of a session's tree (itself when it has no known parent) */
  rootOf(key: string): SessionState | undefined;
  /** loads snapshots saved by the store after a restart */
  restore(snapshots: readonly SessionState[]): void;
  /**
   * shutdown: sessions with a run or tool in flight (or stuck) become interrupted; live ones whose
   * last run had finished end done; returns changed keys
   */
  interruptAll(now: number, note?: string): string[];
  /**
   * drops trees of sessions finished and quiet for `retainFinishedMs` (24 h) from the live model
   * (they stay in the store); returns the keys dropped
   */
  evict(now: number): string[];
}

const DEFAULT_RETAIN_MS = 24 * 3600_000;

export function createSessionTracker(limits: TrackerLimits): SessionTracker {
  const state = createTrackerState();
  return {
    apply: (event) => reduce(state, event, limits),
    tick: (now) => tickState(state, now, limits),
    get: (key) => state.sessions.get(key),
    all: () => [...state.sessions.values()],
    rootOf: (key) => rootOf(state, key),
    restore(snapshots) {
      for (const snap of snapshots) {
        if (!snap || typeof snap.key !== 'string') continue;
        // our own copy: the caller's objects (store rows) must not alias live state
        const s = structuredClone(snap) as SessionState;
        s.children ??= [];
        s.lines ??= [];
        s.tools ??= [];
        s.errors ??= [];
        s.tokens ??= emptyTokens();
        s.costUsd ??= 0;
        state.sessions.set(s.key, s);
      }
      reindex(state);
    },
    interruptAll: (now, note) => interruptAllState(state, now, note),
    evict: (now) => evictFinished(state, now, limits.retainFinishedMs ?? DEFAULT_RETAIN_MS),
  };
}

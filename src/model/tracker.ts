/**
 * SessionTracker: the live model of every session. A thin stateful wrapper around the pure
 * reducer (reducer.ts): apply(event) / tick(now) return the keys of sessions that changed.
 */
import type { PulseEvent } from './events.js';
import { evictFinished } from './evict.js';
import { reduce } from './reducer.js';
import type { SessionState, TrackerLimits } from './session.js';
import { createTrackerState, reindex, rootOf, rootVia } from './state.js';
import { interruptAllState, tickState } from './stuck.js';
import { briefOf, type SessionBrief } from './summary.js';
import {
  createBriefState,
  evictBriefs,
  hydrateFor,
  normalizeStored,
  repend,
  type SummaryOptions,
  summarizeQuiet,
} from './tracker-summaries.js';

export interface SessionTracker {
  /**
   * applies one event; returns the keys of the sessions whose state changed (read-only: the
   * array may be shared between calls)
   */
  apply(event: PulseEvent): readonly string[];
  /** time-based transitions (idle → done, stuck, stopped at max duration); returns changed keys */
  tick(now: number): string[];
  /**
   * a session's whole state; a brief's is read from the store (a copy: changing it changes
   * nothing)
   */
  get(key: string): SessionState | undefined;
  /** the whole states held in memory: live sessions and recently finished ones (not the briefs) */
  all(): SessionState[];
  /** every session of the live model as a brief: whole states summed up, and the briefs */
  briefs(): SessionBrief[];
  /** one session's brief */
  brief(key: string): SessionBrief | undefined;
  /** sessions in the live model, whole and briefs */
  size(): number;
  /** how many sessions are held as briefs */
  briefCount(): number;
  /** the root of a session's tree (itself when it has no known parent) */
  rootOf(key: string): SessionState | undefined;
  /** loads snapshots saved by the store after a restart */
  restore(snapshots: readonly SessionState[]): void;
  /**
   * the store has just saved these states (the pipeline's snapshot save): a finished one may
   * become a brief, its whole state read back from the store when needed
   */
  saved?(states: readonly SessionState[]): void;
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

/**
 * `summaries`: keep finished, quiet sessions as briefs, their whole state read back from the
 * store (`tracker-summaries.ts`). Without it every session stays whole (the CLI, replay, tests).
 */
export function createSessionTracker(limits: TrackerLimits, summaries?: SummaryOptions): SessionTracker {
  const state = createTrackerState();
  const b = createBriefState();
  const everyMs = summaries?.everyMs ?? 5000;
  let nextLook = Number.NEGATIVE_INFINITY;
  /** a brief's state from the store, as restore() would hold it */
  const loadBrief = (key: string): SessionState | undefined => {
    const brief = b.briefs.get(key);
    if (!brief || !summaries) return undefined;
    try {
      const s = summaries.load(key);
      return s ? normalizeStored(s) : undefined;
    } catch {
      return undefined;
    }
  };
  const get = (key: string) => state.sessions.get(key) ?? (b.briefs.size ? loadBrief(key) : undefined);
  return {
    apply(event) {
      if (!summaries) return reduce(state, event, limits);
      if (b.briefs.size) hydrateFor(state, b, summaries.load, event);
      const changed = reduce(state, event, limits);
      for (const k of changed) b.unsaved.add(k);
      return changed;
    },
    tick(now) {
      const changed = tickState(state, now, limits);
      if (summaries) for (const k of changed) b.unsaved.add(k);
      if (summaries && now >= nextLook) {
        // candidates left over (the CPU budget ran out) are looked at on the next tick
        const { more } = summarizeQuiet(state, b, summaries, now);
        nextLook = more ? now : now + everyMs;
      }
      return changed;
    },
    get,
    all: () => [...state.sessions.values()],
    briefs() {
      const out: SessionBrief[] = [];
      for (const s of state.sessions.values()) out.push(briefOf(s));
      for (const brief of b.briefs.values()) out.push(brief);
      return out;
    },
    brief(key) {
      const s = state.sessions.get(key);
      return s ? briefOf(s) : b.briefs.get(key);
    },
    size: () => state.sessions.size + b.briefs.size,
    briefCount: () => b.briefs.size,
    rootOf(key) {
      if (state.sessions.has(key)) return rootOf(state, key);
      const s = get(key);
      return s && rootVia(s, get);
    },
    restore(snapshots) {
      for (const snap of snapshots) {
        if (!snap || typeof snap.key !== 'string') continue;
        // our own copy: the caller's objects (store rows) must not alias live state
        const s = normalizeStored(structuredClone(snap) as SessionState);
        b.briefs.delete(s.key);
        b.inferred.delete(s.key);
        b.unsaved.delete(s.key); // as the store holds it
        state.sessions.set(s.key, s);
      }
      reindex(state);
      if (b.briefs.size) repend(state, b);
    },
    saved(states) {
      if (!summaries) return;
      // the very object the model holds: a state changed since is still unsaved (its key re-added)
      for (const s of states) if (state.sessions.get(s.key) === s) b.unsaved.delete(s.key);
    },
    interruptAll(now, note) {
      const changed = interruptAllState(state, now, note);
      if (summaries) for (const k of changed) b.unsaved.add(k);
      return changed;
    },
    evict(now) {
      const retain = limits.retainFinishedMs ?? DEFAULT_RETAIN_MS;
      const gone = evictFinished(state, now, retain);
      if (b.briefs.size) for (const k of evictBriefs(state, b, now, retain)) gone.push(k);
      return gone;
    },
  };
}

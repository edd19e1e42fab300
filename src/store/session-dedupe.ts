/**
 * Which facts each session already has: one HashSet96 per session, loaded from the store the
 * first time a session is touched (its chunks carry the hashes of their events) and kept while
 * the session is in use. The least recently used sets are dropped when all of them together pass
 * `maxBytes`; a dropped set is loaded again on its session's next append, so dropping one only
 * costs time, never correctness.
 */
import { HashSet96 } from './hash-set96.js';

export interface SessionDedupe {
  /** the set of session `sid`, loaded (or created) when it is not in memory */
  get(sid: number): HashSet96;
  /** drops least recently used sets until all of them fit in maxBytes */
  trim(): void;
  /** drops the sets of sessions not appended to for `idleMs` (called on the store's flush) */
  dropIdle(): void;
  /** forgets a session's set (after a rolled back append, whose hashes it may hold) */
  forget(sid: number): void;
  clear(): void;
  /** takes a set kept by an earlier store of this path (its file was lost: `store-guard.ts`) */
  adopt(sid: number, set: HashSet96): void;
  /** the sets in memory, least recently used first */
  sets(): ReadonlyMap<number, HashSet96>;
}

/** `load(sid, set)` adds to `set` every hash the store holds for session `sid` */
/**
 * A session quiet this long (as long as a transcript takes to rest) gives its set back: 10,000 finished sessions in the window kept ~9 MB
 * of sets an idle daemon never used again. The next append to one reads its hashes back once.
 */
export const DEDUPE_IDLE_MS = 60_000;

export function createSessionDedupe(
  load: (sid: number, set: HashSet96) => void,
  maxBytes = 32 * 1024 * 1024,
  idle: { afterMs: number; now: () => number } = { afterMs: DEDUPE_IDLE_MS, now: Date.now },
): SessionDedupe {
  /** Map order is least recently used first */
  const sets = new Map<number, HashSet96>();
  /** when each set was last asked for (in the same order as `sets`) */
  const usedAt = new Map<number, number>();

  const total = (): number => {
    let n = 0;
    for (const s of sets.values()) n += s.bytes;
    return n;
  };

  /** sets grow between trims: all of them are measured again every so many trims */
  let trims = 0;
  let knownBytes = 0;

  function trim(): void {
    if (++trims % 64 !== 0 && knownBytes <= maxBytes) return;
    let bytes = total();
    knownBytes = bytes;
    for (const [sid, set] of sets) {
      if (bytes <= maxBytes || sets.size === 1) return;
      sets.delete(sid);
      usedAt.delete(sid);
      bytes -= set.bytes;
      knownBytes = bytes;
    }
  }

  function dropIdle(): void {
    const before = idle.now() - idle.afterMs;
    for (const [sid, set] of sets) {
      if ((usedAt.get(sid) ?? 0) > before) return;
      sets.delete(sid);
      usedAt.delete(sid);
      knownBytes = Math.max(0, knownBytes - set.bytes);
    }
  }

  return {
    get(sid) {
      let set = sets.get(sid);
      usedAt.delete(sid);
      usedAt.set(sid, idle.now());
      if (set) {
        sets.delete(sid);
        sets.set(sid, set);
        return set;
      }
      set = new HashSet96();
      load(sid, set);
      sets.set(sid, set);
      knownBytes += set.bytes;
      return set;
    },
    trim,
    dropIdle,
    forget: (sid) => {
      sets.delete(sid);
      usedAt.delete(sid);
    },
    clear: () => {
      sets.clear();
      usedAt.clear();
      knownBytes = 0;
    },
    adopt(sid, set) {
      sets.set(sid, set);
      usedAt.set(sid, idle.now());
      knownBytes += set.bytes;
    },
    sets: () => sets,
  };
}

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
  /** forgets a session's set (after a rolled back append, whose hashes it may hold) */
  forget(sid: number): void;
  clear(): void;
  /** takes a set kept by an earlier store of this path (its file was lost: `store-guard.ts`) */
  adopt(sid: number, set: HashSet96): void;
  /** the sets in memory, least recently used first */
  sets(): ReadonlyMap<number, HashSet96>;
}

/** `load(sid, set)` adds to `set` every hash the store holds for session `sid` */
export function createSessionDedupe(
  load: (sid: number, set: HashSet96) => void,
  maxBytes = 32 * 1024 * 1024,
): SessionDedupe {
  /** Map order is least recently used first */
  const sets = new Map<number, HashSet96>();

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
      bytes -= set.bytes;
      knownBytes = bytes;
    }
  }

  return {
    get(sid) {
      let set = sets.get(sid);
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
    forget: (sid) => void sets.delete(sid),
    clear: () => {
      sets.clear();
      knownBytes = 0;
    },
    adopt(sid, set) {
      sets.set(sid, set);
      knownBytes += set.bytes;
    },
    sets: () => sets,
  };
}

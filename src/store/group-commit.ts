/**
 * Group commit for the SQLite store: appends write into one open transaction, committed at most
 * `maxDelayMs` later or once it holds `maxEvents` events, instead of one commit per append. A
 * commit writes every page the transaction touched to the WAL; per read of a live transcript
 * (a few lines) that cost more than the lines themselves.
 *
 * What a group wrote is also kept in memory (`WriteLog`: the rows, not the events) until it is
 * committed. If the commit fails (disk full, I/O error), SQLite rolls the whole transaction
 * back, or an append fails half-way (then the group is rolled back on purpose, and that append's
 * own rows are not in the log), the log is kept as `redo` and written again before anything
 * else: appends already told the model about those events, so they must reach the disk as they
 * were, with the same seqs.
 *
 * Holding: once the disk refused a write (a commit, or writing the redo), the group commit holds
 * (`holding()`): the store records further appends' rows in the redo without touching SQLite
 * (`hold`), and only `flush` (the pipeline's tick, every second) tries to write them. So the
 * model stays live while the disk is full or read-only, and a disk that keeps refusing costs one
 * attempt a second rather than one per append. The store bounds what is held (`maxHeldEvents`);
 * past it appends fail, the pipeline keeps their batches and tells the sources to pause.
 *
 * Durability: a crash loses at most the open group (or what is held), together with the source
 * offsets it would have advanced, so the sources read those lines again on restart.
 */
import type Database from 'better-sqlite3';

/** one chunk row: first seq, session id, event count, hashes blob, body */
export type ChunkRow = [number, number, number, Buffer, string];

export interface WriteLog {
  chunks: ChunkRow[];
  /** session keys interned by the group: [id, key] */
  keys: Array<[number, string]>;
  /** offset key → JSON value (the last one written wins) */
  offsets: Map<string, string>;
  events: number;
}

/** an error SQLite raised (disk full, read-only, I/O ...), as opposed to one of the caller's */
export const isSqliteError = (err: unknown): boolean =>
  String((err as { code?: unknown } | undefined)?.code ?? '').startsWith('SQLITE_');

const emptyLog = (): WriteLog => ({ chunks: [], keys: [], offsets: new Map(), events: 0 });

function mergeInto(into: WriteLog, from: WriteLog): void {
  for (const c of from.chunks) into.chunks.push(c);
  for (const k of from.keys) into.keys.push(k);
  for (const [k, v] of from.offsets) into.offsets.set(k, v);
  into.events += from.events;
}

export interface GroupCommitOptions {
  /** how long an append may stay uncommitted */
  maxDelayMs: number;
  /** a group holding this many events is committed at once */
  maxEvents?: number;
  /** writes a log's rows again (inside a transaction this module opens) */
  rewrite: (log: WriteLog) => void;
  /** called when a group's transaction has begun (the write lock is held until its commit) */
  onBegin?: () => void;
  /** writes a group's source offsets, once per key, just before its commit */
  writeOffsets: (offsets: Map<string, string>) => void;
  /** rows an earlier store on this path accepted but never wrote (a recovery): written first */
  redo?: WriteLog;
}

export interface GroupCommit {
  /**
   * Runs `write` inside the open group (opening one); `write` records its rows in the log it is
   * given. If it throws, the group is rolled back and the earlier appends' rows become the redo:
   * a savepoint per append would undo only its own rows, but cost more than the rest of the
   * append's SQLite work on a read of a few lines, for a path taken only on disk or I/O errors.
   */
  run<T>(write: (log: WriteLog) => T): T;
  /** commits the open group and any redo now; throws when they cannot be written */
  flush(): void;
  /** the disk refused the last write: appends go to `hold` until a flush writes the held rows */
  holding(): boolean;
  /** runs `write` against the held log, with no SQL (only while `holding()`) */
  hold<T>(write: (log: WriteLog) => T): T;
  /** rows accepted but not on disk because the disk refused them (undefined when none) */
  held(): WriteLog | undefined;
  /** takes every row accepted but not committed (rolling back an open group), leaving none */
  takeUnwritten(): WriteLog | undefined;
  /** offsets accepted but not yet committed (they are written at the commit), the newest last */
  pendingOffsets(): Array<[string, string]>;
  /** commits what it can and stops the timer (before the database closes) */
  close(): void;
}

export function createGroupCommit(db: Database.Database, opts: GroupCommitOptions): GroupCommit {
  const maxEvents = opts.maxEvents ?? 5000;
  let group: WriteLog | undefined;
  let redo: WriteLog | undefined = opts.redo;
  let timer: NodeJS.Timeout | undefined;
  /** the disk refused the last write; cleared when the redo is written */
  let holding = false;

  /** the open transaction is gone or must go (a failed commit or append, or SQLite rolled it
   * back): keep its rows */
  function keepForRedo(): void {
    if (db.inTransaction) {
      try {
        db.exec('ROLLBACK');
      } catch {
        // already rolled back by SQLite
      }
    }
    if (group && (group.chunks.length || group.keys.length || group.offsets.size)) {
      if (!redo) redo = emptyLog();
      mergeInto(redo, group);
    }
    group = undefined;
  }

  function commit(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!group) return;
    try {
      if (!db.inTransaction) throw new Error('the transaction was rolled back before its commit');
      // offsets are written once per group, not per append: a source saves one with every read
      if (group.offsets.size) opts.writeOffsets(group.offsets);
      db.exec('COMMIT');
      group = undefined;
    } catch (err) {
      keepForRedo();
      holding = true;
      throw err;
    }
  }

  function writeRedo(): void {
    if (!redo) {
      holding = false;
      return;
    }
    try {
      db.exec('BEGIN IMMEDIATE');
      opts.rewrite(redo);
      db.exec('COMMIT');
      redo = undefined;
      holding = false;
    } catch (err) {
      if (db.inTransaction) {
        try {
          db.exec('ROLLBACK');
        } catch {
          // already rolled back by SQLite
        }
      }
      holding = true;
      throw err;
    }
  }

  function flush(): void {
    try {
      commit();
    } catch {
      // kept for redo, written just below
    }
    writeRedo();
  }

  function open(): void {
    db.exec('BEGIN IMMEDIATE');
    group = emptyLog();
    opts.onBegin?.();
    // commits in the background; a failure there is kept as redo and reported by the next call
    timer = setTimeout(() => {
      try {
        commit();
      } catch {
        // kept for redo
      }
    }, opts.maxDelayMs);
    timer.unref();
  }

  return {
    run(write) {
      // a redo exists only while no group is open; SQLite may have ended the open one
      if (group && !db.inTransaction) {
        keepForRedo();
        holding = true;
      }
      writeRedo();
      if (!group) {
        try {
          open();
        } catch (err) {
          if (isSqliteError(err)) holding = true;
          throw err;
        }
      }
      const part = emptyLog();
      let result: ReturnType<typeof write>;
      try {
        result = write(part);
      } catch (err) {
        // its rows are mixed into the open transaction: undo the whole group, keep the earlier
        // appends' rows (not this one's) to be written again before anything else
        keepForRedo();
        // SQLite refused a row (disk full, I/O): hold from now on; a bad event is not the disk's fault
        if (isSqliteError(err)) holding = true;
        throw err;
      }
      mergeInto(group as WriteLog, part);
      if ((group as WriteLog).events >= maxEvents) {
        try {
          commit();
        } catch {
          // this append is in the redo log: it succeeded; the failure shows on the next call
        }
      }
      return result;
    },
    flush,
    holding: () => holding,
    hold(write) {
      const part = emptyLog();
      const result = write(part);
      if (!redo) redo = emptyLog();
      mergeInto(redo, part);
      return result;
    },
    held: () => redo,
    takeUnwritten() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      keepForRedo();
      const out = redo;
      redo = undefined;
      holding = false;
      return out;
    },
    pendingOffsets: () => [...(redo?.offsets ?? []), ...(group?.offsets ?? [])],
    close() {
      try {
        flush();
      } catch {
        // what is lost is what a crash would lose: the sources read it again (offsets too)
      }
    },
  };
}

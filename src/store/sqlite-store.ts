/**
 * The SQLite EventStore (better-sqlite3, WAL). Events are appended in chunks (see
 * `sqlite-schema.ts`) with a gap-free sequence number; a second sighting of a fact (same
 * dedupeKey in the same session) is dropped; session snapshots, source offsets (saved in the
 * same transaction as the events they cover) and a small kv sit beside them.
 *
 * Dedupe is checked in memory: each session's set of 96-bit key hashes (`session-dedupe.ts`) is
 * loaded from its chunks on first use, so an append touches no index per event. One process
 * writes a store (the daemon's PID file sees to that); if another writer's events show up, the
 * sets are reloaded.
 *
 * While the disk refuses writes (full, read-only, I/O errors) appends are held in memory, up to
 * `maxHeldEvents`, with their seqs (`group-commit.ts`): the model and the API see them (reads
 * merge the held rows), and they are written as they were once the disk takes them.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import type { PulseEvent, StoredEvent } from '../model/events.js';
import type { SessionState } from '../model/session.js';
import type { AlertStore } from './alert-store.js';
import { decodeChunk, encodeChunk } from './chunk-codec.js';
import { hashKey } from './dedupe-hash.js';
import type { DispatchLedger } from './dispatch-ledger.js';
import type { AppendResult, EventStore, SourceOffset } from './event-store.js';
import { type ChunkRow, createGroupCommit, isSqliteError, type WriteLog } from './group-commit.js';
import type { HashSet96 } from './hash-set96.js';
import { createSessionDedupe } from './session-dedupe.js';
import { createSqliteAlerts } from './sqlite-alerts.js';
import { createSqliteLedger } from './sqlite-ledger.js';
import { errorOf, openDatabase, readOnlyMessage, StoreError } from './sqlite-open.js';
import { MISSING_SEQS, SCHEMA_VERSION, SEQ_FLOOR, SNAPSHOT_SEQ, STORE_NS } from './sqlite-schema.js';
import { createSqliteUsage } from './sqlite-usage.js';
import type { UsageStore } from './usage-store.js';

export { StoreError };

/**
 * Events held in memory at most while the disk refuses writes (about 1 KB each). Past it appends
 * fail: the pipeline keeps their batches and tells the sources to pause.
 */
export const DEFAULT_MAX_HELD_EVENTS = 5000;

/** the code of the StoreError an append gets once `maxHeldEvents` are held */
export const HOLD_FULL = 'CLAWPULSE_HOLD_FULL';

/** events per chunk at most: a reader wanting a few events parses at most this many */
const MAX_CHUNK = 512;

/**
 * How long an append may wait for its group's commit. Every commit rewrites whole pages in the
 * WAL however little it holds: a commit per line of a quiet daemon wrote ~14 KB for a line of
 * ~500 bytes (`npm run bench -- store-wal`). A second (the daemon's tick commits as often)
 * groups the lines of a second. Waiting loses nothing the sources cannot give again: offsets
 * commit with the events they cover, and the model and the API see events before their commit.
 */
export const DEFAULT_COMMIT_DELAY_MS = 1000;

export interface SqliteStoreOptions {
  /** the dedupe hash (tests use it to force collisions); `hashKey` by default */
  hash?: (dedupeKey: string, out: Uint32Array) => void;
  /** memory the per-session dedupe sets may hold before the least recently used are dropped */
  dedupeBytes?: number;
  /** how long an append may wait for its group's commit (`DEFAULT_COMMIT_DELAY_MS`) */
  commitDelayMs?: number;
  /** called with the open database (tests use it to make the disk "full") */
  configure?: (db: Database.Database) => void;
  /** writes into a new database before the store reads it (a recovery's seed: `store-seed.ts`) */
  init?: (db: Database.Database) => void;
  /** events held in memory at most while the disk refuses writes (`DEFAULT_MAX_HELD_EVENTS`) */
  maxHeldEvents?: number;
  /** what an earlier store on this path left (a recovery after the file was lost: `store-guard.ts`) */
  carry?: StoreCarry;
}

/** what a store hands the next store on its path when its file was lost */
export interface StoreCarry {
  /** rows accepted but never written: written first, with their seqs */
  unwritten?: WriteLog;
  /** the per-session dedupe sets in memory (a new file without the old history keeps them) */
  dedupe?: ReadonlyMap<number, HashSet96>;
}

/** the SQLite EventStore, with what the store guard needs to watch and recover its file */
export interface SqliteStore extends EventStore {
  readonly path: string;
  usage(): UsageStore;
  alerts(): AlertStore;
  /** events accepted (the model has them) but held in memory because the disk refused them */
  heldEvents(): number;
  /** the open connection (the guard copies the store from it when the file was deleted) */
  database(): Database.Database;
  /** takes every row accepted but not committed, leaving none (before the store is closed for good) */
  takeUnwritten(): WriteLog | undefined;
  /** the per-session dedupe sets in memory */
  dedupeSets(): ReadonlyMap<number, HashSet96>;
}

/** a chunk row as read back: its first seq, body and (when joined) session key */
interface ChunkRead {
  first: number;
  body: string;
  key?: string;
}

/** v1 rejected (as a duplicate) an event missing one of its indexed fields; so do v2 and v3 */
const incomplete = (e: PulseEvent): boolean =>
  e.dedupeKey == null || e.sessionKey == null || e.type == null || e.ts == null || Number.isNaN(e.ts);

export function createSqliteStore(path: string, opts: SqliteStoreOptions = {}): SqliteStore {
  const hashOf = opts.hash ?? hashKey;
  const maxHeld = opts.maxHeldEvents ?? DEFAULT_MAX_HELD_EVENTS;
  if (path !== ':memory:') {
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (err) {
      const e = errorOf(err);
      const ro =
        e.code === 'EROFS' ? 'it is on a read-only file system' : `its folder cannot be created: ${e.code}`;
      if (e.code === 'EROFS' || e.code === 'EACCES' || e.code === 'EPERM')
        throw new StoreError(readOnlyMessage(path, ro), path, e.code, { cause: err });
      throw new StoreError(`cannot create the folder of store ${path}: ${e.message}`, path, e.code, {
        cause: err,
      });
    }
  }
  const { db, upgrading, version } = openDatabase(path);
  opts.init?.(db);
  opts.configure?.(db);

  const insertChunk = db.prepare('INSERT INTO chunks (first, sid, n, hashes, body) VALUES (?, ?, ?, ?, ?)');
  const selectLast = db.prepare('SELECT first + n - 1 FROM chunks ORDER BY first DESC LIMIT 1').pluck();
  const selectSessionHashes = db.prepare('SELECT hashes FROM chunks WHERE sid = ? ORDER BY first').pluck();
  const selectChunkAt = db
    .prepare('SELECT first FROM chunks WHERE first <= ? ORDER BY first DESC LIMIT 1')
    .pluck();
  const selectChunksFrom = db.prepare(
    'SELECT c.first, c.body, k.key FROM chunks c JOIN session_keys k ON k.id = c.sid WHERE c.first >= ? ORDER BY c.first',
  );
  const selectSessionChunks = db.prepare('SELECT first, body FROM chunks WHERE sid = ? ORDER BY first');
  const insertSessionKey = db.prepare('INSERT INTO session_keys (key) VALUES (?)');
  const selectSid = db.prepare('SELECT id FROM session_keys WHERE key = ?').pluck();

  /** session key → id; ids added by a transaction that then failed are taken out again */
  const sids = new Map<string, number>();
  for (const r of db.prepare('SELECT id, key FROM session_keys').iterate() as Iterable<{
    id: number;
    key: string;
  }>)
    sids.set(r.key, r.id);
  for (const [id, key] of opts.carry?.unwritten?.keys ?? []) sids.set(key, id);
  /** the highest session id given out (an id given while the disk refuses writes is not in the table yet) */
  let topSid = 0;
  for (const id of sids.values()) if (id > topSid) topSid = id;
  let addedSids: string[] = [];
  /** the log of the group the running append writes into (its rows are rewritten if the commit fails) */
  let log: WriteLog | undefined;
  /** the running append records its rows without SQL: the disk refuses writes (`group.hold`) */
  let offline = false;

  function sidOf(key: string): number {
    let id = sids.get(key);
    if (id === undefined) {
      // another connection to this file may have added it since this one loaded the table
      id = selectSid.get(key) as number | undefined;
      if (id === undefined) {
        id = offline ? topSid + 1 : Number(insertSessionKey.run(key).lastInsertRowid);
        log?.keys.push([id, key]);
      }
      if (id > topSid) topSid = id;
      sids.set(key, id);
      addedSids.push(key);
    }
    return id;
  }

  /** chunk rows accepted but not on disk (held while the disk refuses writes) */
  const heldChunks = (): readonly ChunkRow[] => group.held()?.chunks ?? [];

  const dedupe = createSessionDedupe((sid, set) => {
    for (const blob of selectSessionHashes.iterate(sid) as Iterable<Buffer>) set.addPacked(blob);
    for (const c of heldChunks()) if (c[1] === sid) set.addPacked(c[3]);
  }, opts.dedupeBytes);
  if (opts.carry?.dedupe) for (const [sid, set] of opts.carry.dedupe) dedupe.adopt(sid, set);

  /** a store written after its file was lost starts its seqs after the lost ones (`SEQ_FLOOR`) */
  let seqFloor = 0;
  const dbLastSeq = (): number => Math.max((selectLast.get() as number | undefined) ?? 0, seqFloor);
  let lastSeq = 0;

  /**
   * Collects the new events of one append into chunks (consecutive events of one session) and
   * writes each when the session changes, when it is full, or at the end.
   */
  const lanes = new Uint32Array(3);
  const chunkHashes = Buffer.alloc(MAX_CHUNK * 12);
  let chunk: PulseEvent[] = [];
  let chunkSid = -1;

  function flushChunk(stored: StoredEvent[] | undefined, first = lastSeq + 1): void {
    const n = chunk.length;
    if (!n) return;
    const row: ChunkRow = [
      first,
      chunkSid,
      n,
      Buffer.from(chunkHashes.subarray(0, n * 12)),
      encodeChunk(chunk),
    ];
    if (!offline) insertChunk.run(row);
    if (log) {
      log.chunks.push(row);
      log.events += n;
    }
    if (stored) for (let i = 0; i < n; i++) stored.push({ seq: first + i, event: chunk[i] as PulseEvent });
    lastSeq = first + n - 1;
    chunk = [];
  }

  /** adds an event (its hash in `lanes`) to the running chunk */
  function pushToChunk(event: PulseEvent): void {
    const o = chunk.length * 12;
    chunkHashes.writeUInt32LE(lanes[0] as number, o);
    chunkHashes.writeUInt32LE(lanes[1] as number, o + 4);
    chunkHashes.writeUInt32LE(lanes[2] as number, o + 8);
    chunk.push(event);
  }

  /** sessions whose dedupe set took hashes in the running append (forgotten if it rolls back) */
  const touched = new Set<number>();

  const upsertOffset = db.prepare(
    'INSERT INTO offsets (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
  );
  const upsertSnapshot = db.prepare(
    'INSERT INTO snapshots (session_key, body) VALUES (?, ?) ON CONFLICT(session_key) DO UPDATE SET body = excluded.body',
  );
  const selectSnapshots = db.prepare('SELECT body FROM snapshots');
  const selectSnapshot = db.prepare('SELECT body FROM snapshots WHERE session_key = ?');
  const countSnapshots = db.prepare('SELECT COUNT(*) AS c FROM snapshots');
  const selectOffset = db.prepare('SELECT value FROM offsets WHERE key = ?');
  const selectOffsetsByPrefix = db.prepare(
    'SELECT key, value FROM offsets WHERE substr(key, 1, length(?)) = ? ORDER BY key',
  );
  const kvGet = db.prepare('SELECT value FROM kv WHERE ns = ? AND key = ?');
  const kvSet = db.prepare(
    'INSERT INTO kv (ns, key, value) VALUES (?, ?, ?) ON CONFLICT(ns, key) DO UPDATE SET value = excluded.value',
  );
  const kvDelete = db.prepare('DELETE FROM kv WHERE ns = ? AND key = ?');
  const kvList = db.prepare('SELECT key, value FROM kv WHERE ns = ? ORDER BY key');
  if (upgrading) {
    try {
      copyOldEvents();
    } catch (err) {
      db.exec('ROLLBACK');
      db.close();
      const e = errorOf(err);
      throw new StoreError(
        `store ${path}: upgrading to schema ${SCHEMA_VERSION} failed: ${e.message ?? String(err)}`,
        path,
        e.code,
        { cause: err },
      );
    }
    addedSids = [];
  } else if (version === 0) {
    // a new store (an existing one is not written to: a reader must not wait for the daemon's lock)
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }
  /**
   * Schema 3 → 4 changed only how bodies are written (schema 3 bodies read the same), so a schema
   * 3 store is marked 4 by the transaction that writes its first schema 4 body: from then on an
   * older clawpulse, which would read those events without their session key, refuses it.
   */
  const markVersion =
    version === 3
      ? () => {
          if (db.pragma('user_version', { simple: true }) !== SCHEMA_VERSION)
            db.pragma(`user_version = ${SCHEMA_VERSION}`);
        }
      : () => {};

  /** schema 1/2 → 4: the old rows, in seq order, become chunks with the same seqs */
  function copyOldEvents(): void {
    const page = db.prepare('SELECT seq, body FROM events_old WHERE seq > ? ORDER BY seq LIMIT 5000');
    let count = 0;
    let first = 0;
    for (let after = 0; ; ) {
      const rows = page.all(after) as Array<{ seq: number; body: string }>;
      for (const r of rows) {
        const e = JSON.parse(r.body) as PulseEvent;
        const sid = sidOf(String(e.sessionKey));
        // a seq gap starts a new chunk too (a chunk's seqs are consecutive)
        const fits = r.seq === first + chunk.length && sid === chunkSid && chunk.length < MAX_CHUNK;
        if (!fits) {
          flushChunk(undefined, first);
          first = r.seq;
          chunkSid = sid;
        }
        hashOf(String(e.dedupeKey), lanes);
        pushToChunk(e);
        count++;
      }
      const last = rows[rows.length - 1];
      if (!last) break;
      after = last.seq;
    }
    flushChunk(undefined, first);
    kvSet.run(STORE_NS, MISSING_SEQS, String(lastSeq - count));
    db.exec('DROP TABLE events_old');
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    db.exec('COMMIT');
  }

  const missingSeqs = Number(
    (kvGet.get(STORE_NS, MISSING_SEQS) as { value: string } | undefined)?.value ?? 0,
  );
  seqFloor = Number((kvGet.get(STORE_NS, SEQ_FLOOR) as { value: string } | undefined)?.value ?? 0);
  lastSeq = dbLastSeq();
  for (const c of opts.carry?.unwritten?.chunks ?? []) lastSeq = Math.max(lastSeq, c[0] + c[2] - 1);
  /**
   * The last seq given out: the database's, or this writer's while a rolled-back group waits in
   * the redo log to be written again (its events were accepted with their seqs).
   */
  const seqNow = (): number => Math.max(dbLastSeq(), lastSeq);

  const insertSessionKeyAt = db.prepare('INSERT OR IGNORE INTO session_keys (id, key) VALUES (?, ?)');
  let ledger: DispatchLedger | undefined;
  let usage: UsageStore | undefined;
  let alerts: AlertStore | undefined;
  const group = createGroupCommit(db, {
    maxDelayMs: opts.commitDelayMs ?? DEFAULT_COMMIT_DELAY_MS,
    ...(opts.carry?.unwritten ? { redo: opts.carry.unwritten } : {}),
    // the group holds the write lock from here on: only now can another writer's rows appear
    onBegin: () => {
      markVersion();
      const inDb = dbLastSeq();
      if (inDb !== lastSeq) {
        // another writer appended: what this process remembers of the sessions is stale
        dedupe.clear();
        lastSeq = inDb;
      }
    },
    rewrite: (redo) => {
      markVersion();
      for (const k of redo.keys) insertSessionKeyAt.run(k);
      for (const c of redo.chunks) insertChunk.run(c);
      for (const [k, v] of redo.offsets) upsertOffset.run(k, v);
    },
    writeOffsets: (pending) => {
      for (const [k, v] of pending) upsertOffset.run(k, v);
    },
  });

  const writeEvents = (
    events: readonly PulseEvent[],
    offsets: readonly SourceOffset[] | undefined,
  ): AppendResult => {
    const stored: StoredEvent[] = [];
    let duplicates = 0;
    let key: string | undefined;
    let sid = -1;
    let set = undefined as ReturnType<typeof dedupe.get> | undefined;
    chunk = [];
    chunkSid = -1;
    for (const event of events) {
      if (incomplete(event)) {
        duplicates++;
        continue;
      }
      if (event.sessionKey !== key || !set) {
        key = event.sessionKey;
        sid = sidOf(key);
        set = dedupe.get(sid);
      }
      hashOf(event.dedupeKey, lanes);
      if (!set.add(lanes[0] as number, lanes[1] as number, lanes[2] as number)) {
        duplicates++;
        continue;
      }
      if (sid !== chunkSid || chunk.length === MAX_CHUNK) {
        flushChunk(stored);
        chunkSid = sid;
        touched.add(sid);
      }
      pushToChunk(event);
    }
    flushChunk(stored);
    // written once per group, at its commit (`writeOffsets`)
    if (offsets) for (const o of offsets) log?.offsets.set(o.key, JSON.stringify(o.value));
    return { stored, duplicates };
  };
  const setOffsetsTx = db.transaction((offsets: readonly SourceOffset[]) => {
    for (const o of offsets) upsertOffset.run(o.key, JSON.stringify(o.value));
  });
  const snapshotsTx = db.transaction((sessions: readonly SessionState[], appliedSeq?: number) => {
    let bytes = 0;
    for (const s of sessions) {
      const body = JSON.stringify(s);
      bytes += body.length;
      upsertSnapshot.run(s.key, body);
    }
    if (appliedSeq !== undefined) kvSet.run(STORE_NS, SNAPSHOT_SEQ, String(appliedSeq));
    return bytes;
  });

  /** Turns SQLite failures (disk full, read-only, I/O) into errors that say what and where. */
  function guard<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      const e = errorOf(err);
      throw new StoreError(
        `store ${path}: ${what} failed: ${e.code ?? ''} ${e.message ?? String(err)}`.trim(),
        path,
        e.code,
        { cause: err },
      );
    }
  }

  /** the events of chunk rows (of `key`'s session, or each row's `key`), oldest first, with seq > after, at most `limit` */
  function eventsOf(rows: Iterable<ChunkRead>, after: number, limit: number, key?: string) {
    const out: StoredEvent[] = [];
    if (limit <= 0) return out;
    for (const r of rows) {
      const events = decodeChunk(r.body, key ?? (r.key as string));
      for (let i = Math.max(0, after + 1 - r.first); i < events.length; i++) {
        out.push({ seq: r.first + i, event: events[i] as PulseEvent });
        if (out.length >= limit) return out;
      }
    }
    return out;
  }

  /** one append, into the open group or (`held`: the disk refuses writes) into the held log */
  function appendOnce(
    events: readonly PulseEvent[],
    offsets: readonly SourceOffset[] | undefined,
    held: boolean,
  ): AppendResult {
    addedSids = [];
    touched.clear();
    const before = lastSeq;
    const write = (into: WriteLog): AppendResult => {
      log = into;
      offline = held;
      try {
        return writeEvents(events, offsets);
      } finally {
        log = undefined;
        offline = false;
      }
    };
    try {
      const result = guard('append', () => (held ? group.hold(write) : group.run(write)));
      dedupe.trim();
      return result;
    } catch (err) {
      // rolled back: the session ids, hashes and seqs it added are gone from the database
      for (const k of addedSids) sids.delete(k);
      for (const sid of touched) dedupe.forget(sid);
      lastSeq = before;
      throw err;
    } finally {
      addedSids = [];
      chunk = [];
    }
  }

  /** while the disk refuses writes: held in memory, up to `maxHeld` events */
  function appendHeld(events: readonly PulseEvent[], offsets: readonly SourceOffset[] | undefined) {
    const held = group.held()?.events ?? 0;
    if (held >= maxHeld) {
      throw new StoreError(
        `store ${path}: the disk refuses writes and ${held} events are held in memory; taking no more until it accepts them`,
        path,
        HOLD_FULL,
      );
    }
    return appendOnce(events, offsets, true);
  }

  /** held chunk rows (of session `sid`, or all) as rows to read, each with its session key */
  function heldRows(sid?: number): ChunkRead[] {
    const held = heldChunks();
    if (!held.length) return [];
    const keyOf = new Map<number, string>();
    for (const [k, id] of sids) keyOf.set(id, k);
    const rows: ChunkRead[] = [];
    for (const c of held) {
      if (sid === undefined || c[1] === sid)
        rows.push({ first: c[0], body: c[4], key: keyOf.get(c[1]) ?? '' });
    }
    return rows;
  }

  /** `out` (read from disk) continued with the held rows after it, up to `limit` */
  function withHeld(out: StoredEvent[], after: number, limit: number, sid?: number, key?: string) {
    if (out.length >= limit || !heldChunks().length) return out;
    const from = out.length ? (out[out.length - 1] as StoredEvent).seq : after;
    for (const e of eventsOf(heldRows(sid), from, limit - out.length, key)) out.push(e);
    return out;
  }

  return {
    path,
    append: (events, offsets) => {
      if (group.holding()) return appendHeld(events, offsets);
      try {
        return appendOnce(events, offsets, false);
      } catch (err) {
        // the disk refused it (the group it joined is held for redo): hold this batch too
        if (group.holding() && isSqliteError(err)) return appendHeld(events, offsets);
        throw err;
      }
    },
    readAfter: (after, limit) => {
      const from = (selectChunkAt.get(after + 1) as number | undefined) ?? 0;
      return withHeld(
        eventsOf(selectChunksFrom.iterate(from) as Iterable<ChunkRead>, after, limit),
        after,
        limit,
      );
    },
    readSession: (key, limit = 1_000_000) => {
      const sid = sids.get(key) ?? (selectSid.get(key) as number | undefined);
      if (sid === undefined) return [];
      return withHeld(
        eventsOf(selectSessionChunks.iterate(sid) as Iterable<ChunkRead>, 0, limit, key),
        0,
        limit,
        sid,
        key,
      );
    },
    heldEvents: () => group.held()?.events ?? 0,
    database: () => db,
    takeUnwritten: () => group.takeUnwritten(),
    dedupeSets: () => dedupe.sets(),
    lastSeq: seqNow,
    countEvents: () => seqNow() - missingSeqs,
    // joins the group (a redo first): the snapshots commit with the events they hold, never
    // before them, so the seq they claim is always on disk when they are
    saveSnapshots: (sessions, appliedSeq) =>
      guard('saving snapshots', () => group.run(() => snapshotsTx(sessions, appliedSeq))),
    snapshotSeq: () => {
      const v = (kvGet.get(STORE_NS, SNAPSHOT_SEQ) as { value: string } | undefined)?.value;
      return v === undefined ? undefined : Number(v);
    },
    loadSnapshots: () =>
      (selectSnapshots.all() as Array<{ body: string }>).map((r) => JSON.parse(r.body) as SessionState),
    loadSnapshot: (key) => {
      const r = selectSnapshot.get(key) as { body: string } | undefined;
      return r ? (JSON.parse(r.body) as SessionState) : undefined;
    },
    getOffset: (key) => {
      const pending = group.pendingOffsets().findLast(([k]) => k === key);
      if (pending) return JSON.parse(pending[1]);
      const r = selectOffset.get(key) as { value: string } | undefined;
      return r ? JSON.parse(r.value) : undefined;
    },
    listOffsets: (prefix) => {
      const all = new Map<string, string>();
      for (const r of selectOffsetsByPrefix.all(prefix, prefix) as Array<{ key: string; value: string }>)
        all.set(r.key, r.value);
      for (const [k, v] of group.pendingOffsets()) if (k.startsWith(prefix)) all.set(k, v);
      return [...all.keys()].sort().map((key) => ({ key, value: JSON.parse(all.get(key) as string) }));
    },
    setOffsets: (offsets) =>
      guard('saving offsets', () => {
        group.flush();
        setOffsetsTx(offsets);
      }),
    flush: () => {
      dedupe.dropIdle();
      return guard('commit', () => group.flush());
    },
    kvGet: (ns, key) => (kvGet.get(ns, key) as { value: string } | undefined)?.value,
    // outputs' own state is committed on its own, never held back in (or lost with) a group
    kvSet: (ns, key, value) =>
      guard('kv write', () => {
        group.flush();
        kvSet.run(ns, key, value);
      }),
    kvDelete: (ns, key) =>
      guard('kv delete', () => {
        group.flush();
        kvDelete.run(ns, key);
      }),
    kvList: (ns) => kvList.all(ns) as Array<{ key: string; value: string }>,
    // on this connection, committing the open group first (a second connection would deadlock on it)
    ledger: () => {
      ledger ??= createSqliteLedger(db, () => group.flush());
      return ledger;
    },
    // written in the open group: rows and watermark commit with the events they count
    usage() {
      usage ??= createSqliteUsage(db, {
        write: (fn) => guard('usage write', () => group.run(() => fn())),
        flush: () => guard('commit', () => group.flush()),
        readAfter: (after, limit) => this.readAfter(after, limit),
        canWrite: () => !group.holding(),
      });
      return usage;
    },
    alerts: () => {
      alerts ??= createSqliteAlerts(db, () => group.flush());
      return alerts;
    },
    stats: () => {
      let bytes = 0;
      if (path !== ':memory:') {
        for (const f of [path, `${path}-wal`]) {
          try {
            bytes += statSync(f).size;
          } catch {
            // the WAL file may not exist yet
          }
        }
      }
      const last = seqNow();
      return {
        path,
        events: last - missingSeqs,
        sessions: (countSnapshots.get() as { c: number }).c,
        lastSeq: last,
        bytes,
        heldEvents: group.held()?.events ?? 0,
      };
    },
    close: () => {
      if (!db.open) return;
      group.close();
      db.close();
    },
  };
}

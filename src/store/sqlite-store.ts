/**
 * The SQLite EventStore (better-sqlite3, WAL). Append-only events with a gap-free sequence
 * number, a UNIQUE dedupeKey (a second sighting of a fact is dropped), session snapshots,
 * source offsets (saved in the same transaction as the events they cover) and a small kv.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { PulseEvent, StoredEvent } from '../model/events.js';
import type { SessionState } from '../model/session.js';
import type { AppendResult, EventStore, SourceOffset } from './event-store.js';

const SCHEMA_VERSION = 2;

/**
 * Events are keyed for dedupe by a 64-bit hash of their dedupeKey (`dedupeHash`), not the text:
 * an 8-byte UNIQUE index is a fraction of the text one, and its high bits come from the key's
 * first segment (a transcript's session id) so one transcript's events land together in the
 * index instead of all over it. The key itself stays in the body; a hash collision (two keys,
 * one hash) is settled by comparing it and probing the next value (`insertOne`).
 *
 * Which events belong to a session is kept per run, not per event: `session_runs` has one row
 * per stretch of consecutive seqs of one session stored by one append (a source's read is
 * mostly one session), so a per-session read is a few range scans of the events table and an
 * append writes one index entry per event (the dedupe hash) instead of two. Session keys are
 * interned to small integers (`session_keys`).
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY,
  dkey INTEGER NOT NULL UNIQUE,
  body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS session_keys (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS session_runs (
  sid INTEGER NOT NULL,
  first INTEGER NOT NULL,
  last INTEGER NOT NULL,
  PRIMARY KEY (sid, first)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS snapshots (session_key TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS offsets (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS kv (ns TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (ns, key));
`;

const hashBuf = Buffer.alloc(8);

/**
 * 64-bit hash of a dedupe key (as a signed BigInt, SQLite's INTEGER): bits 63..48 hash the key's
 * first `/`-separated segment (locality), bits 47..0 hash the whole key (two 32-bit
 * multiply-xorshift lanes). Stable across versions: it is stored.
 */
export function dedupeHash(key: string): bigint {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  let p = 0x811c9dc5;
  let inPrefix = true;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
    if (inPrefix) {
      if (c === 0x2f) inPrefix = false;
      else p = Math.imul(p ^ c, 16777619);
    }
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  p = Math.imul(p ^ (p >>> 15), 2246822507);
  p ^= p >>> 13;
  hashBuf.writeUInt32LE(h1 >>> 0, 0);
  hashBuf.writeUInt32LE(((p & 0xffff0000) | (h2 & 0xffff)) >>> 0, 4);
  return hashBuf.readBigInt64LE(0);
}

const MAX_I64 = 0x7fffffffffffffffn;
const MIN_I64 = -0x8000000000000000n;
const nextHash = (h: bigint): bigint => (h === MAX_I64 ? MIN_I64 : h + 1n);

export class StoreError extends Error {
  constructor(
    message: string,
    public readonly path: string,
    public readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreError';
  }
}

export interface SqliteStoreOptions {
  /** the dedupe key hash (tests force collisions with it); `dedupeHash` by default */
  hash?: (dedupeKey: string) => bigint;
}

export function createSqliteStore(path: string, opts: SqliteStoreOptions = {}): EventStore {
  const hashOf = opts.hash ?? dedupeHash;
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new StoreError(
        `store ${path} has schema version ${version}, newer than this clawpulse understands (${SCHEMA_VERSION}); upgrade clawpulse or point CLAWPULSE_DB elsewhere`,
        path,
      );
    }
    if (version === 1) {
      // v1 kept the dedupe key and session key as indexed text: its events move over below, in
      // this one transaction (a crash midway leaves the v1 store as it was)
      db.exec(
        'BEGIN IMMEDIATE; DROP INDEX IF EXISTS events_by_session; ALTER TABLE events RENAME TO events_v1;',
      );
    }
    db.exec(SCHEMA);
  } catch (err) {
    if (err instanceof StoreError) throw err;
    const e = err as { code?: string; message?: string };
    throw new StoreError(`cannot open store ${path}: ${e.message ?? String(err)}`, path, e.code, {
      cause: err,
    });
  }

  const insertEvent = db.prepare('INSERT OR IGNORE INTO events (dkey, body) VALUES (?, ?)');
  const insertEventAt = db.prepare('INSERT OR IGNORE INTO events (seq, dkey, body) VALUES (?, ?, ?)');
  const insertRun = db.prepare('INSERT INTO session_runs (sid, first, last) VALUES (?, ?, ?)');
  const selectByHash = db.prepare('SELECT body FROM events WHERE dkey = ?');
  const insertSessionKey = db.prepare('INSERT INTO session_keys (key) VALUES (?)');
  const selectSid = db.prepare('SELECT id FROM session_keys WHERE key = ?');
  /** session key → id; ids added by a transaction that then failed are taken out again */
  const sids = new Map<string, number>();
  for (const r of db.prepare('SELECT id, key FROM session_keys').iterate() as Iterable<{
    id: number;
    key: string;
  }>)
    sids.set(r.key, r.id);
  let addedSids: string[] = [];

  function sidOf(key: string): number {
    let id = sids.get(key);
    if (id === undefined) {
      // another connection to this file may have added it since this one loaded the table
      const row = selectSid.get(key) as { id: number } | undefined;
      id = row ? row.id : Number(insertSessionKey.run(key).lastInsertRowid);
      sids.set(key, id);
      addedSids.push(key);
    }
    return id;
  }

  /**
   * Stores one event unless its dedupeKey is already stored; returns its seq, or undefined for
   * a duplicate. On a hash hit the stored key is compared: a different key (a collision) probes
   * the next hash value, so every key keeps one stable slot (events are never deleted).
   */
  function insertOne(e: PulseEvent, seq?: number): number | undefined {
    const key = String(e.dedupeKey);
    const body = JSON.stringify(e);
    let h = hashOf(key);
    for (;;) {
      const r = seq === undefined ? insertEvent.run(h, body) : insertEventAt.run(seq, h, body);
      if (r.changes === 1) return Number(r.lastInsertRowid);
      const row = selectByHash.get(h) as { body: string } | undefined;
      if (!row) throw new Error(`event ${key} was neither stored nor found`);
      if ((JSON.parse(row.body) as { dedupeKey?: unknown }).dedupeKey === key) return undefined;
      h = nextHash(h);
    }
  }

  /** collects the runs of consecutive seqs per session of one append, written at its end */
  function runWriter() {
    let sid = -1;
    let first = 0;
    let last = 0;
    return {
      add(sessionKey: string, seq: number): void {
        const id = sidOf(sessionKey);
        if (id === sid && seq === last + 1) {
          last = seq;
          return;
        }
        if (sid >= 0) insertRun.run(sid, first, last);
        sid = id;
        first = seq;
        last = seq;
      },
      end(): void {
        if (sid >= 0) insertRun.run(sid, first, last);
        sid = -1;
      },
    };
  }

  /** v1 rejected (as a duplicate) an event missing one of its indexed fields; so does v2 */
  const incomplete = (e: PulseEvent): boolean =>
    e.dedupeKey == null || e.sessionKey == null || e.type == null || e.ts == null || Number.isNaN(e.ts);

  if (db.inTransaction) {
    try {
      const page = db.prepare('SELECT seq, body FROM events_v1 WHERE seq > ? ORDER BY seq LIMIT 5000');
      const runs = runWriter();
      for (let after = 0; ; ) {
        const old = page.all(after) as Array<{ seq: number; body: string }>;
        for (const r of old) {
          const e = JSON.parse(r.body) as PulseEvent;
          const seq = insertOne(e, r.seq);
          if (seq !== undefined) runs.add(String(e.sessionKey), seq);
        }
        const last = old[old.length - 1];
        if (!last) break;
        after = last.seq;
      }
      runs.end();
      db.exec('DROP TABLE events_v1');
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      db.close();
      const e = err as { code?: string; message?: string };
      throw new StoreError(
        `store ${path}: upgrading to schema ${SCHEMA_VERSION} failed: ${e.message ?? String(err)}`,
        path,
        e.code,
        {
          cause: err,
        },
      );
    }
    addedSids = [];
  } else db.pragma(`user_version = ${SCHEMA_VERSION}`);

  const upsertOffset = db.prepare(
    'INSERT INTO offsets (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
  );
  const selectAfter = db.prepare('SELECT seq, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?');
  const selectSession = db.prepare(
    'SELECT e.seq, e.body FROM session_runs r JOIN events e ON e.seq BETWEEN r.first AND r.last WHERE r.sid = ? ORDER BY r.first, e.seq LIMIT ?',
  );
  const selectLastSeq = db.prepare('SELECT COALESCE(MAX(seq), 0) AS s FROM events');
  const selectCount = db.prepare('SELECT COUNT(*) AS c FROM events');
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

  const appendTx = db.transaction(
    (events: readonly PulseEvent[], offsets: readonly SourceOffset[] | undefined): AppendResult => {
      const stored: StoredEvent[] = [];
      let duplicates = 0;
      const runs = runWriter();
      for (const event of events) {
        const seq = incomplete(event) ? undefined : insertOne(event);
        if (seq !== undefined) {
          stored.push({ seq, event });
          runs.add(String(event.sessionKey), seq);
        } else duplicates++;
      }
      runs.end();
      if (offsets) for (const o of offsets) upsertOffset.run(o.key, JSON.stringify(o.value));
      return { stored, duplicates };
    },
  );
  const setOffsetsTx = db.transaction((offsets: readonly SourceOffset[]) => {
    for (const o of offsets) upsertOffset.run(o.key, JSON.stringify(o.value));
  });
  const snapshotsTx = db.transaction((sessions: readonly SessionState[]) => {
    for (const s of sessions) upsertSnapshot.run(s.key, JSON.stringify(s));
  });

  const rows = (list: unknown[]): StoredEvent[] =>
    (list as Array<{ seq: number; body: string }>).map((r) => ({
      seq: r.seq,
      event: JSON.parse(r.body) as PulseEvent,
    }));

  /** Turns SQLite failures (disk full, read-only, I/O) into errors that say what and where. */
  function guard<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      const e = err as { code?: string; message?: string };
      throw new StoreError(
        `store ${path}: ${what} failed: ${e.code ?? ''} ${e.message ?? String(err)}`.trim(),
        path,
        e.code,
        {
          cause: err,
        },
      );
    }
  }

  return {
    append: (events, offsets) => {
      addedSids = [];
      try {
        return guard('append', () => appendTx(events, offsets));
      } catch (err) {
        // rolled back: the session ids it added are gone from the database
        for (const k of addedSids) sids.delete(k);
        throw err;
      } finally {
        addedSids = [];
      }
    },
    readAfter: (after, limit) => rows(selectAfter.all(after, limit)),
    readSession: (key, limit = 1_000_000) => {
      const sid = sids.get(key) ?? (selectSid.get(key) as { id: number } | undefined)?.id;
      return sid === undefined ? [] : rows(selectSession.all(sid, limit));
    },
    lastSeq: () => (selectLastSeq.get() as { s: number }).s,
    countEvents: () => (selectCount.get() as { c: number }).c,
    saveSnapshots: (sessions) => guard('saving snapshots', () => snapshotsTx(sessions)),
    loadSnapshots: () =>
      (selectSnapshots.all() as Array<{ body: string }>).map((r) => JSON.parse(r.body) as SessionState),
    loadSnapshot: (key) => {
      const r = selectSnapshot.get(key) as { body: string } | undefined;
      return r ? (JSON.parse(r.body) as SessionState) : undefined;
    },
    getOffset: (key) => {
      const r = selectOffset.get(key) as { value: string } | undefined;
      return r ? JSON.parse(r.value) : undefined;
    },
    listOffsets: (prefix) =>
      (selectOffsetsByPrefix.all(prefix, prefix) as Array<{ key: string; value: string }>).map((r) => ({
        key: r.key,
        value: JSON.parse(r.value),
      })),
    setOffsets: (offsets) => guard('saving offsets', () => setOffsetsTx(offsets)),
    kvGet: (ns, key) => (kvGet.get(ns, key) as { value: string } | undefined)?.value,
    kvSet: (ns, key, value) => guard('kv write', () => void kvSet.run(ns, key, value)),
    kvDelete: (ns, key) => guard('kv delete', () => void kvDelete.run(ns, key)),
    kvList: (ns) => kvList.all(ns) as Array<{ key: string; value: string }>,
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
      return {
        path,
        events: (selectCount.get() as { c: number }).c,
        sessions: (countSnapshots.get() as { c: number }).c,
        lastSeq: (selectLastSeq.get() as { s: number }).s,
        bytes,
      };
    },
    close: () => {
      if (db.open) db.close();
    },
  };
}

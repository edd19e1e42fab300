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

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY,
  dedupe_key TEXT NOT NULL UNIQUE,
  session_key TEXT NOT NULL,
  type TEXT NOT NULL,
  ts INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_session ON events(session_key, seq);
CREATE TABLE IF NOT EXISTS snapshots (session_key TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS offsets (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS kv (ns TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (ns, key));
`;

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

export function createSqliteStore(path: string): EventStore {
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
    db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  } catch (err) {
    if (err instanceof StoreError) throw err;
    const e = err as { code?: string; message?: string };
    throw new StoreError(`cannot open store ${path}: ${e.message ?? String(err)}`, path, e.code, { cause: err });
  }

  const insertEvent = db.prepare(
    'INSERT OR IGNORE INTO events (dedupe_key, session_key, type, ts, body) VALUES (?, ?, ?, ?, ?)',
  );
  const upsertOffset = db.prepare(
    'INSERT INTO offsets (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
  );
  const selectAfter = db.prepare('SELECT seq, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?');
  const selectSession = db.prepare('SELECT seq, body FROM events WHERE session_key = ? ORDER BY seq LIMIT ?');
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
    "SELECT key, value FROM offsets WHERE substr(key, 1, length(?)) = ? ORDER BY key",
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
      for (const event of events) {
        const r = insertEvent.run(event.dedupeKey, event.sessionKey, event.type, event.ts, JSON.stringify(event));
        if (r.changes === 1) stored.push({ seq: Number(r.lastInsertRowid), event });
        else duplicates++;
      }
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
    (list as Array<{ seq: number; body: string }>).map((r) => ({ seq: r.seq, event: JSON.parse(r.body) as PulseEvent }));

  /** Turns SQLite failures (disk full, read-only, I/O) into errors that say what and where. */
  function guard<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      const e = err as { code?: string; message?: string };
      throw new StoreError(`store ${path}: ${what} failed: ${e.code ?? ''} ${e.message ?? String(err)}`.trim(), path, e.code, {
        cause: err,
      });
    }
  }

  return {
    append: (events, offsets) => guard('append', () => appendTx(events, offsets)),
    readAfter: (after, limit) => rows(selectAfter.all(after, limit)),
    readSession: (key, limit = 1_000_000) => rows(selectSession.all(key, limit)),
    lastSeq: () => (selectLastSeq.get() as { s: number }).s,
    countEvents: () => (selectCount.get() as { c: number }).c,
    saveSnapshots: (sessions) => guard('saving snapshots', () => snapshotsTx(sessions)),
    loadSnapshots: () => (selectSnapshots.all() as Array<{ body: string }>).map((r) => JSON.parse(r.body) as SessionState),
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

import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { PulseEvent } from '../model/events.js';
import { hashKey } from './dedupe-hash.js';
import { describeEventStoreContract, session } from './event-store.contract.js';
import { SCHEMA } from './sqlite-schema.js';
import { createSqliteStore, type SqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'clawpulse-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** a store and its raw connection, for tests that make SQLite fail under it */
function openWithRaw(name: string): { s: SqliteStore; raw: Database.Database; path: string } {
  let raw: Database.Database | undefined;
  const path = join(dir, name);
  const s = createSqliteStore(path, {
    configure: (db) => {
      raw = db;
    },
  });
  return { s, raw: raw as Database.Database, path };
}

describeEventStoreContract('sqlite', (id) => createSqliteStore(join(dir, `${id}.sqlite`)));

describe('sqlite store specifics', () => {
  it('uses WAL so readers never block the writer', () => {
    const path = join(dir, 'wal.sqlite');
    const s = createSqliteStore(path);
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
    s.close();
  });

  it('refuses a store written by a newer schema with a clear message', () => {
    const path = join(dir, 'newer.sqlite');
    const raw = new Database(path);
    raw.pragma('user_version = 99');
    raw.close();
    expect(() => createSqliteStore(path)).toThrow(/schema version 99/);
  });
});

describe('sqlite store: dedupe hash and schema upgrade', () => {
  const ev = (n: number, key = 'agent:main:main'): PulseEvent => ({
    type: 'assistant.text',
    ts: 1000 + n,
    source: 'files',
    sessionKey: key,
    agentId: 'main',
    dedupeKey: `sid-${key}/e${n}/assistant.text/0`,
    text: `line ${n}`,
  });

  it('keeps two keys whose hashes differ in one lane only, and still drops true duplicates', () => {
    const path = join(dir, 'collide.sqlite');
    // lanes 0 and 1 collide for every key; lane 2 tells them apart
    const hash = (key: string, out: Uint32Array) => {
      out[0] = 42;
      out[1] = 7;
      out[2] = Number(/e(\d+)/.exec(key)?.[1] ?? 0) + 1;
    };
    const open = () => createSqliteStore(path, { hash });
    const s = open();
    expect(s.append([ev(1), ev(2), ev(3)]).stored.map((x) => x.seq)).toEqual([1, 2, 3]);
    const r = s.append([ev(2), ev(4), ev(1)]);
    expect(r.duplicates).toBe(2);
    expect(r.stored.map((x) => x.seq)).toEqual([4]);
    s.close();
    const again = open();
    expect(again.append([ev(3), ev(4), ev(5)]).stored.map((x) => x.seq)).toEqual([5]);
    expect(again.readSession('agent:main:main').map((x) => (x.event as { text: string }).text)).toEqual([
      'line 1',
      'line 2',
      'line 3',
      'line 4',
      'line 5',
    ]);
    again.close();
  });

  it('dedupes a session whose set was dropped for memory, by reloading it from its chunks', () => {
    const path = join(dir, 'evict.sqlite');
    // room for about one session's set: every other session's set is dropped and reloaded
    const s = createSqliteStore(path, { dedupeBytes: 1 });
    for (let round = 0; round < 3; round++) {
      for (const key of ['a', 'b', 'c']) {
        const r = s.append([ev(round, key), ev(round + 1, key)]);
        expect(r.stored.map((x) => x.event.dedupeKey)).toEqual(
          round === 0 ? [ev(0, key).dedupeKey, ev(1, key).dedupeKey] : [ev(round + 1, key).dedupeKey],
        );
      }
    }
    expect(s.countEvents()).toBe(12);
    s.close();
  });

  it('keeps chunks of at most 512 events and reads across their edges', () => {
    const s = createSqliteStore(join(dir, 'chunks.sqlite'));
    const many = Array.from({ length: 1300 }, (_, i) => ev(i, i < 1200 ? 'long' : 'short'));
    expect(s.append(many).stored.at(-1)?.seq).toBe(1300);
    expect(s.readAfter(510, 5).map((x) => x.seq)).toEqual([511, 512, 513, 514, 515]);
    expect(s.readAfter(1198, 4).map((x) => x.event.sessionKey)).toEqual(['long', 'long', 'short', 'short']);
    expect(s.readSession('long')).toHaveLength(1200);
    expect(s.readSession('short', 3).map((x) => x.seq)).toEqual([1201, 1202, 1203]);
    s.close();
    const raw = new Database(join(dir, 'chunks.sqlite'), { readonly: true });
    expect(raw.prepare('SELECT n FROM chunks ORDER BY first').pluck().all()).toEqual([512, 512, 176, 100]);
    raw.close();
  });

  it('a session a failed append introduced is not remembered', () => {
    const s = createSqliteStore(join(dir, 'rollback.sqlite'));
    const bad = { ...ev(1, 'new-session'), text: 1n } as unknown as PulseEvent; // JSON.stringify throws
    expect(() => s.append([ev(2, 'new-session'), bad])).toThrow();
    expect(s.readSession('new-session')).toEqual([]);
    s.append([ev(3, 'other-session')]);
    expect(s.readSession('new-session')).toEqual([]);
    s.append([ev(4, 'new-session')]);
    expect(s.readSession('new-session').map((x) => x.seq)).toEqual([2]);
    expect(s.readSession('other-session').map((x) => x.seq)).toEqual([1]);
    s.close();
  });

  it('upgrades a schema 1 store in place, keeping seqs, sessions and dedupe', () => {
    const path = join(dir, 'v1.sqlite');
    const raw = new Database(path);
    raw.exec(`
      CREATE TABLE events (seq INTEGER PRIMARY KEY, dedupe_key TEXT NOT NULL UNIQUE, session_key TEXT NOT NULL,
        type TEXT NOT NULL, ts INTEGER NOT NULL, body TEXT NOT NULL);
      CREATE INDEX events_by_session ON events(session_key, seq);
      CREATE TABLE snapshots (session_key TEXT PRIMARY KEY, body TEXT NOT NULL);
      CREATE TABLE offsets (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE kv (ns TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (ns, key));
    `);
    const ins = raw.prepare(
      'INSERT INTO events (seq, dedupe_key, session_key, type, ts, body) VALUES (?, ?, ?, ?, ?, ?)',
    );
    for (const [seq, e] of [
      [1, ev(1, 'a')],
      [2, ev(2, 'b')],
      [5, ev(5, 'a')],
    ] as const)
      ins.run(seq, e.dedupeKey, e.sessionKey, e.type, e.ts, JSON.stringify(e));
    raw.prepare('INSERT INTO offsets (key, value) VALUES (?, ?)').run('files:/x', '{"pos":3}');
    raw.pragma('user_version = 1');
    raw.close();

    const s = createSqliteStore(path);
    expect(s.lastSeq()).toBe(5);
    expect(s.readSession('a').map((x) => x.seq)).toEqual([1, 5]);
    expect(s.readAfter(0, 10).map((x) => x.event.dedupeKey)).toEqual(
      [ev(1, 'a'), ev(2, 'b'), ev(5, 'a')].map((e) => e.dedupeKey),
    );
    expect(s.getOffset('files:/x')).toEqual({ pos: 3 });
    const r = s.append([ev(2, 'b'), ev(6, 'b')]);
    expect(r.duplicates).toBe(1);
    expect(r.stored.map((x) => x.seq)).toEqual([6]);
    expect(s.countEvents()).toBe(4);
    s.close();
    const check = new Database(path, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(4);
    check.close();
  });

  it('upgrades a schema 2 store in place, keeping seqs, session ids and dedupe', () => {
    const path = join(dir, 'v2.sqlite');
    const raw = new Database(path);
    raw.exec(`
      CREATE TABLE events (seq INTEGER PRIMARY KEY, dkey INTEGER NOT NULL UNIQUE, body TEXT NOT NULL);
      CREATE TABLE session_keys (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE);
      CREATE TABLE session_runs (sid INTEGER NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL,
        PRIMARY KEY (sid, first)) WITHOUT ROWID;
      CREATE TABLE snapshots (session_key TEXT PRIMARY KEY, body TEXT NOT NULL);
      CREATE TABLE offsets (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE kv (ns TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (ns, key));
      INSERT INTO session_keys (id, key) VALUES (1, 'a'), (2, 'b');
      INSERT INTO session_runs VALUES (1, 1, 2), (2, 3, 3), (1, 4, 4);
    `);
    const ins = raw.prepare('INSERT INTO events (seq, dkey, body) VALUES (?, ?, ?)');
    const old = [ev(1, 'a'), ev(2, 'a'), ev(3, 'b'), ev(4, 'a')];
    for (const [i, e] of old.entries()) ins.run(i + 1, i * 1000, JSON.stringify(e));
    raw.pragma('user_version = 2');
    raw.close();

    const s = createSqliteStore(path);
    expect(s.lastSeq()).toBe(4);
    expect(s.countEvents()).toBe(4);
    expect(s.readSession('a').map((x) => x.seq)).toEqual([1, 2, 4]);
    expect(s.readAfter(1, 10).map((x) => x.event.dedupeKey)).toEqual(old.slice(1).map((e) => e.dedupeKey));
    const r = s.append([ev(3, 'b'), ev(2, 'a'), ev(5, 'b')]);
    expect(r.duplicates).toBe(2);
    expect(r.stored.map((x) => x.seq)).toEqual([5]);
    s.close();
    const check = new Database(path, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(4);
    expect(
      check.prepare("SELECT name FROM sqlite_master WHERE name IN ('events', 'session_runs')").all(),
    ).toEqual([]);
    check.close();
  });

  it('reads a schema 3 store as it was, dedupes across the upgrade, and marks it 4 when it writes', () => {
    const path = join(dir, 'v3.sqlite');
    const raw = new Database(path);
    raw.exec(SCHEMA);
    raw.exec("INSERT INTO session_keys (id, key) VALUES (1, 'a')");
    const old = [ev(1, 'a'), { ...ev(2, 'a'), agentId: 'ops' }];
    const hashes = Buffer.alloc(old.length * 12);
    const lanes = new Uint32Array(3);
    for (const [i, e] of old.entries()) {
      hashKey(e.dedupeKey, lanes);
      for (let l = 0; l < 3; l++) hashes.writeUInt32LE(lanes[l] as number, i * 12 + l * 4);
    }
    // schema 3 wrote every field of every event
    raw
      .prepare('INSERT INTO chunks (first, sid, n, hashes, body) VALUES (1, 1, 2, ?, ?)')
      .run(hashes, JSON.stringify(old));
    raw.pragma('user_version = 3');
    raw.close();

    const s = createSqliteStore(path);
    const version = () => {
      const check = new Database(path, { readonly: true });
      const v = check.pragma('user_version', { simple: true });
      check.close();
      return v;
    };
    expect(s.readAfter(0, 10).map((x) => x.event)).toEqual(old);
    expect(version()).toBe(3);
    const r = s.append([ev(1, 'a'), ev(3, 'a'), ev(4, 'a')]);
    expect(r.duplicates).toBe(1);
    s.flush();
    expect(version()).toBe(4);
    expect(s.readSession('a').map((x) => x.event)).toEqual([...old, ev(3, 'a'), ev(4, 'a')]);
    s.close();
  });

  it('commits appends in groups: other connections see them after flush or the commit delay', () => {
    vi.useFakeTimers(); // the commit delay runs on the faked clock
    try {
      const path = join(dir, 'group.sqlite');
      const s = createSqliteStore(path, { commitDelayMs: 20 });
      s.append([ev(1), ev(2)]);
      expect(s.readAfter(0, 10)).toHaveLength(2); // this connection sees its own group
      const other = new Database(path, { readonly: true });
      const count = () => other.prepare('SELECT COALESCE(SUM(n), 0) FROM chunks').pluck().get();
      expect(count()).toBe(0);
      s.flush();
      expect(count()).toBe(2);
      s.append([ev(3)]);
      vi.advanceTimersByTime(19);
      expect(count()).toBe(2);
      vi.advanceTimersByTime(1);
      expect(count()).toBe(3);
      other.close();
      s.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('another connection opens and reads the store while a group holds the write lock', () => {
    const path = join(dir, 'reader.sqlite');
    const writer = createSqliteStore(path);
    writer.append([ev(1)]);
    writer.flush();
    writer.append([ev(2)]); // an open group: the write lock is held
    const reader = createSqliteStore(path, { commitDelayMs: 60_000 }); // would fail with SQLITE_BUSY if it wrote
    expect(reader.lastSeq()).toBe(1);
    writer.flush();
    expect(reader.lastSeq()).toBe(2);
    reader.close();
    writer.close();
  });

  it('writes a group again, with its seqs, when SQLite rolled it back before its commit', () => {
    const { s, raw } = openWithRaw('redo.sqlite');
    expect(
      s.append([ev(1), ev(2, 'new-key')], [{ key: 'files:/a', value: { pos: 2 } }]).stored.map((x) => x.seq),
    ).toEqual([1, 2]);
    raw.exec('ROLLBACK'); // what SQLite does to the open transaction on some disk-full or I/O errors
    expect(s.append([ev(3)]).stored.map((x) => x.seq)).toEqual([3]);
    s.flush();
    expect(s.readAfter(0, 10).map((x) => [x.seq, x.event.dedupeKey])).toEqual([
      [1, ev(1).dedupeKey],
      [2, ev(2, 'new-key').dedupeKey],
      [3, ev(3).dedupeKey],
    ]);
    expect(s.readSession('new-key').map((x) => x.seq)).toEqual([2]);
    expect(s.getOffset('files:/a')).toEqual({ pos: 2 });
    expect(s.append([ev(2, 'new-key')]).duplicates).toBe(1);
    s.close();
  });

  it('snapshots saved while a rolled-back group waits are written after it, never ahead of their seq', () => {
    const { s, raw, path } = openWithRaw('snap-redo.sqlite');
    s.append([ev(1)]);
    raw.exec('ROLLBACK'); // SQLite dropped the open group: seq 1 waits in the redo log
    s.saveSnapshots([session(ev(1).sessionKey)], s.lastSeq());
    const other = createSqliteStore(path);
    expect(other.lastSeq()).toBeGreaterThanOrEqual(other.snapshotSeq() ?? 0);
    s.flush();
    expect([other.snapshotSeq(), other.lastSeq()]).toEqual([1, 1]);
    other.close();
    s.close();
  });

  it('an append that fails half-way leaves none of its rows, and keeps the earlier appends of its group', () => {
    const path = join(dir, 'half.sqlite');
    const s = createSqliteStore(path);
    s.append([ev(1)], [{ key: 'files:/a', value: { pos: 1 } }]);
    // the second session's chunk cannot be serialized: the first session's chunk is already in
    const bad = { ...ev(3, 'other-key'), n: 1n } as unknown as PulseEvent;
    expect(() => s.append([ev(2), bad], [{ key: 'files:/a', value: { pos: 3 } }])).toThrow(/BigInt/);
    expect(s.lastSeq()).toBe(1);
    expect(s.append([ev(4, 'other-key')]).stored.map((x) => x.seq)).toEqual([2]);
    // ev(2) was not stored: it is new when it comes again
    expect(s.append([ev(2)]).stored.map((x) => x.seq)).toEqual([3]);
    s.close();
    const again = createSqliteStore(path);
    expect(again.readAfter(0, 10).map((x) => [x.seq, x.event.ts])).toEqual([
      [1, ev(1).ts],
      [2, ev(4).ts],
      [3, ev(2).ts],
    ]);
    expect(again.getOffset('files:/a')).toEqual({ pos: 1 });
    again.close();
  });

  it('while holding, a new session gets an id of its own, and held events dedupe and read back', () => {
    const { s, raw, path } = openWithRaw('held-keys.sqlite');
    s.append([ev(1)]);
    s.flush();
    raw.pragma('query_only = 1'); // every write fails (SQLITE_READONLY): appends are held
    expect(s.append([ev(2), ev(3, 'held-a'), ev(4, 'held-b')]).stored.map((x) => x.seq)).toEqual([2, 3, 4]);
    expect(s.append([ev(3, 'held-a'), ev(5, 'held-b')]).stored.map((x) => x.seq)).toEqual([5]);
    // an event that cannot be serialized fails alone, the disk's trouble aside
    const bad = { ...ev(6, 'held-c'), n: 1n } as unknown as PulseEvent;
    expect(() => s.append([bad])).toThrow(/BigInt/);
    expect(s.heldEvents()).toBe(4);
    expect(s.readSession('held-b').map((x) => x.seq)).toEqual([4, 5]);
    expect(s.readAfter(1, 2).map((x) => x.seq)).toEqual([2, 3]);
    expect(s.countEvents()).toBe(5);
    raw.pragma('query_only = 0');
    s.flush();
    expect(s.heldEvents()).toBe(0);
    expect(s.append([ev(6, 'held-c')]).stored.map((x) => x.seq)).toEqual([6]);
    s.close();
    const again = createSqliteStore(path);
    expect(again.readAfter(0, 10).map((x) => [x.seq, x.event.sessionKey])).toEqual([
      [1, 'agent:main:main'],
      [2, 'agent:main:main'],
      [3, 'held-a'],
      [4, 'held-b'],
      [5, 'held-b'],
      [6, 'held-c'],
    ]);
    expect(again.append([ev(5, 'held-b'), ev(3, 'held-a')]).duplicates).toBe(2);
    again.close();
  });

  it.skipIf(process.getuid?.() === 0)(
    'refuses a read-only store at start with a message that says so',
    () => {
      const path = join(dir, 'ro-start.sqlite');
      createSqliteStore(path).close();
      chmodSync(path, 0o444);
      expect(() => createSqliteStore(path)).toThrow(
        /is read-only \(the file is not writable.*fix its permissions/,
      );
      chmodSync(path, 0o644);
      createSqliteStore(path).close();
    },
  );

  it('holds appends in memory while the disk is full (bounded), and loses none of the accepted ones', () => {
    let raw: Database.Database | undefined;
    const path = join(dir, 'full.sqlite');
    const s = createSqliteStore(path, {
      maxHeldEvents: 10,
      configure: (db) => {
        raw = db;
      },
    });
    const db = raw as Database.Database;
    s.append([ev(1), ev(2)]);
    s.flush();
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages + 12}`); // room for a few of the appends below
    const big = (n: number): PulseEvent => ({ ...ev(n), text: 'x'.repeat(20_000) }) as PulseEvent;
    const accepted: number[] = [];
    const refusals: string[] = [];
    for (let n = 3; n < 40; n++) {
      try {
        accepted.push(
          ...s.append([big(n)], [{ key: 'files:/a', value: { pos: n } }]).stored.map((x) => x.seq),
        );
      } catch (err) {
        refusals.push(String(err));
      }
    }
    // the disk took a few; then 10 were held in memory (the model has them); then appends failed
    expect(s.heldEvents()).toBe(10);
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals[0]).toMatch(/10 events are held in memory/);
    expect(accepted).toEqual(Array.from({ length: accepted.length }, (_, i) => i + 3));
    expect(() => s.flush()).toThrow(/full/i);
    // held events read like stored ones, and dedupe knows them
    expect(s.readAfter(accepted.length, 10).map((x) => x.seq)).toEqual([
      accepted.length + 1,
      accepted.length + 2,
    ]);
    expect(s.readSession(ev(1).sessionKey).length).toBe(accepted.length + 2);
    expect(s.getOffset('files:/a')).toEqual({ pos: accepted.length + 2 });
    db.pragma('max_page_count = 1000000'); // space again
    s.flush();
    expect(s.heldEvents()).toBe(0);
    expect(s.append([big(3), big(100)]).stored.map((x) => x.seq)).toEqual([accepted.length + 3]);
    s.close();
    const again = createSqliteStore(path);
    const seqs = again.readAfter(0, 1000).map((x) => x.seq);
    expect(seqs).toEqual(Array.from({ length: accepted.length + 3 }, (_, i) => i + 1));
    expect(again.getOffset('files:/a')).toEqual({ pos: accepted.length + 2 });
    again.close();
  });
});

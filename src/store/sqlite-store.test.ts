import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { PulseEvent } from '../model/events.js';
import { describeEventStoreContract } from './event-store.contract.js';
import { createSqliteStore, dedupeHash } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'clawpulse-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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

  it('keeps two different keys whose hashes collide, and still drops true duplicates', () => {
    const path = join(dir, 'collide.sqlite');
    const open = () => createSqliteStore(path, { hash: () => 42n });
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

  it('spreads hashes: the first key segment sets the high bits, the whole key the rest', () => {
    const a = dedupeHash('s-1/aaaa/tool.call/0');
    const b = dedupeHash('s-1/bbbb/tool.call/0');
    const c = dedupeHash('s-2/aaaa/tool.call/0');
    expect(a >> 48n).toBe(b >> 48n);
    expect(a).not.toBe(b);
    expect(a >> 48n).not.toBe(c >> 48n);
    expect(dedupeHash('s-1/aaaa/tool.call/0')).toBe(a);
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
    s.close();
    const check = new Database(path, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(2);
    check.close();
  });
});

/**
 * The store guard on real files: the store file deleted (with its WAL, or the WAL alone),
 * replaced or read-only under an open store, checked on an injected clock.
 */
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../infra/logger.js';
import type { PulseEvent } from '../model/events.js';
import { tempDir } from '../test-support/temp-dir.js';
import { session } from './event-store.contract.js';
import { createSqliteStore } from './sqlite-store.js';
import { createGuardedStore, type GuardedStoreOptions, STORE_CHECK_MS } from './store-guard.js';

const ev = (n: number, key = 'agent:main:main'): PulseEvent => ({
  type: 'assistant.text',
  ts: 1000 + n,
  source: 'files',
  sessionKey: key,
  agentId: 'main',
  dedupeKey: `k${n}/${key}`,
  text: `line ${n}`,
});

/** a guarded store on a manual clock, with the error log lines it wrote */
function guarded(name: string, extra: Partial<GuardedStoreOptions> = {}) {
  const dir = tempDir('clawpulse-guard-');
  const path = join(dir, name);
  const logs: Array<{ level: number; msg: string }> = [];
  const logger = createLogger(
    'info',
    new Writable({
      write(chunk, _e, done) {
        const o = JSON.parse(String(chunk));
        logs.push({ level: o.level, msg: o.msg });
        done();
      },
    }),
  );
  let t = 1_000_000;
  let raw: Database.Database | undefined;
  const store = createGuardedStore(path, {
    logger,
    now: () => t,
    configure: (db) => {
      raw = db;
    },
    ...extra,
  });
  return {
    dir,
    path,
    store,
    logs,
    errors: () => logs.filter((l) => l.level >= 50).map((l) => l.msg),
    raw: () => raw as Database.Database,
    /** moves the clock past the next check and lets the tick's flush run it */
    tick: (ms = STORE_CHECK_MS) => {
      t += ms;
      store.flush();
    },
  };
}

/** a dispatch ledger entry (the fields the ledger's columns need) */
const entry = (sessionKey: string, status: string) =>
  ({ sessionKey, status, updatedAt: new Date(1_000_000).toISOString() }) as never;

const rmStore = (path: string, wal = true) => {
  rmSync(path);
  if (wal) rmSync(`${path}-wal`, { force: true });
};

describe('store guard: the file deleted under the open store', () => {
  it('is noticed on the next check, said once, and the whole store is written again at the path', () => {
    const g = guarded('copy.sqlite');
    const { store } = g;
    store.append([ev(1), ev(2)], [{ key: 'files:/a.jsonl', value: { pos: 200 } }]);
    store.kvSet('mattermost', 'box:agent:main:main', '{"postId":"p1"}');
    store.saveSnapshots([session('agent:main:main')], 2);
    const ledger = store.ledger();
    ledger.update('job-1', () => entry('agent:main:main', 'running'));
    store.append([ev(3)], [{ key: 'files:/a.jsonl', value: { pos: 300 } }]);
    g.tick(); // commits; the WAL is there now
    rmStore(g.path);
    // writes go on into the deleted file until the next check
    store.append([ev(4)], [{ key: 'files:/a.jsonl', value: { pos: 400 } }]);
    expect(store.stats().error).toBeUndefined();
    g.tick();
    expect(existsSync(g.path)).toBe(true);
    expect(store.stats().error).toMatch(/was deleted under the running daemon .*copied whole/);
    expect(g.errors().filter((m) => /deleted/.test(m))).toHaveLength(1);
    // a held-over ledger object follows the store to the new file
    ledger.update('job-2', () => entry('agent:main:other', 'queued'));
    expect(store.append([ev(4), ev(5)]).stored.map((x) => x.seq)).toEqual([5]);
    g.tick();
    g.tick();
    expect(g.errors().filter((m) => /deleted/.test(m))).toHaveLength(1);
    store.close();

    const again = createSqliteStore(g.path);
    expect(again.readAfter(0, 100).map((x) => x.event.dedupeKey)).toEqual(
      [1, 2, 3, 4, 5].map((n) => ev(n).dedupeKey),
    );
    expect(again.getOffset('files:/a.jsonl')).toEqual({ pos: 400 });
    expect(again.kvGet('mattermost', 'box:agent:main:main')).toBe('{"postId":"p1"}');
    expect(again.loadSnapshot('agent:main:main')).toBeDefined();
    expect(
      again
        .ledger()
        .list()
        .map((r) => r.label)
        .sort(),
    ).toEqual(['job-1', 'job-2']);
    again.close();
  });

  it('without room for the history: seeded with offsets, kv, ledger and the live model; seqs go on', () => {
    const g = guarded('seed.sqlite', { copy: false });
    const { store } = g;
    const live = [{ ...session('agent:main:main'), runs: 7 }];
    store.setLiveModel(() => live);
    store.append([ev(1), ev(2)], [{ key: 'files:/a.jsonl', value: { pos: 200 } }]);
    store.saveSnapshots([session('agent:main:old')], 2);
    store.kvSet('mattermost', 'box:agent:main:main', 'p1');
    store.ledger().update('job-1', () => entry('agent:main:main', 'running'));
    g.tick();
    rmStore(g.path);
    store.append([ev(3)], [{ key: 'files:/a.jsonl', value: { pos: 300 } }]);
    g.tick();
    expect(store.stats().error).toMatch(/seeded from memory/);
    // dedupe still knows the facts of the lost history (their hashes were in memory)
    const r = store.append([ev(1), ev(4)], [{ key: 'files:/a.jsonl', value: { pos: 400 } }]);
    expect(r.duplicates).toBe(1);
    expect(r.stored.map((x) => x.seq)).toEqual([4]);
    store.close();

    const again = createSqliteStore(g.path);
    // the history is gone (ev 1-3: it did not fit); what came after is there, with its seqs
    expect(again.readAfter(0, 100).map((x) => x.seq)).toEqual([4]);
    expect(again.lastSeq()).toBe(4);
    expect(again.countEvents()).toBe(1);
    expect(again.getOffset('files:/a.jsonl')).toEqual({ pos: 400 });
    expect(again.kvGet('mattermost', 'box:agent:main:main')).toBe('p1');
    expect(again.ledger().get('job-1')).toMatchObject({ status: 'running' });
    // the live model's sessions, current to every seq given out before the loss
    expect(again.loadSnapshot('agent:main:main')?.runs).toBe(7);
    expect(again.loadSnapshot('agent:main:old')).toBeDefined();
    expect(again.snapshotSeq()).toBe(3);
    again.close();
  });

  it('events held in memory (the disk is full) are carried into the copy', () => {
    const g = guarded('held.sqlite');
    const { store } = g;
    store.append([ev(1)]);
    g.tick();
    const big = (n: number, key?: string) => ({ ...ev(n, key), text: 'x'.repeat(20_000) }) as PulseEvent;
    g.raw().pragma(`max_page_count = ${g.raw().pragma('page_count', { simple: true })}`); // full
    const r = store.append([big(2), big(3, 'agent:main:new')], [{ key: 'files:/b', value: { pos: 3 } }]);
    expect(r.stored).toHaveLength(2);
    expect(() => store.flush()).toThrow(/full/i);
    expect(store.heldEvents()).toBe(2);
    rmStore(g.path);
    g.tick();
    expect(store.heldEvents()).toBe(0);
    expect(store.stats().error).toMatch(/copied whole .*2 events not yet written carried over/);
    store.close();
    const again = createSqliteStore(g.path);
    expect(again.readAfter(0, 10).map((x) => [x.seq, x.event.sessionKey])).toEqual([
      [1, 'agent:main:main'],
      [2, 'agent:main:main'],
      [3, 'agent:main:new'],
    ]);
    expect(again.getOffset('files:/b')).toEqual({ pos: 3 });
    expect(again.append([big(3, 'agent:main:new')]).duplicates).toBe(1);
    again.close();
  });

  it('events held in memory (the disk refuses writes) are kept in a seeded store', () => {
    const g = guarded('held-seed.sqlite');
    const { store } = g;
    store.append([ev(1)]);
    g.tick();
    g.raw().pragma('query_only = 1'); // writes (and the copy) fail from here on
    expect(
      store.append([ev(2), ev(3, 'agent:main:new')], [{ key: 'files:/b', value: { pos: 3 } }]).stored,
    ).toHaveLength(2);
    expect(() => store.flush()).toThrow(/readonly/i);
    rmStore(g.path);
    g.tick();
    expect(store.stats().error).toMatch(/seeded from memory .*2 events not yet written/);
    store.close();
    const again = createSqliteStore(g.path);
    expect(again.readAfter(0, 10).map((x) => [x.seq, x.event.sessionKey])).toEqual([
      [2, 'agent:main:main'],
      [3, 'agent:main:new'],
    ]);
    expect(again.getOffset('files:/b')).toEqual({ pos: 3 });
    expect(again.snapshotSeq()).toBe(3);
    again.close();
  });

  it('a new store that cannot be written yet stands in from memory, bounded, until it can', () => {
    const g = guarded('interim.sqlite', { copy: false, maxHeldEvents: 3 });
    const { store } = g;
    store.append([ev(1)], [{ key: 'files:/a', value: { pos: 1 } }]);
    g.tick();
    rmStore(g.path);
    // the temp file cannot be made: a folder is in its way
    mkdirSync(`${g.path}.recovering`);
    g.tick();
    expect(existsSync(g.path)).toBe(false);
    expect(store.stats().error).toMatch(/cannot be written yet .*kept in memory/);
    expect(store.append([ev(2), ev(3), ev(4)]).stored.map((x) => x.seq)).toEqual([2, 3, 4]);
    expect(() => store.append([ev(5)])).toThrow(/held in memory/);
    expect(store.readAfter(0, 10).map((x) => x.seq)).toEqual([2, 3, 4]);
    rmSync(`${g.path}.recovering`, { recursive: true });
    g.tick();
    expect(existsSync(g.path)).toBe(true);
    expect(store.append([ev(5)]).stored.map((x) => x.seq)).toEqual([5]);
    store.close();
    const again = createSqliteStore(g.path);
    expect(again.readAfter(0, 10).map((x) => x.seq)).toEqual([2, 3, 4, 5]);
    expect(again.getOffset('files:/a')).toEqual({ pos: 1 });
    again.close();
  });

  it('its WAL alone deleted: written into the file from the open handle, nothing lost', () => {
    const g = guarded('wal.sqlite');
    const { store } = g;
    store.append([ev(1), ev(2)], [{ key: 'files:/a', value: { pos: 2 } }]);
    // before the first check: the WAL's identity is taken when the file is opened
    rmSync(`${g.path}-wal`);
    store.append([ev(3)], [{ key: 'files:/a', value: { pos: 3 } }]);
    g.tick();
    expect(store.stats().error).toMatch(/WAL .* was deleted/);
    store.append([ev(4)]);
    store.close();
    const again = createSqliteStore(g.path);
    expect(again.readAfter(0, 10).map((x) => x.seq)).toEqual([1, 2, 3, 4]);
    expect(again.getOffset('files:/a')).toEqual({ pos: 3 });
    again.close();
  });

  it('a failed write checks the file at once, and the new store takes the write', () => {
    const g = guarded('fail.sqlite');
    const { store } = g;
    store.append([ev(1)]);
    g.tick();
    rmStore(g.path);
    g.raw().pragma('query_only = 1');
    // kv writes are not held: this one fails on the deleted file, then goes to the new one
    store.kvSet('mattermost', 'k', 'v');
    expect(store.stats().error).toMatch(/deleted/);
    store.close();
    const again = createSqliteStore(g.path);
    expect(again.kvGet('mattermost', 'k')).toBe('v');
    again.close();
  });
});

describe('store guard: other troubles', () => {
  it('a file replaced under the open store is reported and left alone', () => {
    const g = guarded('replaced.sqlite');
    const { store } = g;
    store.append([ev(1)]);
    g.tick();
    renameSync(g.path, `${g.path}.old`);
    writeFileSync(g.path, 'someone else');
    g.tick();
    expect(store.stats().error).toMatch(/replaced by another file/);
    expect(store.append([ev(2)]).stored).toHaveLength(1);
    g.tick();
    expect(g.errors().filter((m) => /replaced/.test(m))).toHaveLength(1);
    store.close();
  });

  it.skipIf(process.getuid?.() === 0)('a read-only file is reported while writes go on, and clears', () => {
    const g = guarded('ro.sqlite');
    const { store } = g;
    store.append([ev(1)]);
    g.tick();
    chmodSync(g.path, 0o444);
    g.tick();
    expect(store.stats().error).toMatch(/is read-only .*writes go on/);
    expect(store.append([ev(2)]).stored).toHaveLength(1);
    chmodSync(g.path, 0o644);
    g.tick();
    expect(store.stats().error).toBeUndefined();
    store.close();
  });

  it('a recovered loss keeps /health degraded for a while, then stays in the incidents', () => {
    const g = guarded('report.sqlite', { reportForMs: 60_000 });
    const { store } = g;
    store.append([ev(1)]);
    g.tick();
    rmStore(g.path);
    g.tick();
    expect(store.stats().error).toMatch(/deleted/);
    g.tick(61_000);
    expect(store.stats().error).toBeUndefined();
    expect(store.stats().incidents).toEqual([
      expect.objectContaining({
        what: expect.stringMatching(/deleted/),
        recovery: expect.stringMatching(/copied/),
      }),
    ]);
    store.close();
  });
});

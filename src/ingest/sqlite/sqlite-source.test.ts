import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { compress, init as initZstd } from '@bokuweb/zstd-wasm';
import Database from 'better-sqlite3';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../infra/clock.js';
import { silentLogger } from '../../infra/logger.js';
import type { PulseEvent } from '../../model/events.js';
import { createTranscriptNormalizer } from '../../openclaw/normalize.js';
import type { SourceOffset } from '../../store/event-store.js';
import type { IngestSink, OffsetReader } from '../source.js';
import { createFakeAgentDb, type FakeAgentDb } from './fake-agent-db.js';
import { createSqliteSource, type SqliteSource } from './sqlite-source.js';

const FIX = fileURLToPath(new URL('../../../test/fixtures/openclaw/v2026.7.35', import.meta.url));
const require = createRequire(import.meta.url);
const SID = 'daa6b28a-5388-4104-8e50-89a5a783e4c6';
const KEY = 'agent:main:main';
const CHILD = 'agent:main:subagent:6d565fc0-4536-47ab-bb32-533f671a6286';

/** the fixture transcript as the SQLite era stores it: same line objects, header version 4 */
function fixtureLines(): Array<Record<string, unknown>> {
  return fs
    .readFileSync(path.join(FIX, `${SID}.jsonl`), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .map((o) => (o.type === 'session' ? { ...o, version: 4 } : o));
}

const zstd = (b: Uint8Array) => compress(b, 1);

class Recorder implements IngestSink, OffsetReader {
  events: PulseEvent[] = [];
  offsets = new Map<string, unknown>();
  batches = 0;
  ingest(events: readonly PulseEvent[], offsets?: readonly SourceOffset[]): void {
    this.batches++;
    this.events.push(...events);
    for (const o of offsets ?? []) this.offsets.set(o.key, o.value);
  }
  getOffset(key: string): unknown {
    return this.offsets.get(key);
  }
  listOffsets(prefix: string): SourceOffset[] {
    return [...this.offsets].filter(([k]) => k.startsWith(prefix)).map(([key, value]) => ({ key, value }));
  }
  keys(): string[] {
    return this.events.map((e) => e.dedupeKey);
  }
}

let dirs: string[] = [];
let open: Array<{ close(): unknown }> = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'clawpulse-sqlite-'));
  dirs.push(d);
  return d;
}
function track<T extends { close(): unknown }>(x: T): T {
  open.push(x);
  return x;
}
function startSource(stateDir: string, rec: Recorder, clock: ManualClock, extra = {}): SqliteSource {
  const src = createSqliteSource({
    stateDir,
    sink: rec,
    offsets: rec,
    logger: silentLogger,
    clock,
    pollIntervalMs: 100,
    ...extra,
  });
  open.push({ close: () => src.stop() });
  return src;
}
function seed(db: FakeAgentDb): void {
  db.upsertSession({
    sessionKey: KEY,
    sessionId: SID,
    updatedAt: 1000,
    status: 'running',
    displayName: 'hello',
  });
}

beforeAll(async () => {
  await initZstd();
});
afterEach(async () => {
  for (const o of open.reverse()) await o.close();
  open = [];
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  dirs = [];
});

describe('sqlite source', () => {
  it('turns session rows and transcript rows (plain and zstd) into the same events the normalizer gives', async () => {
    const stateDir = tmp();
    const db = track(createFakeAgentDb(stateDir, 'main'));
    seed(db);
    const lines = fixtureLines();
    // every other row compressed: the decoder must give the very same objects
    for (const [i, l] of lines.entries()) {
      db.append(SID, l, i % 2 ? { zstd, createdAt: 5000 + i } : { createdAt: 5000 + i });
    }
    expect(
      db.db.prepare('SELECT count(*) AS n FROM transcript_events WHERE event_zstd IS NOT NULL').get(),
    ).toEqual({ n: 10 });

    const rec = new Recorder();
    const clock = new ManualClock(10_000);
    const src = startSource(stateDir, rec, clock);
    await src.start();

    const norm = createTranscriptNormalizer({
      sessionKey: KEY,
      agentId: 'main',
      sessionId: SID,
      source: 'sqlite',
    });
    const expected = lines.flatMap((l) => norm.push(l).events.map((e) => e.dedupeKey));
    expect(expected.length).toBeGreaterThan(10);
    const got = rec.events.filter((e) => e.type !== 'session.seen').map((e) => e.dedupeKey);
    expect(got).toEqual(expected);
    expect(rec.events.some((e) => e.type === 'tool.call' && e.name === 'exec')).toBe(true);
    expect(rec.events.every((e) => e.source === 'sqlite' && e.sessionKey === KEY)).toBe(true);

    const seen = rec.events.find((e) => e.type === 'session.seen');
    expect(seen).toMatchObject({
      sessionKey: KEY,
      sessionId: SID,
      updatedAt: 1000,
      rowStatus: 'running',
      displayName: 'hello',
    });
    const dbPath = db.path;
    expect(rec.offsets.get(`sqlite:${dbPath}:${SID}`)).toMatchObject({ seq: lines.length });
    const h = src.health();
    expect(h).toMatchObject({ state: 'live', inputs: 1, malformed: 0 });
    expect(h.lastEventAt).toBeGreaterThan(0);
  });

  it('drains a backlog over back-to-back polls, reporting how far behind it is meanwhile', async () => {
    const stateDir = tmp();
    const db = track(createFakeAgentDb(stateDir, 'main'));
    seed(db);
    const lines = fixtureLines();
    for (const [i, l] of lines.entries()) db.append(SID, l, { createdAt: 5000 + i * 100 });
    const rec = new Recorder();
    const clock = new ManualClock(10_000);
    const src = startSource(stateDir, rec, clock, { batchRows: 5 });
    await src.start();
    expect(rec.offsets.get(`sqlite:${db.path}:${SID}`)).toMatchObject({ seq: 5 });
    expect(src.health().lagMs).toBe(10_000 - (5000 + 4 * 100)); // newest row read so far
    src.poll();
    expect(rec.offsets.get(`sqlite:${db.path}:${SID}`)).toMatchObject({ seq: 10 });
    expect(src.health().lagMs).toBe(10_000 - (5000 + 9 * 100));
    // the source keeps the next poll due at once while a backlog remains: no wait for the interval
    clock.advance(0);
    expect(rec.offsets.get(`sqlite:${db.path}:${SID}`)).toMatchObject({ seq: lines.length });
    expect(src.health().lagMs).toBe(0);
  });

  it('follows appended rows, session changes and agents that appear later, on the injected clock', async () => {
    const stateDir = tmp();
    const rec = new Recorder();
    const clock = new ManualClock(0);
    const src = startSource(stateDir, rec, clock, { discoverEveryMs: 1000 });
    await src.start();
    expect(src.health()).toMatchObject({ state: 'standby', inputs: 0 });

    const db = track(createFakeAgentDb(stateDir, 'main'));
    seed(db);
    const lines = fixtureLines();
    db.append(SID, lines[0]);
    clock.advance(999);
    expect(rec.events).toHaveLength(0); // not discovered yet
    clock.advance(100);
    expect(rec.events.map((e) => e.type)).toEqual(['session.seen']);

    for (const l of lines.slice(1, 6)) db.append(SID, l);
    clock.advance(100);
    const types = rec.events.map((e) => e.type);
    expect(types).toContain('agent.started');
    expect(types).toContain('tool.call');
    const before = rec.events.length;
    clock.advance(500); // nothing new: no new events, no empty batches
    expect(rec.events.length).toBe(before);

    // a sub-agent row: session.seen for it and the parent → child link
    db.upsertSession({
      sessionKey: CHILD,
      sessionId: 'child-sid',
      updatedAt: 2000,
      spawnedBy: KEY,
      label: 'fake-child',
      status: 'running',
    });
    clock.advance(100);
    const spawned = rec.events.find((e) => e.type === 'subagent.spawned');
    expect(spawned).toMatchObject({ parentKey: KEY, childKey: CHILD, label: 'fake-child' });
    expect(rec.events.filter((e) => e.type === 'session.seen' && e.sessionKey === CHILD)).toHaveLength(1);

    // the row is updated (run done): one more session.seen, the unchanged main row is not repeated
    db.upsertSession({
      sessionKey: CHILD,
      sessionId: 'child-sid',
      updatedAt: 2500,
      spawnedBy: KEY,
      label: 'fake-child',
      status: 'done',
    });
    clock.advance(100);
    const seenMain = rec.events.filter((e) => e.type === 'session.seen' && e.sessionKey === KEY);
    expect(seenMain).toHaveLength(1);
    expect(
      rec.events.filter((e) => e.type === 'session.seen' && e.sessionKey === CHILD).at(-1),
    ).toMatchObject({ rowStatus: 'done' });
  });

  it('resumes from saved offsets without repeating rows', async () => {
    const stateDir = tmp();
    const db = track(createFakeAgentDb(stateDir, 'main'));
    seed(db);
    const lines = fixtureLines();
    for (const l of lines.slice(0, 8)) db.append(SID, l);
    const rec = new Recorder();
    const clock = new ManualClock(0);
    const a = startSource(stateDir, rec, clock);
    await a.start();
    await a.stop();
    const firstKeys = rec.keys();

    for (const l of lines.slice(8)) db.append(SID, l);
    const rec2 = new Recorder();
    rec2.offsets = new Map(rec.offsets); // the store kept the offsets
    const b = startSource(stateDir, rec2, clock);
    await b.start();
    expect(rec2.events.length).toBeGreaterThan(0);
    expect(rec2.events.some((e) => e.type === 'session.seen')).toBe(false); // nodes watermark saved too
    expect(rec2.keys().filter((k) => firstKeys.includes(k))).toEqual([]);

    const norm = createTranscriptNormalizer({
      sessionKey: KEY,
      agentId: 'main',
      sessionId: SID,
      source: 'sqlite',
    });
    const all = lines.flatMap((l) => norm.push(l).events.map((e) => e.dedupeKey));
    expect([...firstKeys.filter((k) => !k.startsWith('seen/')), ...rec2.keys()]).toEqual(all);
  });

  it('reads a batch again when the pipeline refuses it, so nothing is lost or doubled', async () => {
    const stateDir = tmp();
    const db = track(createFakeAgentDb(stateDir, 'main'));
    seed(db);
    const lines = fixtureLines();
    for (const l of lines.slice(0, 6)) db.append(SID, l);
    const rec = new Recorder();
    let refuse = 1;
    const flaky: IngestSink = {
      ingest(ev, offs) {
        if (refuse-- > 0) throw new Error('store is busy');
        rec.ingest(ev, offs);
      },
    };
    const clock = new ManualClock(0);
    const src = createSqliteSource({
      stateDir,
      sink: flaky,
      offsets: rec,
      logger: silentLogger,
      clock,
      pollIntervalMs: 100,
    });
    open.push({ close: () => src.stop() });
    await src.start();
    expect(rec.events).toHaveLength(0);
    expect(src.health().detail).toMatch(/1 batches refused/);
    for (const l of lines.slice(6)) db.append(SID, l);
    clock.advance(100);
    const norm = createTranscriptNormalizer({
      sessionKey: KEY,
      agentId: 'main',
      sessionId: SID,
      source: 'sqlite',
    });
    const expected = lines.flatMap((l) => norm.push(l).events.map((e) => e.dedupeKey));
    expect(rec.keys().filter((k) => !k.startsWith('seen/'))).toEqual(expected);
    expect(rec.events.filter((e) => e.type === 'session.seen')).toHaveLength(1);
  });

  it('counts and skips garbage rows and keeps going', async () => {
    const stateDir = tmp();
    const db = track(createFakeAgentDb(stateDir, 'main'));
    seed(db);
    const lines = fixtureLines();
    db.append(SID, lines[0]);
    db.appendRaw(SID, { eventJson: '{not json' });
    db.appendRaw(SID, { zstd: new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3, 4, 5]), utf8Bytes: 50 });
    db.appendRaw(SID, { eventJson: '[1,2]' });
    for (const l of lines.slice(4, 6)) db.append(SID, l);
    const rec = new Recorder();
    const src = startSource(stateDir, rec, new ManualClock(0));
    await src.start();
    expect(src.health().malformed).toBe(3);
    expect(rec.events.some((e) => e.type === 'tool.call')).toBe(true);
    expect(rec.offsets.get(`sqlite:${db.path}:${SID}`)).toMatchObject({ seq: 6 });
  });

  it('reports a corrupt database in health and keeps following the healthy one', async () => {
    const stateDir = tmp();
    const good = track(createFakeAgentDb(stateDir, 'main'));
    seed(good);
    good.append(SID, fixtureLines()[4]);
    const badDir = path.join(stateDir, 'agents', 'broken', 'agent');
    fs.mkdirSync(badDir, { recursive: true });
    fs.writeFileSync(path.join(badDir, 'openclaw-agent.sqlite'), 'this is not a database at all'.repeat(200));
    const rec = new Recorder();
    const clock = new ManualClock(0);
    const src = startSource(stateDir, rec, clock);
    await src.start();
    clock.advance(300);
    const h = src.health();
    expect(h.state).toBe('live');
    expect(h.inputs).toBe(1);
    expect(h.detail).toMatch(/1 unreadable: broken/);
    expect(rec.events.some((e) => e.type === 'agent.started')).toBe(true);
  });

  it('waits for a database that has no schema yet, then follows it', async () => {
    const stateDir = tmp();
    const dir = path.join(stateDir, 'agents', 'main', 'agent');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'openclaw-agent.sqlite'), ''); // OpenClaw is still creating it
    const rec = new Recorder();
    const clock = new ManualClock(0);
    const src = startSource(stateDir, rec, clock);
    await src.start();
    expect(src.health().state).toBe('down');
    expect(src.health().detail).toMatch(/no such table/);
    const db = track(createFakeAgentDb(stateDir, 'main'));
    seed(db);
    db.append(SID, fixtureLines()[4]);
    clock.advance(100);
    expect(src.health()).toMatchObject({ state: 'live', inputs: 1 });
    expect(rec.events.map((e) => e.type)).toContain('agent.started');
  });

  it('retries a locked database on the next poll and notices a removed one', async () => {
    const stateDir = tmp();
    const db = track(createFakeAgentDb(stateDir, 'main'));
    seed(db);
    const rec = new Recorder();
    const clock = new ManualClock(0);
    const src = startSource(stateDir, rec, clock, { discoverEveryMs: 1000 });
    await src.start();
    expect(rec.events.map((e) => e.type)).toEqual(['session.seen']);
    clock.advance(5000); // idle: the source lets go of the file
    // a writer that takes the whole file (OpenClaw does this for backups/handoffs): it could
    // not start if the source still held a connection
    db.db.pragma('locking_mode = EXCLUSIVE');
    db.db.exec('BEGIN EXCLUSIVE');
    db.append(SID, fixtureLines()[4]);
    db.db.exec('COMMIT');
    clock.advance(100);
    expect(src.health().detail).toMatch(/busy retries/);
    expect(src.health().state).toBe('live');
    expect(rec.events).toHaveLength(1);
    db.db.pragma('locking_mode = NORMAL');
    db.db.prepare('SELECT 1 FROM session_nodes').get(); // releases the exclusive lock
    clock.advance(100);
    expect(rec.events.some((e) => e.type === 'agent.started')).toBe(true);

    db.close();
    open = open.filter((o) => o !== db);
    for (const f of fs.readdirSync(path.dirname(db.path))) fs.rmSync(path.join(path.dirname(db.path), f));
    clock.advance(1000);
    expect(src.health().state).toBe('down');
    expect(src.health().detail).toMatch(/unreadable/);
  });

  it('keeps reading while another connection writes, without surfacing SQLITE_BUSY', async () => {
    const stateDir = tmp();
    const db = track(createFakeAgentDb(stateDir, 'main'));
    seed(db);
    db.close();
    open = open.filter((o) => o !== db);
    const ROWS = 1500;
    // a real second writer on another thread, like OpenClaw's gateway process
    const worker = new Worker(
      `const { workerData } = require('node:worker_threads');
       const Database = require(workerData.bs3);
       const db = new Database(workerData.path);
       db.pragma('busy_timeout = 5000');
       const ins = db.prepare('INSERT INTO transcript_events (session_id, seq, event_json, created_at) VALUES (?, ?, ?, ?)');
       // commits in small transactions, paced, so the reader really runs between them
       const pause = new Int32Array(new SharedArrayBuffer(4));
       for (let i = 1; i <= workerData.rows; i++) {
         if (i % 50 === 0) Atomics.wait(pause, 0, 0, 3);
         ins.run(workerData.sid, i, JSON.stringify({ type: 'message', id: 'm' + i, parentId: null, timestamp: new Date(1795272397000 + i).toISOString(),
           message: { role: 'assistant', content: [{ type: 'text', text: 'line ' + i }], stopReason: 'toolUse', timestamp: 1795272397000 + i } }), Date.now());
       }
       db.close();`,
      {
        eval: true,
        workerData: {
          path: path.join(stateDir, 'agents/main/agent/openclaw-agent.sqlite'),
          sid: SID,
          rows: ROWS,
          bs3: require.resolve('better-sqlite3'),
        },
      },
    );
    const done = new Promise<void>((resolve, reject) => {
      worker.on('exit', () => resolve());
      worker.on('error', reject);
    });
    const rec = new Recorder();
    const src = startSource(stateDir, rec, new ManualClock(0), { batchRows: 200 });
    await src.start();
    let finished = false;
    void done.then(() => {
      finished = true;
    });
    let polls = 0;
    // bounded: the writer ends by itself; each loop yields so it can run
    while (!finished && polls < 100_000) {
      src.poll();
      polls++;
      await new Promise((r) => setImmediate(r));
    }
    await done;
    const batchesWhileWriting = rec.batches;
    for (let i = 0; i < 20; i++) src.poll(); // drain what is left, 200 rows per poll
    const texts = rec.events
      .filter((e) => e.type === 'assistant.text')
      .map((e) => (e as { text: string }).text);
    expect(texts).toHaveLength(ROWS);
    expect(batchesWhileWriting).toBeGreaterThan(3); // it really read while the writer was writing
    expect(texts[0]).toBe('line 1');
    expect(texts.at(-1)).toBe(`line ${ROWS}`);
    expect(src.health()).toMatchObject({ state: 'live', malformed: 0 });
    expect(src.health().detail).not.toMatch(/unreadable/);
    // the source never wrote: the writer's DB is intact and has no clawpulse traces
    const check = new Database(path.join(stateDir, 'agents/main/agent/openclaw-agent.sqlite'), {
      readonly: true,
    });
    expect(check.pragma('user_version', { simple: true })).toBe(23);
    expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    check.close();
  });
});

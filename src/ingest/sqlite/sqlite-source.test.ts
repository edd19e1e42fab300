import { compress, init as initZstd } from '@bokuweb/zstd-wasm';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../infra/clock.js';
import { silentLogger } from '../../infra/logger.js';
import { createTranscriptNormalizer } from '../../openclaw/normalize.js';
import type { IngestSink } from '../source.js';
import { createFakeAgentDb } from './fake-agent-db.js';
import { createSqliteSource } from './sqlite-source.js';
import { CHILD, createKit, fixtureLines, KEY, Recorder, SID, seed } from './sqlite-test-kit.js';

const zstd = (b: Uint8Array) => compress(b, 1);
const kit = createKit();

beforeAll(async () => {
  await initZstd();
});
afterEach(() => kit.cleanup());

describe('sqlite source', () => {
  it('turns session rows and transcript rows (plain and zstd) into the same events the normalizer gives', async () => {
    const stateDir = kit.tmp();
    const db = kit.track(createFakeAgentDb(stateDir, 'main'));
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
    const src = kit.startSource(stateDir, rec, clock);
    await src.start();

    const norm = createTranscriptNormalizer({
      sessionKey: KEY,
      agentId: 'main',
      sessionId: SID,
      source: 'sqlite',
    });
    const expected = lines.flatMap((l) => norm.push(l).events.map((e) => e.dedupeKey));
    expect(expected.length).toBeGreaterThan(10);
    // the session row's session.seen is the source's; the header's (with its cwd) the normalizer's
    const got = rec.events.filter((e) => e.type !== 'session.seen' || e.cwd).map((e) => e.dedupeKey);
    expect(got).toEqual(expected);
    expect(rec.events.some((e) => e.type === 'tool.call' && e.name === 'exec')).toBe(true);
    expect(rec.events.every((e) => e.source === 'sqlite' && e.sessionKey === KEY)).toBe(true);

    const seen = rec.events.find((e) => e.type === 'session.seen');
    expect(seen).toMatchObject({
      sessionKey: KEY,
      sessionId: SID,
      rowStatus: 'running',
      displayName: 'hello',
    });
    // the row's updated_at (1000: a second after 1970) is out of the sane window: dropped, counted
    expect(seen).not.toHaveProperty('updatedAt');
    const dbPath = db.path;
    expect(rec.offsets.get(`sqlite:${dbPath}:${SID}`)).toMatchObject({ seq: lines.length });
    const h = src.health();
    expect(h).toMatchObject({ state: 'live', inputs: 1, malformed: 0 });
    expect(h.anomalies).toBeGreaterThan(0);
    expect(h.lastEventAt).toBeGreaterThan(0);
  });

  it('drains a backlog over back-to-back polls, reporting how far behind it is meanwhile', async () => {
    const stateDir = kit.tmp();
    const db = kit.track(createFakeAgentDb(stateDir, 'main'));
    seed(db);
    const lines = fixtureLines();
    for (const [i, l] of lines.entries()) db.append(SID, l, { createdAt: 5000 + i * 100 });
    const rec = new Recorder();
    const clock = new ManualClock(10_000);
    const src = kit.startSource(stateDir, rec, clock, { batchRows: 5 });
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

  it('paused, reads no row; resumed, reads on from each cursor at once, every row once', async () => {
    const stateDir = kit.tmp();
    const db = kit.track(createFakeAgentDb(stateDir, 'main'));
    seed(db);
    const lines = fixtureLines();
    for (const [i, l] of lines.slice(0, 5).entries()) db.append(SID, l, { createdAt: 5000 + i });
    const rec = new Recorder();
    const clock = new ManualClock(10_000);
    const src = kit.startSource(stateDir, rec, clock);
    await src.start();
    expect(rec.offsets.get(`sqlite:${db.path}:${SID}`)).toMatchObject({ seq: 5 });
    src.pause();
    for (const [i, l] of lines.slice(5).entries()) db.append(SID, l, { createdAt: 6000 + i });
    const before = rec.events.length;
    clock.advance(60_000); // every poll, sweep and forced read due meanwhile
    src.poll();
    expect(rec.events.length).toBe(before);
    src.resume();
    expect(rec.offsets.get(`sqlite:${db.path}:${SID}`)).toMatchObject({ seq: lines.length });
    const keys = rec.keys();
    expect(new Set(keys).size).toBe(keys.length);
    expect(src.health().state).toBe('live');
  });

  it('follows appended rows, session changes and agents that appear later, on the injected clock', async () => {
    const stateDir = kit.tmp();
    const rec = new Recorder();
    const clock = new ManualClock(0);
    const src = kit.startSource(stateDir, rec, clock, { discoverEveryMs: 1000 });
    await src.start();
    expect(src.health()).toMatchObject({ state: 'standby', inputs: 0 });

    const db = kit.track(createFakeAgentDb(stateDir, 'main'));
    seed(db);
    const lines = fixtureLines();
    db.append(SID, lines[0]);
    clock.advance(999);
    expect(rec.events).toHaveLength(0); // not discovered yet
    clock.advance(100);
    // the session row, then the header line (its cwd)
    expect(rec.events.map((e) => e.type)).toEqual(['session.seen', 'session.seen']);

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
    const seenMain = rec.events.filter((e) => e.type === 'session.seen' && !e.cwd && e.sessionKey === KEY);
    expect(seenMain).toHaveLength(1);
    expect(
      rec.events.filter((e) => e.type === 'session.seen' && e.sessionKey === CHILD).at(-1),
    ).toMatchObject({ rowStatus: 'done' });
  });

  it('resumes from saved offsets without repeating rows', async () => {
    const stateDir = kit.tmp();
    const db = kit.track(createFakeAgentDb(stateDir, 'main'));
    seed(db);
    const lines = fixtureLines();
    for (const l of lines.slice(0, 8)) db.append(SID, l);
    const rec = new Recorder();
    const clock = new ManualClock(0);
    const a = kit.startSource(stateDir, rec, clock);
    await a.start();
    await a.stop();
    const firstKeys = rec.keys();

    for (const l of lines.slice(8)) db.append(SID, l);
    const rec2 = new Recorder();
    rec2.offsets = new Map(rec.offsets); // the store kept the offsets
    const b = kit.startSource(stateDir, rec2, clock);
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
    const stateDir = kit.tmp();
    const db = kit.track(createFakeAgentDb(stateDir, 'main'));
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
    kit.track({ close: () => src.stop() });
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
    expect(rec.events.filter((e) => e.type === 'session.seen' && !e.cwd)).toHaveLength(1);
  });

  it('counts and skips garbage rows and keeps going', async () => {
    const stateDir = kit.tmp();
    const db = kit.track(createFakeAgentDb(stateDir, 'main'));
    seed(db);
    const lines = fixtureLines();
    db.append(SID, lines[0]);
    db.appendRaw(SID, { eventJson: '{not json' });
    db.appendRaw(SID, { zstd: new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3, 4, 5]), utf8Bytes: 50 });
    db.appendRaw(SID, { eventJson: '[1,2]' });
    for (const l of lines.slice(4, 6)) db.append(SID, l);
    const rec = new Recorder();
    const src = kit.startSource(stateDir, rec, new ManualClock(0));
    await src.start();
    expect(src.health().malformed).toBe(3);
    expect(rec.events.some((e) => e.type === 'tool.call')).toBe(true);
    expect(rec.offsets.get(`sqlite:${db.path}:${SID}`)).toMatchObject({ seq: 6 });
  });
});

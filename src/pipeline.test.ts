import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { silentLogger } from './infra/logger.js';
import type { PulseEvent } from './model/events.js';
import type { SessionState } from './model/session.js';
import { newSession } from './model/state.js';
import { briefOf } from './model/summary.js';
import { testLimits } from './model/test-events.js';
import type { SessionTracker } from './model/tracker.js';
import { createSessionTracker } from './model/tracker.js';
import { createPipeline, type PipelineDeps, type PipelineUpdate, restoreModel } from './pipeline.js';
import type { EventStore } from './store/event-store.js';
import { createSqliteStore, StoreError } from './store/sqlite-store.js';

/** A tracker that records what it was given: the pipeline's job is what reaches it, not the model. */
function recordingTracker(): SessionTracker & { applied: PulseEvent[] } {
  const sessions = new Map<string, SessionState>();
  const applied: PulseEvent[] = [];
  return {
    applied,
    apply(e) {
      applied.push(e);
      const s: SessionState = sessions.get(e.sessionKey) ?? newSession(e.sessionKey, e.agentId, e.ts);
      s.lastEventAt = e.ts;
      sessions.set(e.sessionKey, s);
      return [e.sessionKey];
    },
    tick: () => [],
    get: (k) => sessions.get(k),
    all: () => [...sessions.values()],
    briefs: () => [...sessions.values()].map(briefOf),
    brief: (k) => {
      const s = sessions.get(k);
      return s && briefOf(s);
    },
    size: () => sessions.size,
    briefCount: () => 0,
    rootOf: (k) => sessions.get(k),
    restore: () => {},
    interruptAll: () => [],
    evict: () => [],
  };
}

const ev = (n: number, key = 's1'): PulseEvent => ({
  type: 'assistant.text',
  ts: n,
  source: 'files',
  sessionKey: key,
  agentId: 'main',
  dedupeKey: `d${n}`,
  text: `t${n}`,
});

/** an in-memory store whose snapshot saves are counted */
function countingSaves(): { store: EventStore; counted: EventStore; saves: () => number } {
  const store = createSqliteStore(':memory:');
  let n = 0;
  const counted: EventStore = {
    ...store,
    saveSnapshots: (list, seq) => {
      n++;
      return store.saveSnapshots(list, seq);
    },
  };
  return { store, counted, saves: () => n };
}

/** a pipeline pacing its snapshot saves, on a counted store and a real tracker, driven a second at a time */
function pacedPipeline(deps: Pick<PipelineDeps, 'snapshotBytesPerSec' | 'finishedSaveBatch'>) {
  const { store, counted, saves } = countingSaves();
  const tracker = createSessionTracker(testLimits);
  let clock = 0;
  const p = createPipeline({
    store: counted,
    tracker,
    logger: silentLogger,
    now: () => clock,
    snapshotEveryMs: 5000,
    snapshotMaxDelayMs: 60_000,
    ...deps,
  });
  return {
    store,
    saves,
    tracker,
    now: () => clock,
    /** a second passes: these events, then the pipeline's tick */
    second(events: readonly PulseEvent[] = []) {
      clock += 1000;
      p.ingest(events);
      p.tick(clock);
    },
    /** a crash now: a new model from the snapshots and the events stored after them */
    restarted() {
      const again = createSessionTracker(testLimits);
      const replayed = restoreModel(store, again);
      again.tick(clock); // what time does to the model (stuck, idle) comes with the daemon's tick
      return { again, replayed };
    },
  };
}

describe('pipeline', () => {
  it('stores, drops duplicates before the model, and tells listeners what changed', () => {
    const store = createSqliteStore(':memory:');
    const tracker = recordingTracker();
    const p = createPipeline({ store, tracker, logger: silentLogger });
    const updates: PipelineUpdate[] = [];
    p.subscribe((u) => updates.push(u));
    p.ingest([ev(1), ev(2, 's2')]);
    p.ingest([ev(2, 's2'), ev(3)]);
    expect(tracker.applied.map((e) => e.dedupeKey)).toEqual(['d1', 'd2', 'd3']);
    expect(updates.map((u) => u.events.map((e) => e.seq))).toEqual([[1, 2], [3]]);
    expect(updates[0]?.changed.map((s) => s.key).sort()).toEqual(['s1', 's2']);
    expect(p.stats()).toMatchObject({ ingested: 3, duplicates: 1, batches: 2 });
  });

  it('keeps ingesting when a listener throws', () => {
    const p = createPipeline({
      store: createSqliteStore(':memory:'),
      tracker: recordingTracker(),
      logger: silentLogger,
    });
    let calls = 0;
    p.subscribe(() => {
      throw new Error('boom');
    });
    p.subscribe(() => void calls++);
    p.ingest([ev(1)]);
    p.ingest([ev(2)]);
    expect(calls).toBe(2);
    expect(p.stats().listenerErrors).toBe(2);
  });

  it('holds events while the store refuses them (disk full) and delivers them in order once it recovers', () => {
    const real = createSqliteStore(':memory:');
    let full = true;
    const store: EventStore = {
      ...real,
      append: (events, offsets) => {
        if (full)
          throw new StoreError(
            'store x: append failed: SQLITE_FULL database or disk is full',
            'x',
            'SQLITE_FULL',
          );
        return real.append(events, offsets);
      },
    };
    const tracker = recordingTracker();
    const p = createPipeline({ store, tracker, logger: silentLogger });
    p.ingest([ev(1)], [{ key: 'files:/a', value: { pos: 10 } }]);
    p.ingest([ev(2)], [{ key: 'files:/a', value: { pos: 20 } }]);
    expect(tracker.applied).toHaveLength(0);
    expect(p.stats()).toMatchObject({ pendingEvents: 2, storeError: expect.stringContaining('SQLITE_FULL') });
    expect(real.getOffset('files:/a')).toBeUndefined();
    full = false;
    p.ingest([ev(3)], [{ key: 'files:/a', value: { pos: 30 } }]);
    expect(tracker.applied.map((e) => e.dedupeKey)).toEqual(['d1', 'd2', 'd3']);
    expect(real.getOffset('files:/a')).toEqual({ pos: 30 });
    expect(p.stats()).toMatchObject({ pendingEvents: 0, storeError: undefined });
  });

  it('bounds what it holds while the store keeps failing', () => {
    const real = createSqliteStore(':memory:');
    const store: EventStore = {
      ...real,
      append: () => {
        throw new StoreError('full', 'x', 'SQLITE_FULL');
      },
    };
    const p = createPipeline({
      store,
      tracker: recordingTracker(),
      logger: silentLogger,
      maxPendingEvents: 5,
    });
    for (let i = 0; i < 10; i++) p.ingest([ev(i), ev(i + 100)]);
    expect(p.stats().pendingEvents).toBeLessThanOrEqual(6);
  });

  it('tells the sources to pause while it holds refused batches, and to resume once they are stored', () => {
    const real = createSqliteStore(':memory:');
    let full = true;
    const store: EventStore = {
      ...real,
      append: (events, offsets) => {
        if (full) throw new StoreError('store x: append failed: SQLITE_FULL', 'x', 'SQLITE_FULL');
        return real.append(events, offsets);
      },
    };
    const tracker = recordingTracker();
    const p = createPipeline({ store, tracker, logger: silentLogger });
    const flow: boolean[] = [];
    p.onFlow((ok) => flow.push(ok));
    p.ingest([ev(1)]);
    expect(p.accepting()).toBe(false);
    p.ingest([ev(2)]);
    p.tick(1);
    expect(flow).toEqual([false]);
    expect(p.stats()).toMatchObject({ pendingEvents: 2, paused: true });
    full = false;
    p.tick(2);
    expect(flow).toEqual([false, true]);
    expect(p.stats()).toMatchObject({ pendingEvents: 0, paused: false, storeError: undefined });
    expect(tracker.applied.map((e) => e.dedupeKey)).toEqual(['d1', 'd2']);
  });

  it('keeps the model live while the store holds what the disk refuses, and pauses at pauseHeldEvents', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clawpulse-pipe-'));
    let raw: Database.Database | undefined;
    const store = createSqliteStore(join(dir, 'held.sqlite'), {
      configure: (db) => {
        raw = db;
      },
    });
    const tracker = recordingTracker();
    const p = createPipeline({ store, tracker, logger: silentLogger, pauseHeldEvents: 3 });
    const flow: boolean[] = [];
    p.onFlow((ok) => flow.push(ok));
    p.ingest([ev(1)]);
    p.tick(1);
    raw?.pragma('query_only = 1'); // the disk refuses every write
    p.ingest([ev(2)], [{ key: 'files:/a', value: { pos: 2 } }]);
    p.tick(2);
    expect(p.stats()).toMatchObject({
      heldEvents: 1,
      paused: false,
      storeError: expect.stringMatching(/readonly/),
    });
    p.ingest([ev(3), ev(4)], [{ key: 'files:/a', value: { pos: 4 } }]);
    // the model has every event; the store holds three of them, so the sources pause
    expect(tracker.applied.map((e) => e.dedupeKey)).toEqual(['d1', 'd2', 'd3', 'd4']);
    expect(flow).toEqual([false]);
    expect(p.stats()).toMatchObject({ heldEvents: 3, pendingEvents: 0, paused: true });
    raw?.pragma('query_only = 0');
    p.tick(3);
    expect(flow).toEqual([false, true]);
    expect(p.stats()).toMatchObject({ heldEvents: 0, paused: false, storeError: undefined });
    store.close();
    const again = createSqliteStore(join(dir, 'held.sqlite'));
    expect(again.countEvents()).toBe(4);
    expect(again.getOffset('files:/a')).toEqual({ pos: 4 });
    again.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes snapshots of changed sessions on flush', () => {
    const store = createSqliteStore(':memory:');
    const p = createPipeline({
      store,
      tracker: recordingTracker(),
      logger: silentLogger,
      snapshotEveryMs: 1e9,
    });
    p.ingest([ev(1), ev(2, 's2')]);
    expect(store.loadSnapshots()).toHaveLength(0);
    p.flushSnapshots();
    expect(
      store
        .loadSnapshots()
        .map((s) => s.key)
        .sort(),
    ).toEqual(['s1', 's2']);
  });

  it('a restart (even after a crash) rebuilds the model from the last snapshots plus the events stored after them', () => {
    const limits = testLimits;
    const store = createSqliteStore(':memory:');
    const tracker = createSessionTracker(limits);
    const p = createPipeline({ store, tracker, logger: silentLogger, snapshotEveryMs: 1e9 });
    const started = (n: number, key: string): PulseEvent => ({
      type: 'agent.started',
      ts: n,
      source: 'files',
      sessionKey: key,
      agentId: 'main',
      dedupeKey: `start${n}/${key}`,
      runId: `r${n}`,
    });
    p.ingest([started(1, 's1'), ev(2), started(3, 's2'), ev(4, 's2')]);
    p.flushSnapshots();
    expect(store.snapshotSeq()).toBe(4);
    // stored but never snapshotted: what a crash right now would leave
    p.ingest([ev(5), ev(6, 's2'), started(7, 's3'), ev(8, 's3')]);

    const again = createSessionTracker(limits);
    expect(restoreModel(store, again)).toBe(4);
    expect(JSON.stringify(again.all())).toBe(JSON.stringify(tracker.all()));
    expect(again.get('s3')?.lines.map((l) => (l as { text?: string }).text)).toContain('t8');
  });

  it('saves early once enough finished sessions wait (so they can become briefs), not for live ones', () => {
    // every save defers the next by the 60 s cap
    const { store, saves, tracker, now, second, restarted } = pacedPipeline({
      snapshotBytesPerSec: 1,
      finishedSaveBatch: 50,
    });
    let n = 0;
    const base = { source: 'files' as const, agentId: 'main' };
    const started = (key: string): PulseEvent => ({
      ...base,
      type: 'agent.started',
      ts: now(),
      sessionKey: key,
      runId: 'r1',
      dedupeKey: `s${++n}`,
    });
    const failed = (key: string): PulseEvent => ({
      ...base,
      type: 'agent.finished',
      ts: now(),
      sessionKey: key,
      runId: 'r1',
      outcome: 'error',
      dedupeKey: `f${++n}`,
    });
    second([started('first')]);
    for (let i = 0; i < 5; i++) second();
    // the paced save at 5 s, which defers the next by 60 s
    expect(saves()).toBe(1);
    // 60 live sessions: not due before the pacing says so
    second(Array.from({ length: 60 }, (_, i) => started(`live${i}`)));
    second();
    expect(saves()).toBe(1);
    // 49 finished: not yet
    second(Array.from({ length: 49 }, (_, i) => [started(`done${i}`), failed(`done${i}`)]).flat());
    second();
    expect(saves()).toBe(1);
    // the 50th: saved within the second, 56 s before the pacing would have
    second([started('done49'), failed('done49')]);
    second();
    expect(saves()).toBe(2);
    expect(store.loadSnapshot('done49')?.status).toBe('error');
    // a crash now: the model comes back from the snapshots and the events after them
    const { again } = restarted();
    expect(JSON.stringify(again.all())).toBe(JSON.stringify(tracker.all()));
  });

  it('spaces snapshot saves by the bytes they write, and a restart after deferred saves still rebuilds the model', () => {
    const { saves, tracker, second, restarted } = pacedPipeline({ snapshotBytesPerSec: 10_000 });
    const call = (n: number): PulseEvent => ({
      type: 'tool.call',
      ts: n,
      source: 'files',
      sessionKey: 's1',
      agentId: 'main',
      dedupeKey: `call${n}`,
      runId: 'r1',
      callId: `c${n}`,
      name: 'exec',
      args: `echo ${'x'.repeat(80)} ${n}`,
    });
    let n = 0;
    /** a second of activity: ten tool calls, the pipeline's tick */
    const busySecond = () => second(Array.from({ length: 10 }, () => call(++n)));
    for (let i = 0; i < 30; i++) busySecond();
    // small snapshots: every 5 s
    expect(saves()).toBe(6);
    for (let i = 0; i < 400; i++) busySecond();
    const bytes = JSON.stringify(tracker.get('s1')).length;
    expect(bytes).toBeGreaterThan(300_000);
    // a save of B bytes waits B / 10 kB/s (capped at 60 s): far fewer than one per 5 s
    const before = saves();
    for (let i = 0; i < 120; i++) busySecond();
    expect(saves() - before).toBeLessThanOrEqual(3);
    expect(saves() - before).toBeGreaterThanOrEqual(2);
    // a crash now: the last snapshot is up to a minute old, the events after it are replayed
    const { again, replayed } = restarted();
    expect(replayed).toBeGreaterThan(0);
    expect(JSON.stringify(again.all())).toBe(JSON.stringify(tracker.all()));
  });

  it('a save is due after snapshotMaxEvents applied events, however long the delay', () => {
    const { store, counted, saves } = countingSaves();
    const p = createPipeline({
      store: counted,
      tracker: recordingTracker(),
      logger: silentLogger,
      now: () => 0,
      snapshotMaxEvents: 50,
    });
    for (let i = 0; i < 49; i++) p.ingest([ev(i)]);
    expect(saves()).toBe(0);
    p.ingest([ev(49)]);
    expect(saves()).toBe(1);
    expect(store.snapshotSeq()).toBe(50);
  });

  it('a store whose snapshots carry no seq (older clawpulse) restores its snapshots only', () => {
    const store = createSqliteStore(':memory:');
    const p = createPipeline({ store, tracker: recordingTracker(), logger: silentLogger });
    p.ingest([ev(1), ev(2)]);
    store.saveSnapshots(p.tracker.all()); // no seq: as older versions saved them
    const again = recordingTracker();
    expect(restoreModel(store, again)).toBe(0);
    expect(again.applied).toHaveLength(0);
  });

  it('finished sessions leave the live model after the retention, and come back with their stored state', () => {
    const HOUR = 3600_000;
    const limits = { ...testLimits, retainFinishedMs: HOUR };
    const store = createSqliteStore(':memory:');
    const tracker = createSessionTracker(limits);
    let clock = 0;
    const p = createPipeline({ store, tracker, logger: silentLogger, now: () => clock });
    const removed: string[][] = [];
    p.subscribe((u) => {
      if (u.removed) removed.push([...u.removed]);
    });
    const tokens = (ts: number): PulseEvent => ({
      type: 'llm.tokens',
      ts,
      source: 'files',
      sessionKey: 's1',
      agentId: 'main',
      dedupeKey: `tok${ts}`,
      input: 100,
      output: 10,
      cacheRead: 0,
      cacheWrite: 0,
      reasoning: 0,
      costUsd: 0.5,
    });
    p.ingest([ev(1), tokens(2)]);
    clock = 2 * 60_000;
    p.tick(clock); // idle → done, snapshot saved
    p.flushSnapshots();
    expect(tracker.get('s1')?.status).toBe('done');
    clock = 30 * 60_000;
    p.tick(clock); // not a minute since the last eviction pass... and not an hour quiet anyway
    expect(tracker.get('s1')).toBeDefined();
    expect(removed).toEqual([]);
    clock = 2 * HOUR;
    p.tick(clock);
    expect(tracker.get('s1')).toBeUndefined();
    expect(removed).toEqual([['s1']]); // listeners (the dashboards) drop it too
    expect(store.loadSnapshot('s1')?.tokens.total).toBe(110); // still in the store
    p.ingest([tokens(clock + 1)]);
    expect(tracker.get('s1')?.tokens.total).toBe(220);
    expect(tracker.get('s1')?.costUsd).toBe(1);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import {
  createHarness,
  type Harness,
  openSse,
  type SseReader,
  sessionEvents,
} from '../../test/e2e/harness.js';
import type { ManualClock } from '../infra/clock.js';
import { paceDelayMs } from './sse-hub.js';
import type { SessionsMessage, SnapshotMessage } from './summary.js';

let h: Harness;
const readers: SseReader[] = [];
afterEach(async () => {
  for (const r of readers.splice(0)) r.close();
  await h?.close();
});

async function sse(url: string, headers?: Record<string, string>) {
  const r = await openSse(url, headers);
  readers.push(r);
  return r;
}
const pulseIds = (r: SseReader) => r.messages.filter((m) => m.event === 'pulse').map((m) => Number(m.id));

describe('SSE stream', () => {
  it('sends a snapshot first, then stored events with id = seq and changed sessions', async () => {
    h = await createHarness({ listen: true });
    const ev = sessionEvents('agent:main:main');
    h.pipeline.ingest([ev.seen({ label: 'hello' }), ev.started()]);
    const r = await sse(`${h.url}/api/stream`);
    expect(r.headers['content-type']).toContain('text/event-stream');
    await r.waitFor((x) => x.messages.length >= 1);
    const first = r.messages[0];
    expect(first?.event).toBe('snapshot');
    expect(first?.id).toBe('2');
    const snap = JSON.parse(first?.data ?? '') as SnapshotMessage;
    expect(snap.sessions.map((s) => s.label)).toEqual(['hello']);
    expect(snap.recent.map((e) => e.seq)).toEqual([1, 2]);

    h.pipeline.ingest([ev.text('Reading files'), ev.tool('c1', 'exec', 'ls')]);
    await r.waitFor((x) => x.messages.some((m) => m.event === 'sessions'));
    expect(pulseIds(r)).toEqual([3, 4]);
    const sessions = JSON.parse(r.messages.find((m) => m.event === 'sessions')?.data ?? '');
    expect(sessions.sessions[0]).toMatchObject({
      key: 'agent:main:main',
      runningTool: 'exec',
      lastText: 'Reading files',
    });
  });

  it('resumes from Last-Event-ID: replay from the store, then live, no gap and no duplicate', async () => {
    // a small replay page forces several pulls, and events arrive while the replay runs
    h = await createHarness({ listen: true, sse: { replayPageSize: 7 } });
    const ev = sessionEvents('agent:main:main');
    h.pipeline.ingest([ev.seen(), ev.started()]);
    for (let i = 0; i < 40; i++) h.pipeline.ingest([ev.text(`line ${i}`)]);
    expect(h.store.lastSeq()).toBe(42);
    const r = await sse(`${h.url}/api/stream`, { 'last-event-id': '5' });
    // live events while the stream is replaying
    for (let i = 0; i < 10; i++) h.pipeline.ingest([ev.text(`live ${i}`)]);
    await r.waitFor((x) => pulseIds(x).length >= 47);
    for (let i = 0; i < 5; i++) h.pipeline.ingest([ev.text(`after ${i}`)]);
    await r.waitFor((x) => pulseIds(x).length >= 52);
    expect(r.messages[0]?.event).toBe('snapshot');
    expect(r.messages[0]?.id).toBeUndefined(); // a resume keeps the browser's id until replay moves it
    expect(pulseIds(r)).toEqual(Array.from({ length: 52 }, (_, i) => i + 6));
    // sessions changed during the replay are sent when it goes live
    expect(r.messages.some((m) => m.event === 'sessions')).toBe(true);

    // ?after= works like the header (a new EventSource cannot set Last-Event-ID)
    const q = await sse(`${h.url}/api/stream?after=55`);
    await q.waitFor((x) => pulseIds(x).length >= 2);
    expect(pulseIds(q)).toEqual([56, 57]);
  });

  it('cuts a too-long resume with a gap message and ignores a garbage Last-Event-ID', async () => {
    h = await createHarness({ listen: true, sse: { maxReplay: 10 } });
    const ev = sessionEvents('s1');
    h.pipeline.ingest(Array.from({ length: 30 }, (_, i) => ev.text(`t${i}`)));
    const r = await sse(`${h.url}/api/stream`, { 'last-event-id': '2' });
    await r.waitFor((x) => pulseIds(x).length >= 10);
    const gap = r.messages.find((m) => m.event === 'gap');
    expect(JSON.parse(gap?.data ?? '{}')).toEqual({ from: 3, to: 20 });
    expect(pulseIds(r)).toEqual(Array.from({ length: 10 }, (_, i) => i + 21));

    const g = await sse(`${h.url}/api/stream`, { 'last-event-id': 'drop table' });
    await g.waitFor((x) => x.messages.length >= 1);
    expect(g.messages[0]).toMatchObject({ event: 'snapshot', id: '30' });
    expect(h.sse.stats().badLastEventId).toBe(1);
  });

  it('sends heartbeats on the injected clock and closes old connections with a retry hint', async () => {
    h = await createHarness({ listen: true, http: { sseMaxAgeMs: 60_000 } });
    const clock = h.clock as ManualClock;
    const r = await sse(`${h.url}/api/stream`);
    await r.waitFor((x) => x.messages.length >= 1);
    expect(r.messages[0]?.retry).toBe(2000);
    clock.advance(15_000);
    await r.waitFor((x) => x.comments.length >= 1);
    expect(r.comments[0]).toMatch(/^hb \d+$/);
    clock.advance(15_000);
    await r.waitFor((x) => x.comments.length >= 2);
    expect(r.ended).toBe(false);
    clock.advance(30_000); // the age limit has a 90–100 % jitter: 60 s is the most it can be
    await r.waitFor((x) => x.ended);
    expect(r.messages.at(-1)?.retry).toBe(2000);
    expect(h.sse.stats()).toMatchObject({ clients: 0, closedAge: 1 });
  });

  it('refuses clients past the cap with 503 JSON and a retry hint', async () => {
    h = await createHarness({ listen: true, http: { sseMaxClients: 2 } });
    const a = await sse(`${h.url}/api/stream`);
    const b = await sse(`${h.url}/api/stream`);
    const c = await sse(`${h.url}/api/stream`);
    expect([a.status, b.status, c.status]).toEqual([200, 200, 503]);
    expect(c.headers['retry-after']).toBe('5');
    expect(JSON.parse(c.body ?? '')).toMatchObject({ error: { code: 'too_many_clients', retryAfterS: 5 } });
    a.close();
    await new Promise<void>((ok) => a.res.once('close', () => ok()));
    // the server notices the closed socket; a new client fits again
    let d = await sse(`${h.url}/api/stream`);
    for (let i = 0; d.status !== 200 && i < 50; i++) {
      await new Promise((ok) => setImmediate(ok));
      d = await sse(`${h.url}/api/stream`);
    }
    expect(d.status).toBe(200);
  });

  it('closes a client that reads nothing for the stall limit, never one that is only behind', async () => {
    h = await createHarness({ listen: true, sse: { chunkBytes: 64 * 1024 } });
    const clock = h.clock as ManualClock;
    const slow = await sse(`${h.url}/api/stream`);
    const fast = await sse(`${h.url}/api/stream`);
    await slow.waitFor((x) => x.messages.length >= 1);
    await fast.waitFor((x) => x.messages.length >= 1);
    slow.res.pause(); // stops reading: the kernel buffers fill, then the hub stops handing it bytes
    const ev = sessionEvents('big');
    const text = 'x'.repeat(16 * 1024);
    let n = 0;
    let maxQueued = 0;
    // bounded: at most 2,000 events of 16 KB (32 MB), in rounds the fast one reads through,
    // until the slow one has been behind (its kernel buffers full) for a few rounds
    for (let behindRounds = 0; behindRounds < 5 && n < 2000; ) {
      for (let i = 0; i < 20; i++) {
        h.pipeline.ingest([ev.text(`${n++} ${text}`)]);
        await new Promise((ok) => setImmediate(ok));
        maxQueued = Math.max(maxQueued, h.sse.stats().queuedBytes);
      }
      await fast.waitFor((x) => pulseIds(x).length >= n, 10_000);
      if (h.sse.stats().behind === 1) behindRounds++;
    }
    expect(h.sse.stats().behind).toBe(1);
    expect(h.pipeline.stats().ingested).toBe(n);
    expect(pulseIds(fast)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    // what waits in memory for the slow one is a chunk or two, not the 16 KB × n it has not read
    expect(maxQueued).toBeLessThanOrEqual(3 * 64 * 1024);
    // time passes in steps, with real I/O between them (the fast one reads its heartbeats)
    const advance = async (ms: number) => {
      for (let t = 0; t < ms; t += 5000) {
        clock.advance(5000);
        await new Promise((ok) => setTimeout(ok, 20));
      }
    };
    await advance(55_000);
    expect(h.sse.stats()).toMatchObject({ clients: 2, droppedSlow: 0 });
    await advance(10_000); // 60 s without reading, and the 5 s check
    expect(h.sse.stats()).toMatchObject({ clients: 1, droppedSlow: 1 });
    h.pipeline.ingest([ev.text('after')]);
    await fast.waitFor((x) => pulseIds(x).length >= n + 1);
    slow.res.resume();
    await slow.waitFor((x) => x.ended); // the server reset its socket
    expect(pulseIds(slow).length).toBeLessThan(n);
  });

  it('serves a client that fell behind from the store by seq, in order, and never drops it', async () => {
    // a cache smaller than what the client missed: most of it is read from the store again
    h = await createHarness({
      listen: true,
      sse: { chunkBytes: 32 * 1024, cacheBytes: 64 * 1024, replayPageSize: 50 },
    });
    const r = await sse(`${h.url}/api/stream`);
    await r.waitFor((x) => x.messages.length >= 1);
    r.res.pause();
    const ev = sessionEvents('agent:main:behind');
    h.pipeline.ingest([ev.seen(), ev.started()]);
    const text = 'y'.repeat(8 * 1024);
    let maxQueued = 0;
    for (let i = 0; i < 1500; i++) {
      h.pipeline.ingest([i % 3 === 0 ? ev.tool(`c${i}`, 'exec', `ls ${i}`) : ev.text(`${i} ${text}`)]);
      if (i % 10 === 0) await new Promise((ok) => setImmediate(ok));
      maxQueued = Math.max(maxQueued, h.sse.stats().queuedBytes);
    }
    const last = h.store.lastSeq();
    expect(h.sse.stats().behind).toBe(1);
    expect(maxQueued).toBeLessThanOrEqual(2 * 32 * 1024);
    r.res.resume();
    await r.waitFor((x) => pulseIds(x).length >= last, 20_000);
    expect(pulseIds(r)).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    expect(r.messages.some((m) => m.event === 'gap')).toBe(false);
    // caught up: the sessions that changed meanwhile come after the pulses
    await r.waitFor((x) => x.messages.at(-1)?.event === 'sessions');
    const msg = JSON.parse(r.messages.at(-1)?.data ?? '{}') as SessionsMessage;
    expect(msg.sessions.map((s) => s.key)).toEqual(['agent:main:behind']);
    expect(h.sse.stats()).toMatchObject({ clients: 1, behind: 0, droppedSlow: 0 });
    expect(h.sse.stats().storeReads).toBeGreaterThan(last / 50);
  });

  it('paces its turns while the process is busy, and not when it is idle', () => {
    expect(paceDelayMs(10, 0, 0.05)).toBe(0);
    expect(paceDelayMs(10, 0.5, 0.05)).toBeCloseTo(10);
    expect(paceDelayMs(10, 1, 0.05)).toBeCloseTo(190);
    expect(paceDelayMs(10, 0.99, 0.05)).toBeCloseTo(190);
  });

  it('closeAll ends every stream with a retry hint and refuses new ones (shutdown)', async () => {
    h = await createHarness({ listen: true });
    const a = await sse(`${h.url}/api/stream`);
    await a.waitFor((x) => x.messages.length >= 1);
    h.sse.closeAll();
    await a.waitFor((x) => x.ended);
    expect(a.messages.at(-1)?.retry).toBe(2000);
    const b = await sse(`${h.url}/api/stream`);
    expect(b.status).toBe(503);
    expect(JSON.parse(b.body ?? '')).toMatchObject({ error: { code: 'shutting_down' } });
  });

  it('tells clients when a finished session leaves the live view (a day after its last event)', async () => {
    h = await createHarness({ listen: true });
    const clock = h.clock as ManualClock;
    const old = sessionEvents('agent:main:old', 'main', () => clock.now());
    const live = sessionEvents('agent:main:live', 'main', () => clock.now());
    h.pipeline.ingest([old.seen(), old.started(), old.text('done long ago'), old.finished('ok')]);
    clock.advance(61_000);
    h.pipeline.tick(clock.now()); // idle → done
    clock.advance(25 * 3600_000); // (before the client connects: a stream lives an hour at most)
    const r = await sse(`${h.url}/api/stream`);
    await r.waitFor((x) => x.messages.length >= 1);
    const snap = JSON.parse(r.messages[0]?.data ?? '') as SnapshotMessage;
    expect(snap.sessions.map((s) => s.key)).toEqual(['agent:main:old']);
    h.pipeline.ingest([live.seen(), live.started()]);
    h.pipeline.tick(clock.now()); // the old one is evicted; the live one stays
    await r.waitFor((x) => x.messages.some((m) => m.event === 'sessions' && m.data.includes('removed')));
    const msg = r.messages.find((m) => m.event === 'sessions' && m.data.includes('removed'));
    const body = JSON.parse(msg?.data ?? '{}') as SessionsMessage;
    expect(body.removed).toEqual(['agent:main:old']);
    expect(body.sessions.map((s) => s.key)).not.toContain('agent:main:old');
    // a reconnecting client's snapshot no longer has it either; the API still finds it in the store
    const again = await sse(`${h.url}/api/stream`);
    await again.waitFor((x) => x.messages.length >= 1);
    const snap2 = JSON.parse(again.messages[0]?.data ?? '') as SnapshotMessage;
    expect(snap2.sessions.map((s) => s.key)).toEqual(['agent:main:live']);
    const res = await fetch(`${h.url}/api/sessions/${encodeURIComponent('agent:main:old')}`);
    expect(res.status).toBe(200);
  });

  it('sends time-based status changes (ticks) as sessions messages without an id', async () => {
    h = await createHarness({ listen: true });
    const clock = h.clock as ManualClock;
    const ev = sessionEvents('agent:main:tick', 'main', () => clock.now());
    h.pipeline.ingest([ev.seen(), ev.started(), ev.text('working'), ev.finished('ok')]);
    const r = await sse(`${h.url}/api/stream`);
    await r.waitFor((x) => x.messages.length >= 1);
    clock.advance(61_000);
    h.pipeline.tick(clock.now()); // idle → done after the idle timeout
    await r.waitFor((x) => x.messages.some((m) => m.event === 'sessions'));
    const msg = r.messages.find((m) => m.event === 'sessions');
    expect(msg?.id).toBeUndefined(); // the browser's Last-Event-ID stays on the last stored event
    expect(JSON.parse(msg?.data ?? '{}').sessions[0]).toMatchObject({
      key: 'agent:main:tick',
      status: 'done',
    });
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../infra/clock.js';
import { silentLogger } from '../../infra/logger.js';
import type { PulseEvent } from '../../model/events.js';
import type { SourceOffset } from '../../store/event-store.js';
import type { OffsetReader } from '../source.js';
import {
  type FakeGateway,
  type FixtureFrames,
  loadFixtureFrames,
  startFakeGateway,
} from './fake-gateway.helper.js';
import { createGatewaySource } from './gateway-source.js';

type Obj = Record<string, unknown>;

function recordingSink() {
  const events: PulseEvent[] = [];
  const offsets: SourceOffset[] = [];
  return {
    events,
    offsets,
    ingest(evs: readonly PulseEvent[], offs?: readonly SourceOffset[]) {
      events.push(...evs);
      if (offs) offsets.push(...offs);
    },
  };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});
const waitFor = (fn: () => void) => vi.waitFor(fn, { timeout: 5000, interval: 5 });

async function gateway(o: Parameters<typeof startFakeGateway>[0]): Promise<FakeGateway> {
  const g = await startFakeGateway(o);
  cleanups.push(() => g.close());
  return g;
}

/** what chat.history would return: the persisted messages of a session, oldest first */
function historyOf(fx: FixtureFrames, sessionKey: string): Obj[] {
  return fx.events
    .filter((f) => f.event === 'session.message' && (f.payload as Obj).sessionKey === sessionKey)
    .map((f) => (f.payload as Obj).message as Obj);
}

/** a subscribe result whose rows are the last sessions.changed snapshot of each session */
function lastRows(fx: FixtureFrames): Obj {
  const rows = new Map<string, Obj>();
  for (const f of fx.events)
    if (f.event === 'sessions.changed') rows.set(String((f.payload as Obj).sessionKey), f.payload as Obj);
  return { subscribed: true, list: { sessions: [...rows.values()] } };
}

function keysOf(events: PulseEvent[]): string[] {
  return events.map((e) => e.dedupeKey);
}

describe.each(['v2026.9.6', 'v2026.7.35'] as const)(
  'gateway source: reconnect and backfill (%s)',
  (version) => {
    const fx = loadFixtureFrames(version);
    /** frames before the events: challenge, hello, subscribe (+ sessions.list when subscribe has no rows) */
    const handshake = (n: number) => (n === 1 && !('list' in fx.subscribe) ? 4 : 3);

    it('a connection lost mid-run resumes without duplicate or missing events', async () => {
      // the reference: one uninterrupted connection
      const ref = recordingSink();
      const g0 = await gateway({
        hello: fx.hello,
        subscribe: () => fx.subscribe,
        onLive: (c) => {
          for (const f of fx.events) c.send(f);
        },
      });
      const s0 = createGatewaySource({ url: g0.url, sink: ref, offsets: noOffsets(), logger: silentLogger });
      cleanups.push(() => s0.stop());
      await s0.start();
      await waitFor(() => expect(s0.stats().events).toBeGreaterThan(0));
      await waitFor(() => expect(s0.stats().frames).toBe(handshake(1) + fx.events.length));

      // the interrupted run: the socket dies after `cut` frames; the reconnect sees an overlap of 5
      const cut = fx.events.findIndex((f) => f.event === 'session.tool') + 12;
      const clock = new ManualClock(1);
      const g = await gateway({
        hello: fx.hello,
        subscribe: (n) => (n === 1 ? fx.subscribe : lastRows(fx)),
        history: (key) => ({ sessionKey: key, messages: historyOf(fx, key) }),
        onLive: (c, n) => {
          const frames = n === 1 ? fx.events.slice(0, cut) : fx.events.slice(cut - 5);
          for (const f of frames) c.send(f);
          if (n === 1) c.ws.close(1012, 'service restart');
        },
      });
      const sink = recordingSink();
      const s = createGatewaySource({
        url: g.url,
        sink,
        offsets: noOffsets(),
        logger: silentLogger,
        clock,
        random: () => 0,
      });
      cleanups.push(() => s.stop());
      await s.start();
      await waitFor(() => expect(s.health().state).toBe('down'));
      expect(s.stats().frames).toBe(3 + cut);
      clock.advance(1000);
      await waitFor(() => expect(g.conns[1]?.live).toBe(true));
      await waitFor(() =>
        expect(s.stats().frames).toBe(3 + cut + 3 + fx.events.length - cut + 5 + s.stats().backfills),
      );

      const historyReqs = g.conns[1]?.requests.filter((r) => r.method === 'chat.history') ?? [];
      expect(historyReqs.map((r) => (r.params as Obj).sessionKey)).toContain('agent:main:main');

      const got = keysOf(sink.events);
      expect(new Set(got).size).toBe(got.length);
      expect(new Set(got)).toEqual(new Set(keysOf(ref.events)));
      expect(s.health()).toMatchObject({ state: 'live', malformed: 0 });
    });

    it('after a daemon restart the backfill re-creates only keys the store already holds, plus what is new', async () => {
      // first daemon run: everything live; keep its keys and its saved offset
      const first = recordingSink();
      const g1 = await gateway({
        hello: fx.hello,
        subscribe: () => fx.subscribe,
        onLive: (c) => {
          for (const f of fx.events) c.send(f);
        },
      });
      const a = createGatewaySource({ url: g1.url, sink: first, offsets: noOffsets(), logger: silentLogger });
      await a.start();
      await waitFor(() => expect(a.stats().frames).toBe(handshake(1) + fx.events.length));
      await a.stop();
      const saved = first.offsets.at(-1);
      expect(saved?.key).toBe(`gateway:${g1.url}`);
      const stored = new Set(keysOf(first.events));

      // while the daemon was down, the main session made one more model call
      const lastTs = (saved?.value as { lastEventTs: number } | undefined)?.lastEventTs ?? 0;
      const fresh = {
        role: 'assistant',
        content: [{ type: 'text', text: 'One more thing.' }],
        provider: 'fake',
        model: 'fake-model',
        usage: { input: 100, output: 5, cacheRead: 0, cacheWrite: 0, cost: { total: 0.000105 } },
        timestamp: lastTs + 60_000,
        __openclaw: { id: 'new-msg-1', runId: 'run-after-restart' },
      };
      const rows = lastRows(fx);
      for (const r of (rows.list as { sessions: Obj[] }).sessions) r.updatedAt = lastTs + 60_000;
      const g2 = await startFakeGateway(
        {
          hello: fx.hello,
          subscribe: () => rows,
          history: (key) => ({
            messages: key === 'agent:main:main' ? [...historyOf(fx, key), fresh] : historyOf(fx, key),
          }),
        },
        0,
      );
      cleanups.push(() => g2.close());
      const second = recordingSink();
      const offsets: OffsetReader = {
        getOffset: (k) => (k === saved?.key.replace(g1.url, g2.url) ? saved?.value : undefined),
        listOffsets: () => [],
      };
      const b = createGatewaySource({ url: g2.url, sink: second, offsets, logger: silentLogger });
      cleanups.push(() => b.stop());
      await b.start();
      await waitFor(() => expect(second.events.some((e) => e.dedupeKey.includes('new-msg-1'))).toBe(true));
      await waitFor(() => expect(b.stats().frames).toBe(3 + b.stats().backfills));
      expect(b.stats().backfills).toBe(2);

      const replayed = second.events.filter(
        (e) => e.type !== 'session.seen' && e.type !== 'subagent.spawned',
      );
      const unknown = replayed.filter((e) => !stored.has(e.dedupeKey));
      expect(unknown.map((e) => e.type).sort()).toEqual(['assistant.text', 'llm.tokens']);
      expect(unknown.find((e) => e.type === 'llm.tokens')).toMatchObject({
        input: 100,
        output: 5,
        runId: 'run-after-restart',
      });
      // the backfill did re-map the old messages: their keys are exactly the stored ones
      expect(replayed.filter((e) => e.type === 'llm.tokens').length).toBeGreaterThan(1);
    });
  },
);

function noOffsets(): OffsetReader {
  return { getOffset: () => undefined, listOffsets: () => [] };
}

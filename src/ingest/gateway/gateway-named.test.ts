/**
 * A gateway named in OPENCLAW_GATEWAYS: the same frames as the single gateway's, every session
 * key scoped by the name (sessionKey, parent and child keys, dedupe keys), the events saying
 * which gateway; the backfill after a restart asks the gateway with its own (plain) keys and
 * re-creates only what the store holds, plus what is new.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../infra/logger.js';
import type { PulseEvent } from '../../model/events.js';
import type { SourceOffset } from '../../store/event-store.js';
import type { OffsetReader } from '../source.js';
import { type FakeGateway, loadFixtureFrames, startFakeGateway } from './fake-gateway.helper.js';
import { createGatewaySource } from './gateway-source.js';
import { scopeEvent } from './scope-events.js';

type Obj = Record<string, unknown>;
const fx = loadFixtureFrames('v2026.9.6');
const noOffsets: OffsetReader = { getOffset: () => undefined, listOffsets: () => [] };

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
const playAll = {
  hello: fx.hello,
  subscribe: () => fx.subscribe,
  onLive: (c: { send(f: unknown): void }) => {
    for (const f of fx.events) c.send(f);
  },
};

/** the events of one source on the fixture, plain or named */
async function follow(name?: string) {
  const g = await gateway(playAll);
  const sink = recordingSink();
  const s = createGatewaySource({ url: g.url, name, sink, offsets: noOffsets, logger: silentLogger });
  cleanups.push(() => s.stop());
  await s.start();
  await waitFor(() => expect(s.stats().frames).toBe(3 + fx.events.length));
  await s.stop();
  return { s, sink };
}

describe('a named gateway source', () => {
  it('scopes every key by its name and says which gateway', async () => {
    const plain = await follow();
    const named = await follow('edge');
    expect(named.s.id).toBe('gateway:edge');
    expect(named.s.health().id).toBe('gateway:edge');
    expect(named.sink.events.length).toBe(plain.sink.events.length);
    // the same facts (times aside: a frame without one is stamped on arrival)
    const shape = (e: PulseEvent) => ({ ...e, ts: 0 });
    expect(named.sink.events.map(shape)).toEqual(plain.sink.events.map((e) => shape(scopeEvent('edge', e))));
    for (const e of named.sink.events) {
      expect(e.gateway).toBe('edge');
      expect(e.sessionKey.startsWith('edge|agent:')).toBe(true);
      expect(e.dedupeKey.startsWith('edge|')).toBe(true);
      const o = e as { parentKey?: string; childKey?: string };
      if (o.parentKey) expect(o.parentKey.startsWith('edge|agent:')).toBe(true);
      if (o.childKey) expect(o.childKey.startsWith('edge|agent:')).toBe(true);
    }
    // the fixture has a sub-agent: its spawn names both sessions under the scope
    expect(named.sink.events.some((e) => e.type === 'subagent.spawned')).toBe(true);
    // the saved offset remembers sessions by the model's (scoped) keys
    const saved = named.sink.offsets.at(-1)?.value as { sessions: Obj };
    expect(Object.keys(saved.sessions).every((k) => k.startsWith('edge|'))).toBe(true);
  });

  it('after a restart backfills with the gateway’s own keys, only what is new being new', async () => {
    const first = await follow('edge');
    const saved = first.sink.offsets.at(-1);
    if (!saved) throw new Error('no offset saved');
    const stored = new Set(first.sink.events.map((e) => e.dedupeKey));
    const lastTs = (saved.value as { lastEventTs: number }).lastEventTs;
    const rows = new Map<string, Obj>();
    for (const f of fx.events)
      if (f.event === 'sessions.changed')
        rows.set(String((f.payload as Obj).sessionKey), { ...(f.payload as Obj) });
    for (const r of rows.values()) r.updatedAt = lastTs + 60_000;
    const historyOf = (key: string) =>
      fx.events
        .filter((f) => f.event === 'session.message' && (f.payload as Obj).sessionKey === key)
        .map((f) => (f.payload as Obj).message as Obj);
    const fresh = {
      role: 'assistant',
      content: [{ type: 'text', text: 'One more thing.' }],
      usage: { input: 100, output: 5, cacheRead: 0, cacheWrite: 0, cost: { total: 0.000105 } },
      timestamp: lastTs + 60_000,
      __openclaw: { id: 'new-msg-1', runId: 'run-after-restart' },
    };
    const g = await gateway({
      hello: fx.hello,
      subscribe: () => ({ subscribed: true, list: { sessions: [...rows.values()] } }),
      history: (key) => ({
        messages: key === 'agent:main:main' ? [...historyOf(key), fresh] : historyOf(key),
      }),
    });
    const sink = recordingSink();
    const offsets: OffsetReader = {
      getOffset: (k) => (k === `gateway:${g.url}` ? saved.value : undefined),
      listOffsets: () => [],
    };
    const s = createGatewaySource({ url: g.url, name: 'edge', sink, offsets, logger: silentLogger });
    cleanups.push(() => s.stop());
    await s.start();
    await waitFor(() => expect(sink.events.some((e) => e.dedupeKey.includes('new-msg-1'))).toBe(true));
    const asked = g.conns[0]?.requests
      .filter((r) => r.method === 'chat.history')
      .map((r) => (r.params as Obj).sessionKey);
    expect(asked).toContain('agent:main:main');
    expect(asked?.every((k) => !String(k).includes('|'))).toBe(true);
    const replayed = sink.events.filter((e) => e.type !== 'session.seen' && e.type !== 'subagent.spawned');
    const unknown = replayed.filter((e) => !stored.has(e.dedupeKey));
    expect(unknown.map((e) => e.type).sort()).toEqual(['assistant.text', 'llm.tokens']);
    expect(unknown[0]?.sessionKey).toBe('edge|agent:main:main');
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../infra/clock.js';
import { silentLogger } from '../../infra/logger.js';
import type { PulseEvent } from '../../model/events.js';
import type { SourceOffset } from '../../store/event-store.js';
import type { OffsetReader } from '../source.js';
import { type FakeGateway, loadFixtureFrames, startFakeGateway } from './fake-gateway.helper.js';
import { createGatewaySource, type GatewaySource } from './gateway-source.js';
import { createResumeState } from './resume.js';

type Version = 'v2026.9.6' | 'v2026.7.35';

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

const noOffsets: OffsetReader = { getOffset: () => undefined, listOffsets: () => [] };

/** token totals as the captured frames state them: the usage of each persisted assistant message */
function fixtureUsage(version: Version) {
  let input = 0;
  let output = 0;
  let cost = 0;
  for (const f of loadFixtureFrames(version).events) {
    const p = f.payload as {
      message?: { role?: string; usage?: { input: number; output: number; cost: { total: number } } };
    };
    if (f.event === 'session.message' && p.message?.role === 'assistant' && p.message.usage) {
      input += p.message.usage.input;
      output += p.message.usage.output;
      cost += p.message.usage.cost.total;
    }
  }
  return { input, output, cost };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function gateway(o: Parameters<typeof startFakeGateway>[0], port?: number): Promise<FakeGateway> {
  const g = await startFakeGateway(o, port);
  cleanups.push(() => g.close());
  return g;
}

function source(deps: Partial<Parameters<typeof createGatewaySource>[0]> & { url: string }): GatewaySource {
  const s = createGatewaySource({ sink: recordingSink(), offsets: noOffsets, logger: silentLogger, ...deps });
  cleanups.push(() => s.stop());
  return s;
}

const waitFor = (fn: () => void) => vi.waitFor(fn, { timeout: 5000, interval: 5 });

describe.each<Version>(['v2026.9.6', 'v2026.7.35'])('gateway source replaying real %s frames', (version) => {
  it('emits sessions, tools, the sub-agent link, exact token totals and whole assistant text', async () => {
    const fx = loadFixtureFrames(version);
    const g = await gateway({
      token: 'tok-123456',
      hello: fx.hello,
      subscribe: () => fx.subscribe,
      onLive: (c) => {
        for (const f of fx.events) c.send(f);
      },
    });
    const sink = recordingSink();
    const s = source({ url: g.url, token: 'tok-123456', sink });
    await s.start();
    // challenge + hello + subscribe response + every event frame
    await waitFor(() => expect(s.stats().frames).toBe((version === 'v2026.9.6' ? 3 : 4) + fx.events.length));

    const params = g.conns[0]?.connectParams as Record<string, unknown>;
    expect(params).toMatchObject({
      minProtocol: 3,
      maxProtocol: 4,
      role: 'operator',
      scopes: ['operator.read', 'operator.write', 'operator.admin'],
      caps: ['tool-events'],
      client: { id: 'gateway-client', mode: 'backend' },
      auth: { token: 'tok-123456' },
    });
    // 2026.7.35 answers subscribe with {subscribed:true} only: the rows come from sessions.list
    expect(g.conns[0]?.requests.map((r) => r.method)).toEqual(
      version === 'v2026.9.6'
        ? ['connect', 'sessions.subscribe']
        : ['connect', 'sessions.subscribe', 'sessions.list'],
    );
    expect(s.health()).toMatchObject({ state: 'live', malformed: 0 });
    expect(s.health().detail).toContain('protocol 4');

    const ev = sink.events;
    const keys = ev.map((e) => e.dedupeKey);
    expect(new Set(keys).size).toBe(keys.length);

    const seen = ev.filter((e) => e.type === 'session.seen');
    const child = seen.find((e) => e.sessionKey.includes(':subagent:'));
    expect(seen.some((e) => e.sessionKey === 'agent:main:main')).toBe(true);
    expect(child).toMatchObject({ parentKey: 'agent:main:main', label: 'fake-child' });
    const childKey = child?.sessionKey as string;

    const spawned = ev.filter((e) => e.type === 'subagent.spawned');
    expect(spawned).toHaveLength(1);
    expect(spawned[0]).toMatchObject({ parentKey: 'agent:main:main', childKey, label: 'fake-child' });
    expect(ev.find((e) => e.type === 'subagent.finished')).toMatchObject({
      parentKey: 'agent:main:main',
      childKey,
      outcome: 'ok',
    });

    const calls = ev.filter((e) => e.type === 'tool.call');
    const names = calls.map((e) => (e.type === 'tool.call' ? e.name : ''));
    // 2026.9 wraps the spawn in tool_call; we show the inner tool only
    expect(names).toEqual(
      version === 'v2026.9.6'
        ? ['sessions_spawn', 'exec', 'exec']
        : ['sessions_spawn', 'exec', 'exec', 'exec'],
    );
    for (const c of calls) {
      if (c.type !== 'tool.call') continue;
      const out = ev.find((e) => e.type === 'tool.output' && e.callId === c.callId && e.runId === c.runId);
      expect(out, `output of ${c.name} ${c.callId}`).toBeDefined();
    }
    expect(ev.some((e) => e.type === 'tool.error')).toBe(false);
    expect(
      calls.find((c) => c.sessionKey === childKey && c.type === 'tool.call' && c.name === 'exec'),
    ).toBeDefined();

    const want = fixtureUsage(version);
    const tokens = ev.filter((e) => e.type === 'llm.tokens');
    expect(tokens.reduce((a, e) => a + (e.type === 'llm.tokens' ? e.input : 0), 0)).toBe(want.input);
    expect(tokens.reduce((a, e) => a + (e.type === 'llm.tokens' ? e.output : 0), 0)).toBe(want.output);
    expect(tokens.reduce((a, e) => a + (e.type === 'llm.tokens' ? e.costUsd : 0), 0)).toBeCloseTo(
      want.cost,
      9,
    );

    const texts = ev.flatMap((e) => (e.type === 'assistant.text' ? [e.text] : []));
    // whole texts only: the first cumulative delta "Done. Tool said:" never shows up on its own
    expect(texts.length).toBeGreaterThanOrEqual(3);
    expect(texts).not.toContain('Done. Tool said:');
    expect(texts.some((t) => t.startsWith('Done. Tool said: bash_jobs.0'))).toBe(true);

    const runs = ev.filter((e) => e.type === 'agent.started').length;
    expect(ev.filter((e) => e.type === 'agent.finished' && e.outcome === 'ok')).toHaveLength(runs);
    expect(runs).toBe(3);
  });
});

describe('gateway source: handshake failures', () => {
  it('a rejected token names where the token was read from, never the token', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cp-gw-'));
    cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    // JSON5 as OpenClaw writes it: unquoted keys, comments, trailing commas
    fs.writeFileSync(
      path.join(dir, 'openclaw.json'),
      `// local gateway\n{\n  gateway: { mode: "local", port: 18789,\n    auth: { mode: 'token', token: "wrong-token-xyz", },\n  },\n}\n`,
    );
    const g = await gateway({ token: 'right-token' });
    const s = source({ url: g.url, stateDir: dir, clock: new ManualClock(1000) });
    await s.start();
    await waitFor(() => expect(s.health().state).toBe('down'));
    const detail = s.health().detail as string;
    expect(detail).toContain(`gateway.auth.token in ${path.join(dir, 'openclaw.json')}`);
    expect(detail).toContain('rejected the token');
    expect(detail).not.toContain('wrong-token-xyz');
    expect((g.conns[0]?.connectParams?.auth as { token?: string } | undefined)?.token).toBe(
      'wrong-token-xyz',
    );

    const s2 = source({ url: g.url, token: 'env-token-abc', clock: new ManualClock(1000) });
    await s2.start();
    await waitFor(() =>
      expect(s2.health().detail).toContain('rejected the token from OPENCLAW_GATEWAY_TOKEN'),
    );
    expect(s2.health().detail).not.toContain('env-token-abc');
  });

  it('a protocol mismatch says which versions each side speaks', async () => {
    const g = await gateway({ protocol: { min: 5, max: 6 } });
    const s = source({ url: g.url, clock: new ManualClock(1000) });
    await s.start();
    await waitFor(() => expect(s.health().state).toBe('down'));
    expect(s.health().detail).toMatch(
      /clawpulse speaks gateway protocol 3-4, the gateway speaks protocol 5-6/,
    );
  });
});

describe('gateway source: optional (SOURCES=auto)', () => {
  it('nothing listening is standby, not down; a rejected token still is down', async () => {
    const probe = await startFakeGateway({});
    const { url } = probe;
    await probe.close();
    const s = source({ url, clock: new ManualClock(1000), optional: true });
    await s.start();
    await waitFor(() => expect(s.health().state).toBe('standby'));
    expect(s.health().detail).toContain(`no gateway at ${url}`);
    const g = await gateway({ token: 'right-token' });
    const s2 = source({ url: g.url, token: 'wrong', clock: new ManualClock(1000), optional: true });
    await s2.start();
    await waitFor(() => expect(s2.health().state).toBe('down'));
    expect(s2.health().detail).toContain('rejected the token');
  });
});

describe('gateway source: connection loss', () => {
  it('retries a down server with capped exponential backoff and recovers', async () => {
    const probe = await startFakeGateway({});
    const { port, url } = probe;
    await probe.close();
    const clock = new ManualClock(10_000);
    const s = source({ url, clock, random: () => 1, backoff: { baseMs: 100, maxMs: 300 } });
    const states: string[] = [];
    s.onStateChange((h) => states.push(h.state));
    await s.start();
    await waitFor(() => expect(s.health().detail).toMatch(/ECONNREFUSED.*retry 1 in 100ms/));
    expect(s.health().state).toBe('down');
    expect(s.health().detail).toContain(`connect ECONNREFUSED ${url}`);
    clock.advance(99);
    expect(s.stats().reconnects).toBe(1);
    clock.advance(1);
    await waitFor(() => expect(s.health().detail).toMatch(/retry 2 in 200ms/));
    clock.advance(200);
    await waitFor(() => expect(s.health().detail).toMatch(/retry 3 in 300ms/));
    clock.advance(300);
    await waitFor(() => expect(s.health().detail).toMatch(/retry 4 in 300ms/));

    const g = await gateway({}, port);
    clock.advance(300);
    await waitFor(() => expect(s.health().state).toBe('live'));
    expect(g.conns).toHaveLength(1);
    expect(states.slice(0, 2)).toEqual(['starting', 'down']);
    expect(s.health().detail).toContain('4 reconnects');
  });

  it('closes a silent connection with 4000 after 2 × tickIntervalMs and reconnects', async () => {
    const clock = new ManualClock(50_000);
    const g = await gateway({ tickIntervalMs: 1000 });
    const s = source({ url: g.url, clock, random: () => 0, backoff: { baseMs: 100, maxMs: 1000 } });
    await s.start();
    await waitFor(() => expect(s.health().state).toBe('live'));
    clock.advance(1999);
    expect(g.conns[0]?.closeCode).toBeUndefined();
    expect(s.health().state).toBe('live');
    clock.advance(1);
    expect(await g.conns[0]?.closed).toBe(4000);
    expect(s.health().state).toBe('down');
    clock.advance(50); // random 0 → half of the 100 ms base
    await waitFor(() => expect(g.conns[1]?.live).toBe(true));
    await waitFor(() => expect(s.health().state).toBe('live'));
  });

  it('a tick keeps the connection open', async () => {
    const clock = new ManualClock(50_000);
    const g = await gateway({ tickIntervalMs: 1000 });
    const s = source({ url: g.url, clock });
    await s.start();
    await waitFor(() => expect(s.health().state).toBe('live'));
    clock.advance(1500);
    g.conns[0]?.send({ type: 'event', event: 'tick', payload: { ts: 1 }, seq: 1 });
    await waitFor(() => expect(s.stats().frames).toBe(4));
    clock.advance(1500);
    expect(g.conns[0]?.closeCode).toBeUndefined();
    expect(s.health().state).toBe('live');
  });

  it('a garbage frame is counted and skipped; the next frame still maps', async () => {
    const g = await gateway({
      onLive: (c) => {
        c.sendRaw('not json {{');
        c.sendRaw('[1,2,3]');
        c.sendRaw('{"type":"event"}');
        c.send({
          type: 'event',
          event: 'agent',
          payload: {
            runId: 'r1',
            sessionKey: 'agent:main:main',
            stream: 'lifecycle',
            seq: 1,
            ts: 5,
            data: { phase: 'start' },
          },
        });
      },
    });
    const sink = recordingSink();
    const s = source({ url: g.url, sink });
    await s.start();
    await waitFor(() => expect(sink.events.some((e) => e.type === 'agent.started')).toBe(true));
    expect(s.health()).toMatchObject({ state: 'live', malformed: 3 });
  });
});

describe('gateway source: absurd numbers', () => {
  it('a time of 1e308 or -2^63 becomes the receive time, 2^64 tokens drop to 0; counted in health', async () => {
    const now = Date.UTC(2026, 11, 7, 12);
    const g = await gateway({
      onLive: (c) => {
        const p = { runId: 'r1', sessionKey: 'agent:main:main', stream: 'lifecycle', seq: 1 };
        c.send({ type: 'event', event: 'agent', payload: { ...p, ts: 1e308, data: { phase: 'start' } } });
        c.send({
          type: 'event',
          event: 'session.message',
          payload: {
            sessionKey: 'agent:main:main',
            message: {
              role: 'assistant',
              timestamp: -(2 ** 63),
              content: [{ type: 'text', text: 'hi' }],
              usage: { input: 2 ** 64, output: 7, cost: { total: -3 } },
              __openclaw: { id: 'm1', runId: 'r1' },
            },
          },
        });
      },
    });
    const sink = recordingSink();
    const s = source({ url: g.url, sink, clock: new ManualClock(now) });
    await s.start();
    await waitFor(() => expect(sink.events.some((e) => e.type === 'llm.tokens')).toBe(true));
    for (const e of sink.events) expect(e.ts).toBe(now);
    expect(sink.events.find((e) => e.type === 'llm.tokens')).toMatchObject({
      input: 0,
      output: 7,
      costUsd: 0,
    });
    // started + text + tokens times, the input count and the cost
    expect(s.health().anomalies).toBe(5);
    expect(s.health().lastEventAt).toBe(now);
  });
});

describe('gateway resume offset', () => {
  it('a time saved before events were bounded (1e308) does not stop every backfill', () => {
    const now = Date.now();
    const r = createResumeState('ws://x', {
      getOffset: () => ({ lastEventTs: 1e308, sessions: { a: 1e308, b: now - 1000, c: -1 } }),
      listOffsets: () => [],
    });
    expect(r.lastEventTs).toBe(0);
    expect([...r.sessions]).toEqual([['b', now - 1000]]);
  });
});

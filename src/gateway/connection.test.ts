import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../infra/clock.js';
import { createLogger, silentLogger } from '../infra/logger.js';
import {
  type FakeGateway,
  type FakeGatewayOptions,
  startFakeGateway,
} from '../ingest/gateway/fake-gateway.helper.js';
import {
  createGatewayConnection,
  type GatewayConnection,
  type GatewayConnectionOptions,
  GatewayRequestError,
  withGateway,
} from './connection.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});
const waitFor = (fn: () => void) => vi.waitFor(fn, { timeout: 5000, interval: 5 });

async function gateway(o: FakeGatewayOptions = {}, port?: number): Promise<FakeGateway> {
  const g = await startFakeGateway(o, port);
  cleanups.push(() => g.close());
  return g;
}

/** a port nothing listens on (until a test starts a gateway there) */
async function freePort(): Promise<{ port: number; url: string }> {
  const probe = await startFakeGateway({});
  await probe.close();
  return { port: probe.port, url: probe.url };
}

function connection(o: Partial<GatewayConnectionOptions> & { url: string }): GatewayConnection {
  const c = createGatewayConnection({ logger: silentLogger, clock: new ManualClock(1000), ...o });
  cleanups.push(() => c.stop());
  return c;
}

async function rejection(p: Promise<unknown>): Promise<GatewayRequestError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayRequestError);
  return err as GatewayRequestError;
}

const echo = {
  echo: (params: unknown, _c: unknown, reply: { ok(p: unknown): void }) => reply.ok({ params }),
};

describe('gateway connection: handshake and requests', () => {
  it('connects as a backend operator with read+write+admin scopes and answers a request', async () => {
    const g = await gateway({ token: 'tok-1', methods: echo });
    const c = connection({ url: g.url, token: 'tok-1' });
    expect(c.status()).toMatchObject({ state: 'stopped', detail: 'not started', reconnects: 0 });
    c.start();
    expect(c.status().state).toBe('starting');
    expect(c.status().detail).toBe(`connecting to ${g.url} (token from OPENCLAW_GATEWAY_TOKEN)`);
    const hello = await c.ready();
    expect(hello).toMatchObject({ protocol: 4, serverVersion: 'fake', tickIntervalMs: 30_000 });
    expect(c.status()).toMatchObject({ state: 'live', detail: 'protocol 4, gateway fake', hello });
    expect(g.conns[0]?.connectParams).toMatchObject({
      role: 'operator',
      scopes: ['operator.read', 'operator.write', 'operator.admin'],
      client: { id: 'gateway-client', mode: 'backend' },
      auth: { token: 'tok-1' },
    });

    await expect(c.request('echo', { a: 1 })).resolves.toEqual({ params: { a: 1 } });
    expect(g.conns[0]?.requests.map((r) => r.method)).toEqual(['connect', 'echo']);
    // challenge, hello-ok, the echo reply
    expect(c.stats()).toEqual({ frames: 3, malformed: 0, reconnects: 0 });
  });

  it('asks for the scopes it is given', async () => {
    const g = await gateway();
    const c = connection({ url: g.url, scopes: ['operator.read'] });
    c.start();
    await c.ready();
    expect(g.conns[0]?.connectParams?.scopes).toEqual(['operator.read']);
  });

  it('hasMethod reads hello-ok features.methods; undefined before the gateway said', async () => {
    const g = await gateway({ methods: echo });
    const c = connection({ url: g.url });
    expect(c.hasMethod('echo')).toBeUndefined();
    c.start();
    await c.ready();
    expect(c.hasMethod('echo')).toBe(true);
    expect(c.hasMethod('sessions.subscribe')).toBe(true);
    expect(c.hasMethod('agent')).toBe(false);
  });

  it('agent replies twice under one id: expectFinal resolves on the outcome, onAccepted gets the first', async () => {
    const order: string[] = [];
    const g = await gateway({
      methods: {
        agent: (params: { message: string }, conn, reply) => {
          reply.ok({ status: 'accepted', runId: 'run-1' });
          reply.ok({ status: 'ok', runId: 'run-1', result: { text: `did ${params.message}` } });
          // in the same socket read as the reply: the caller must see its outcome first
          conn.send({ type: 'event', event: 'agent', payload: { runId: 'run-1', stream: 'lifecycle' } });
        },
      },
    });
    const c = connection({ url: g.url });
    c.onEvent((f) => order.push(`event ${f.event}`));
    c.start();
    await c.ready();
    const accepted: unknown[] = [];
    const final = await c.request<{ status: string }>(
      'agent',
      { message: 'it' },
      {
        expectFinal: true,
        onAccepted: (p) => {
          accepted.push(p);
          order.push('accepted');
        },
      },
    );
    order.push('final');
    expect(accepted).toEqual([{ status: 'accepted', runId: 'run-1' }]);
    expect(final).toEqual({ status: 'ok', runId: 'run-1', result: { text: 'did it' } });
    await waitFor(() => expect(order).toEqual(['accepted', 'final', 'event agent']));

    // without expectFinal the first reply is the answer
    await expect(c.request('agent', { message: 'x' })).resolves.toMatchObject({ status: 'accepted' });
  });

  it('an error reply rejects with a GatewayRequestError carrying the code', async () => {
    const g = await gateway({
      methods: {
        'sessions.send': (_p, _c, reply) =>
          reply.error('NOT_FOUND', 'no session agent:x', { retryable: false, details: { key: 'agent:x' } }),
      },
    });
    const c = connection({ url: g.url });
    c.start();
    await c.ready();
    const err = await rejection(c.request('sessions.send', { key: 'agent:x' }));
    expect(err).toMatchObject({
      code: 'NOT_FOUND',
      message: 'no session agent:x',
      method: 'sessions.send',
      retryable: false,
      details: { key: 'agent:x' },
    });
    const unknown = await rejection(c.request('no.such.method', {}));
    expect(unknown.code).toBe('INVALID_REQUEST');
  });

  it('hands on every event frame after the handshake; frames every listener skips are never parsed', async () => {
    const g = await gateway({
      onLive: (conn) => {
        conn.sendRaw('{"type":"event","event":"tick","payload":{"ts":1},"seq":1}');
        conn.sendRaw('{"type":"event","event":"tick" BROKEN');
        conn.send({ type: 'event', event: 'chat', payload: { state: 'final' }, seq: 2 });
      },
    });
    const c = connection({ url: g.url });
    const skipping: string[] = [];
    const off = c.onEvent((f) => skipping.push(f.event), { skip: (t) => t.includes('"tick"') });
    c.start();
    await c.ready();
    // sessions.subscribe makes the fake send its frames
    await c.request('sessions.subscribe', {});
    await waitFor(() => expect(skipping).toEqual(['chat']));
    // both ticks were skipped unparsed: the broken one is not even counted as malformed
    expect(c.stats()).toMatchObject({ frames: 6, malformed: 0 });

    const all: string[] = [];
    c.onEvent((f) => all.push(f.event));
    await c.request('sessions.subscribe', {});
    await waitFor(() => expect(all).toEqual(['tick', 'chat']));
    expect(skipping).toEqual(['chat', 'chat']);
    expect(c.stats().malformed).toBe(1);
    off();
  });
});

describe('gateway connection: connection loss', () => {
  it('a request made while down waits, and is sent once a reconnect is live', async () => {
    const { port, url } = await freePort();
    const clock = new ManualClock(10_000);
    const c = connection({ url, clock, random: () => 0, backoff: { baseMs: 100, maxMs: 100 } });
    const states: string[] = [];
    c.onStateChange((s) => states.push(s.state));
    c.start();
    await waitFor(() => expect(c.status().detail).toMatch(/ECONNREFUSED.*retry 1 in 50ms/));
    expect(c.status()).toMatchObject({ state: 'down', reconnects: 1 });
    expect(c.status().lastError).toBe(`connect ECONNREFUSED ${url}`);

    const answer = c.request('echo', { n: 1 }, { timeoutMs: 5000 });
    const g = await gateway({ methods: echo }, port);
    const lives: number[] = [];
    c.onLive((h) => lives.push(h.protocol));
    clock.advance(50);
    await expect(answer).resolves.toEqual({ params: { n: 1 } });
    expect(lives).toEqual([4]);
    expect(states).toEqual(['starting', 'down', 'live']);
    expect(g.conns[0]?.requests.map((r) => r.method)).toEqual(['connect', 'echo']);
  });

  it('a request still waiting for live when its timeout passes fails UNAVAILABLE with the reason', async () => {
    const { url } = await freePort();
    const clock = new ManualClock(10_000);
    const c = connection({ url, clock, random: () => 1, backoff: { baseMs: 60_000, maxMs: 60_000 } });
    c.start();
    await waitFor(() => expect(c.status().state).toBe('down'));
    const answer = rejection(c.request('echo', {}, { timeoutMs: 2000 }));
    clock.advance(1999);
    clock.advance(1);
    const err = await answer;
    expect(err).toMatchObject({ code: 'UNAVAILABLE', retryable: true, method: 'echo' });
    expect(err.message).toMatch(/not live within 2000ms \(connect ECONNREFUSED/);
  });

  it('a sent request fails UNAVAILABLE when the socket drops, or when no reply comes in time', async () => {
    const clock = new ManualClock(10_000);
    const g = await gateway({
      methods: {
        restart: (_p, conn) => conn.ws.close(1012, 'service restart'),
        silent: () => {},
      },
    });
    const c = connection({ url: g.url, clock, random: () => 0, backoff: { baseMs: 100, maxMs: 100 } });
    c.start();
    await c.ready();
    const silent = rejection(c.request('silent', {}, { timeoutMs: 1000 }));
    clock.advance(1000);
    expect(await silent).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect((await silent).message).toBe('silent: no reply from the gateway within 1000ms');

    const dropped = await rejection(c.request('restart', {}));
    expect(dropped).toMatchObject({ code: 'UNAVAILABLE', retryable: true, method: 'restart' });
    expect(dropped.message).toMatch(
      /connection lost before the reply \(connection closed \(1012 service restart\)\)/,
    );
    expect(c.status()).toMatchObject({ state: 'down', reconnects: 1 });
    clock.advance(50);
    await c.ready();
    expect(g.conns).toHaveLength(2);
  });

  it('stop rejects what waits and closes the socket', async () => {
    const g = await gateway({ methods: { silent: () => {} } });
    const c = connection({ url: g.url });
    c.start();
    await c.ready();
    const pending = rejection(c.request('silent', {}));
    await c.stop();
    expect(await pending).toMatchObject({
      code: 'UNAVAILABLE',
      message: 'the gateway connection was stopped',
    });
    expect(await g.conns[0]?.closed).toBe(1000);
    expect(c.status().state).toBe('stopped');
    await expect(c.ready()).rejects.toThrow('the gateway connection was stopped');
  });
});

/** a logger keeping what it logged at info and above, as [level, message] */
function logLines(): { logger: ReturnType<typeof createLogger>; lines: Array<[number, string]> } {
  const lines: Array<[number, string]> = [];
  const logger = createLogger('info', {
    write(line: string) {
      const r = JSON.parse(line) as { level: number; msg: string; why?: string };
      lines.push([r.level, r.why ? `${r.msg} (${r.why})` : r.msg]);
    },
  });
  return { logger, lines };
}

describe('gateway connection: logging a gateway that is not there', () => {
  it('no gateway: said once with what goes on meanwhile, then quiet until it connects', async () => {
    const { port, url } = await freePort();
    const clock = new ManualClock(10_000);
    const { logger, lines } = logLines();
    const c = connection({
      url,
      clock,
      logger,
      random: () => 0,
      backoff: { baseMs: 100, maxMs: 100 },
      whileDown: 'following files and the SQLite store',
    });
    c.start();
    for (let i = 1; i <= 5; i++) {
      await waitFor(() => expect(c.status().reconnects).toBe(i));
      if (i < 5) clock.advance(50);
    }
    expect(lines).toEqual([
      [40, `no gateway at ${url}; following files and the SQLite store; will connect when it starts`],
    ]);
    await gateway({}, port);
    clock.advance(50);
    await c.ready();
    expect(lines.at(-1)).toEqual([30, `gateway connected at ${url}`]);
  });

  it('a rejected token: logged once per change, retried every 5 min, not every few seconds', async () => {
    const g = await gateway({ token: 'right-token' });
    const clock = new ManualClock(10_000);
    const { logger, lines } = logLines();
    const c = connection({ url: g.url, token: 'wrong-token', clock, logger, random: () => 0 });
    c.start();
    await waitFor(() => expect(c.status().reconnects).toBe(1));
    expect(c.status().detail).toMatch(/gateway rejected the token.*retry 1 in 300000ms/);
    clock.advance(299_999);
    expect(g.conns).toHaveLength(1);
    clock.advance(1);
    await waitFor(() => expect(c.status().reconnects).toBe(2));
    expect(g.conns).toHaveLength(2);
    const errors = lines.filter(([level]) => level >= 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.[1]).toMatch(
      /^gateway rejected the token from OPENCLAW_GATEWAY_TOKEN .*: set OPENCLAW_GATEWAY_TOKEN \(or gateway.auth.token in openclaw.json\); trying again every 300 s$/,
    );
    expect(lines.map(([, m]) => m).join('\n')).not.toContain('wrong-token');
  });
});

describe('gateway connection: one-shot use', () => {
  it('reconnect:false: a rejected token fails at once with the human message, and nothing retries', async () => {
    const g = await gateway({ token: 'right-token' });
    const clock = new ManualClock(1000);
    const c = connection({ url: g.url, token: 'wrong-token', clock, reconnect: false });
    c.start();
    const err = await rejection(c.ready());
    expect(err.code).toBe('UNAUTHORIZED');
    expect(err.message).toContain('gateway rejected the token from OPENCLAW_GATEWAY_TOKEN');
    expect(err.message).not.toContain('wrong-token');
    expect(c.status()).toMatchObject({ state: 'down', detail: err.message, lastError: err.message });
    expect(clock.pending()).toBe(0); // no reconnect timer
    const later = await rejection(c.request('echo', {}));
    expect(later).toMatchObject({ method: 'echo', message: err.message });
    expect(g.conns).toHaveLength(1);
  });

  it('reconnect:false waits out a retryable refusal (a gateway still starting), within ready()', async () => {
    const g = await gateway({
      methods: echo,
      connectError: (n) =>
        n <= 2
          ? {
              code: 'UNAVAILABLE',
              message: 'gateway starting',
              retryable: true,
              retryAfterMs: 500,
              details: { reason: 'startup-sidecars' },
            }
          : undefined,
    });
    const clock = new ManualClock(1000);
    const c = connection({ url: g.url, clock, reconnect: false });
    c.start();
    const live = c.ready(30_000);
    // each refusal schedules the next try after retryAfterMs on the clock
    for (let i = 0; i < 2; i++) {
      await vi.waitFor(() => expect(clock.pending()).toBeGreaterThan(0));
      await vi.waitFor(() => expect(g.conns).toHaveLength(i + 1));
      await vi.waitFor(() => expect(c.status().detail).toContain('retry in 500ms'));
      clock.advance(500);
    }
    await live;
    expect(g.conns).toHaveLength(3);
    expect(await c.request('echo', 'x')).toEqual({ params: 'x' });
    await c.stop();
  });

  it('withGateway runs fn on a live connection and always stops it', async () => {
    const g = await gateway({ methods: echo });
    let seen: GatewayConnection | undefined;
    const out = await withGateway({ url: g.url, logger: silentLogger }, async (c) => {
      seen = c;
      return c.request('echo', 'hi');
    });
    expect(out).toEqual({ params: 'hi' });
    expect(seen?.status().state).toBe('stopped');
    expect(await g.conns[0]?.closed).toBe(1000);

    await expect(
      withGateway({ url: g.url, logger: silentLogger }, async (c) => {
        seen = c;
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(seen?.status().state).toBe('stopped');
  });

  it('withGateway rejects with the connect failure', async () => {
    const g = await gateway({ token: 'right-token' });
    const fn = vi.fn(async () => 1);
    const err = await rejection(
      withGateway({ url: g.url, token: 'nope-token', logger: silentLogger, clock: new ManualClock(1) }, fn),
    );
    expect(err.message).toContain('rejected the token from OPENCLAW_GATEWAY_TOKEN');
    expect(fn).not.toHaveBeenCalled();
    expect(g.conns).toHaveLength(1);
  });
});

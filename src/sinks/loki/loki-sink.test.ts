import { afterEach, describe, expect, it } from 'vitest';
import {
  captureLogger,
  deadUrl,
  type Receiver,
  startReceiver,
  waitFor,
} from '../../../test/support/http-receiver.js';
import type { LifecycleEvent } from '../../dispatch/lifecycle.js';
import { ManualClock } from '../../infra/clock.js';
import { silentLogger } from '../../infra/logger.js';
import { VERSION } from '../../version.js';
import { createLokiSink, type LokiSinkOptions } from './loki-sink.js';
import type { LokiPushBody } from './push-format.js';

const T0 = 1_760_000_000_123;
let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup) await c();
  cleanup = [];
});

async function setup(over: Partial<LokiSinkOptions> = {}, rx?: Receiver) {
  const clock = new ManualClock(T0);
  const receiver = rx ?? (await startReceiver());
  const sink = createLokiSink({
    url: receiver.url,
    clock,
    logger: silentLogger,
    ...over,
    queue: { random: () => 0, ...over.queue },
  });
  cleanup.push(async () => {
    const stopping = sink.stop();
    clock.advance(10_000); // past the stop deadline, whatever is still retrying
    await stopping;
    await receiver.close();
  });
  return { clock, receiver, sink };
}

function ev(over: Partial<LifecycleEvent> = {}): LifecycleEvent {
  return { event: 'dispatch.finished', ts: T0, label: 'nightly report', host: 'box-1', ...over };
}

const bodyOf = (r: Receiver, i: number) =>
  JSON.parse(r.requests[i]?.body.toString('utf8') ?? '') as LokiPushBody;
/** every log line Loki accepted, in arrival order */
const accepted = (r: Receiver) =>
  r.requests
    .map((q, i) => ({ q, i }))
    .filter(({ q }) => q.status === 204)
    .flatMap(({ i }) => bodyOf(r, i).streams.flatMap((s) => s.values.map((v) => JSON.parse(v[1]).label)));

describe('Loki sink: the push format', () => {
  it('posts streams/values JSON to /loki/api/v1/push: ns timestamps as digit strings, low-cardinality labels', async () => {
    const { receiver, sink } = await setup();
    const full = ev({
      sessionKey: 'agent:main:dispatch:abc',
      runId: 'run-1',
      agent: 'main',
      model: 'gpt-5',
      durationMs: 4200,
      tokens: { input: 10, output: 20, cacheRead: 3, cacheWrite: 1, reasoning: 5, total: 39 },
      costUsd: 0.0123,
    });
    sink.emit(ev({ event: 'dispatch.started', label: 'one', agent: 'main' }));
    sink.emit(full);
    sink.emit(ev({ event: 'dispatch.failed', ts: T0 + 1, label: 'two', error: 'boom' })); // no agent
    await waitFor(() => sink.stats().sent === 3, 'push');
    const req = receiver.requests[0];
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/loki/api/v1/push');
    expect(req?.headers['content-type']).toBe('application/json');
    expect(req?.headers['user-agent']).toBe(`clawpulse/${VERSION}`);
    expect(req?.headers['x-scope-orgid']).toBeUndefined();
    expect(req?.headers.authorization).toBeUndefined();

    const body = bodyOf(receiver, 0);
    expect(body.streams.map((s) => s.stream)).toEqual([
      { job: 'clawpulse', event: 'dispatch.started', host: 'box-1', agent: 'main' },
      { job: 'clawpulse', event: 'dispatch.finished', host: 'box-1', agent: 'main' },
      { job: 'clawpulse', event: 'dispatch.failed', host: 'box-1' },
    ]);
    for (const s of body.streams) for (const [ts] of s.values) expect(ts).toMatch(/^\d{19}$/);
    expect(body.streams[0]?.values[0]?.[0]).toBe('1760000000123000000');
    expect(body.streams[2]?.values[0]?.[0]).toBe('1760000000124000000');
    // the line is the whole event, the high-cardinality fields included
    expect(JSON.parse(body.streams[1]?.values[0]?.[1] ?? '')).toEqual(full);
    expect(sink.stats()).toMatchObject({ sent: 3, failed: 0, queued: 0 });
  });

  it('events of one label set share a stream, in emit order', async () => {
    const { receiver, sink } = await setup();
    sink.emit(ev({ label: 'a', ts: T0 }));
    sink.emit(ev({ label: 'b', ts: T0 + 5 }));
    await waitFor(() => receiver.requests.length === 1, 'push');
    const body = bodyOf(receiver, 0);
    expect(body.streams).toHaveLength(1);
    expect(body.streams[0]?.values.map((v) => JSON.parse(v[1]).label)).toEqual(['a', 'b']);
  });

  it('sends X-Scope-OrgID and Basic auth; the password is never logged nor in health', async () => {
    const { logger, lines } = captureLogger();
    const { receiver, sink, clock } = await setup({
      tenantId: 'team-a',
      username: 'loki-user',
      password: 's3cret-pw',
      logger,
    });
    receiver.replyNext({ status: 500, body: 'ingester down' });
    sink.emit(ev());
    await waitFor(
      () => receiver.requests.length === 1 && sink.stats().nextAttemptAt !== undefined,
      'failure',
    );
    clock.advance(250);
    await waitFor(() => receiver.requests[1]?.status === 204, 'retry');
    for (const r of receiver.requests) {
      expect(r.headers['x-scope-orgid']).toBe('team-a');
      expect(r.headers.authorization).toBe(`Basic ${Buffer.from('loki-user:s3cret-pw').toString('base64')}`);
    }
    expect(lines.join('\n')).toContain('ingester down');
    expect(lines.join('\n')).not.toContain('s3cret-pw');
    expect(JSON.stringify(sink.health())).not.toContain('s3cret-pw');
  });

  it('takes Basic auth from the URL userinfo and keeps it out of health', async () => {
    const rx = await startReceiver();
    const withCreds = rx.url.replace('http://', 'http://u%40x:p%3Aw@');
    const { receiver, sink } = await setup({ url: withCreds }, rx);
    sink.emit(ev());
    await waitFor(() => receiver.requests.length === 1, 'push');
    expect(receiver.requests[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from('u@x:p:w').toString('base64')}`,
    );
    expect(sink.health().detail?.url).toBe(`${rx.url}/loki/api/v1/push`);
  });
});

describe('Loki sink: failures', () => {
  it('a 500 is retried with backoff: each event arrives once, in order, retries counted', async () => {
    const { receiver, sink, clock } = await setup();
    receiver.replyNext({ status: 500 }, { status: 502 }, { status: 503 });
    sink.emit(ev({ label: 'e1' }));
    sink.emit(ev({ label: 'e2' }));
    for (const [n, backoff] of [
      [1, 250],
      [2, 500],
      [3, 1000],
    ] as const) {
      await waitFor(
        () => receiver.requests.length === n && sink.stats().nextAttemptAt !== undefined,
        `fail ${n}`,
      );
      expect((sink.stats().nextAttemptAt ?? 0) - clock.now()).toBe(backoff);
      if (n === 2) sink.emit(ev({ label: 'e3' })); // waits behind the batch being retried
      clock.advance(backoff);
    }
    await waitFor(() => sink.stats().sent === 3, 'delivery');
    expect(accepted(receiver)).toEqual(['e1', 'e2', 'e3']);
    expect(sink.stats()).toMatchObject({ sent: 3, retries: 3, requests: 5, requestFailures: 3, failed: 0 });
    expect(sink.health()).toMatchObject({
      id: 'loki',
      kind: 'loki',
      breaker: 'closed',
      requests: 5,
      failures: 3,
    });
  });

  it('a 400 is permanent: the batch is dropped, counted, logged with the answer; the next goes on', async () => {
    const { logger, lines } = captureLogger();
    const { receiver, sink } = await setup({ logger });
    receiver.replyNext({ status: 400, body: 'entry for stream has timestamp too old' });
    sink.emit(ev({ label: 'old' }));
    await waitFor(() => sink.stats().failed === 1, 'refusal');
    sink.emit(ev({ label: 'new' }));
    await waitFor(() => sink.stats().sent === 1, 'next event');
    expect(accepted(receiver)).toEqual(['new']);
    expect(receiver.requests).toHaveLength(2);
    expect(sink.stats()).toMatchObject({ failed: 1, sent: 1, retries: 0, breaker: 'closed' });
    expect(sink.health().lastError).toContain('400');
    expect(lines.some((l) => l.includes('timestamp too old') && l.includes('"status":400'))).toBe(true);
  });

  it('a 429 waits exactly Retry-After and does not count against the server', async () => {
    const { receiver, sink, clock } = await setup({ queue: { breakerThreshold: 1 } });
    receiver.replyNext({ status: 429, headers: { 'retry-after': '7' }, body: 'ingestion rate limit' });
    sink.emit(ev());
    await waitFor(() => sink.stats().nextAttemptAt !== undefined, '429');
    expect((sink.stats().nextAttemptAt ?? 0) - clock.now()).toBe(7000);
    clock.advance(6999);
    await new Promise((r) => setTimeout(r, 30)); // a request, had one been started, would land
    expect(receiver.requests).toHaveLength(1);
    clock.advance(1);
    await waitFor(() => sink.stats().sent === 1, 'retry after Retry-After');
    expect(receiver.requests[1]?.status).toBe(204);
    expect(sink.stats()).toMatchObject({ sent: 1, retries: 1, breaker: 'closed' });
  });

  it('a request with no answer times out on the clock (10 s) and is retried', async () => {
    const { receiver, sink, clock } = await setup();
    receiver.replyNext('hang');
    sink.emit(ev());
    await waitFor(() => receiver.requests.length === 1, 'request');
    expect(sink.stats().nextAttemptAt).toBeUndefined();
    clock.advance(10_000);
    await waitFor(() => sink.stats().nextAttemptAt !== undefined, 'timeout');
    expect(sink.stats().lastError).toContain('no answer within 10000 ms');
    clock.advance(250);
    await waitFor(() => sink.stats().sent === 1, 'retry');
    expect(receiver.requests).toHaveLength(2);
    expect(sink.stats()).toMatchObject({ sent: 1, requestFailures: 1 });
  });

  it('a dead server opens the breaker; the queue stays bounded and nothing throws', async () => {
    const url = await deadUrl();
    const rx = await startReceiver(); // only for cleanup symmetry
    const { sink, clock } = await setup(
      { url, queue: { breakerThreshold: 3, breakerCooldownMs: 30_000, maxQueue: 50 } },
      rx,
    );
    sink.emit(ev({ label: 'first' }));
    for (let i = 1; i <= 3; i++) {
      await waitFor(
        () => sink.stats().requestFailures === i && sink.stats().nextAttemptAt !== undefined,
        `f${i}`,
      );
      clock.advance((sink.stats().nextAttemptAt ?? 0) - clock.now());
    }
    await waitFor(() => sink.stats().breaker === 'open', 'breaker open');
    expect(sink.health().breaker).toBe('open');
    expect(sink.stats().lastError).toMatch(/ECONNREFUSED/);
    expect(() => {
      for (let i = 0; i < 200; i++) sink.emit(ev({ label: `e${i}` }));
    }).not.toThrow();
    expect(sink.stats()).toMatchObject({ queued: 51, dropped: 150 }); // 50 waiting + 1 in flight
    // while open, no connection is even tried
    const before = sink.stats().requests;
    clock.advance(10_000);
    await new Promise((r) => setTimeout(r, 30));
    expect(sink.stats().requests).toBe(before);
  });
});

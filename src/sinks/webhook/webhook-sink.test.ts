import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { captureLogger, startReceiver, waitFor } from '../../../test/support/http-receiver.js';
import type { LifecycleEvent } from '../../dispatch/lifecycle.js';
import { ManualClock } from '../../infra/clock.js';
import { silentLogger } from '../../infra/logger.js';
import { VERSION } from '../../version.js';
import { createWebhookSink, type WebhookSinkOptions } from './webhook-sink.js';

const T0 = 1_760_000_000_000;
const SECRET = 'whsec-test-7f3a';
let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup) await c();
  cleanup = [];
});

async function setup(over: Partial<Omit<WebhookSinkOptions, 'url'>> = {}) {
  const clock = new ManualClock(T0);
  const receiver = await startReceiver();
  const sink = createWebhookSink({
    url: `${receiver.url}/hooks/clawpulse`,
    clock,
    logger: silentLogger,
    ...over,
    queue: { random: () => 0, ...over.queue },
  });
  cleanup.push(async () => {
    const stopping = sink.stop();
    clock.advance(10_000);
    await stopping;
    await receiver.close();
  });
  return { clock, receiver, sink };
}

function ev(over: Partial<LifecycleEvent> = {}): LifecycleEvent {
  return { event: 'dispatch.started', ts: T0, label: 'triage inbox', host: 'box-1', runId: 'run-9', ...over };
}

/**
 * What a receiver does, written from the documented scheme only (not from the sink's code):
 * HMAC-SHA256 with the shared secret over "<X-Clawpulse-Timestamp>.<raw body bytes>", hex,
 * prefixed "sha256=", compared in constant time; timestamps older than 5 minutes are refused.
 */
function verify(headers: IncomingHttpHeaders, rawBody: Buffer, secret: string, nowMs: number): boolean {
  const ts = headers['x-clawpulse-timestamp'];
  const sig = headers['x-clawpulse-signature'];
  if (typeof ts !== 'string' || typeof sig !== 'string' || !/^\d+$/.test(ts)) return false;
  if (Math.abs(nowMs - Number(ts)) > 5 * 60_000) return false;
  const expected = `sha256=${createHmac('sha256', secret)
    .update(Buffer.concat([Buffer.from(`${ts}.`), rawBody]))
    .digest('hex')}`;
  const a = Buffer.from(sig);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

describe('webhook sink', () => {
  it('posts one event per request, the body being the event JSON, with a verifiable signature', async () => {
    const { receiver, sink } = await setup({ secret: SECRET });
    const e1 = ev({ label: 'é unicode ✓' });
    const e2 = ev({ event: 'dispatch.finished', durationMs: 1200, costUsd: 0.5 });
    sink.emit(e1);
    sink.emit(e2);
    await waitFor(() => sink.stats().sent === 2, 'two posts');
    const [r1, r2] = receiver.requests;
    expect(r1?.method).toBe('POST');
    expect(r1?.url).toBe('/hooks/clawpulse');
    expect(JSON.parse(r1?.body.toString('utf8') ?? '')).toEqual(e1);
    expect(JSON.parse(r2?.body.toString('utf8') ?? '')).toEqual(e2);
    expect(r1?.headers['content-type']).toBe('application/json');
    expect(r1?.headers['user-agent']).toBe(`clawpulse/${VERSION}`);
    expect(r2?.headers['x-clawpulse-event']).toBe('dispatch.finished');
    expect(r1?.headers['x-clawpulse-timestamp']).toBe(String(T0));
    expect(r1?.headers['x-clawpulse-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    for (const r of [r1, r2]) expect(r && verify(r.headers, r.body, SECRET, T0)).toBe(true);
    expect(sink.stats()).toMatchObject({ sent: 2, requests: 2 });
  });

  it('the receiver example refuses a changed body, another secret and a stale timestamp', async () => {
    const { receiver, sink } = await setup({ secret: SECRET });
    sink.emit(ev());
    await waitFor(() => receiver.requests.length === 1, 'post');
    const r = receiver.requests[0];
    if (!r) throw new Error('no request');
    const tampered = Buffer.from(r.body.toString('utf8').replace('triage', 'TRIAGE'));
    expect(verify(r.headers, tampered, SECRET, T0)).toBe(false);
    expect(verify(r.headers, r.body, 'other-secret', T0)).toBe(false);
    expect(verify(r.headers, r.body, SECRET, T0 + 6 * 60_000)).toBe(false);
  });

  it('without a secret no signature headers are sent', async () => {
    const { receiver, sink } = await setup();
    sink.emit(ev());
    await waitFor(() => receiver.requests.length === 1, 'post');
    expect(receiver.requests[0]?.headers['x-clawpulse-signature']).toBeUndefined();
    expect(receiver.requests[0]?.headers['x-clawpulse-timestamp']).toBeUndefined();
    expect(sink.health().detail).toMatchObject({ signed: false });
  });

  it('retries a 500 with the same delivery id, signed afresh, and keeps later events behind it', async () => {
    const { receiver, sink, clock } = await setup({ secret: SECRET });
    receiver.replyNext({ status: 500 }, { status: 500 });
    sink.emit(ev({ label: 'a' }));
    sink.emit(ev({ label: 'b' }));
    await waitFor(() => receiver.requests.length === 1 && sink.stats().nextAttemptAt !== undefined, 'fail 1');
    clock.advance(250);
    await waitFor(() => receiver.requests.length === 2 && sink.stats().nextAttemptAt !== undefined, 'fail 2');
    clock.advance(500);
    await waitFor(() => sink.stats().sent === 2, 'delivered');
    const labels = receiver.requests.map((r) => JSON.parse(r.body.toString('utf8')).label);
    expect(labels).toEqual(['a', 'a', 'a', 'b']);
    const ids = receiver.requests.map((r) => r.headers['x-clawpulse-delivery']);
    expect(new Set(ids.slice(0, 3)).size).toBe(1);
    expect(ids[3]).not.toBe(ids[0]);
    expect(receiver.requests[2]?.headers['x-clawpulse-timestamp']).toBe(String(T0 + 750));
    for (const r of receiver.requests) expect(verify(r.headers, r.body, SECRET, T0 + 750)).toBe(true);
    expect(sink.stats()).toMatchObject({ sent: 2, retries: 2, failed: 0 });
  });

  it('a 404 is dropped and counted; the secret is never logged', async () => {
    const { logger, lines } = captureLogger();
    const { receiver, sink } = await setup({ secret: SECRET, logger });
    receiver.replyNext({ status: 404, body: 'no such hook' });
    sink.emit(ev({ label: 'lost' }));
    sink.emit(ev({ label: 'kept' }));
    await waitFor(() => sink.stats().sent === 1, 'next event');
    expect(receiver.requests.map((r) => r.status)).toEqual([404, 204]);
    expect(sink.stats()).toMatchObject({ failed: 1, sent: 1, retries: 0 });
    expect(lines.join('\n')).toContain('no such hook');
    expect(lines.join('\n')).not.toContain(SECRET);
    expect(JSON.stringify(sink.health())).not.toContain(SECRET);
  });

  it('an event JSON cannot carry is counted as failed, and emit does not throw', async () => {
    const { sink } = await setup();
    const bad = { ...ev(), detail: 10n } as unknown as LifecycleEvent;
    expect(() => sink.emit(bad)).not.toThrow();
    expect(sink.stats().failed).toBe(1);
  });
});

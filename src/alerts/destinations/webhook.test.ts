import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { type Receiver, startReceiver, waitFor } from '../../../test/support/http-receiver.js';
import type { AlertDestination } from '../alert.js';
import {
  expectNoSecrets,
  firing,
  type Harness,
  harness,
  NO_PACE,
  resolved,
  T0,
  TEST_QUEUE,
} from './test-kit.helper.js';
import { createWebhookDestination, WEBHOOK_MAX_MESSAGE } from './webhook.js';

const SECRET = 'alert-hmac-secret-9c1f2e7d';
const HOOK_PATH = '/hooks/catch/4242/tok3nInThePathAbcdef';
let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(
  secret: string | null = SECRET,
): Promise<{ h: Harness<AlertDestination>; rx: Receiver }> {
  const rx = await startReceiver();
  const h = harness((clock, logger) =>
    createWebhookDestination({
      url: `${rx.url}${HOOK_PATH}`,
      secret: secret ?? undefined,
      clock,
      logger,
      queue: TEST_QUEUE,
      pace: NO_PACE,
    }),
  );
  cleanup.push(rx.close, h.stop);
  return { h, rx };
}

/**
 * The receiver's check, written from the documented scheme only (src/sinks/webhook/signature.ts
 * doc comment), not from the signer: HMAC-SHA256(secret, "<timestamp>.<raw body>") in hex after
 * "sha256=", compared in constant time, timestamp within 5 minutes.
 */
function verify(headers: IncomingHttpHeaders, raw: Buffer, secret: string, nowMs: number): boolean {
  const ts = headers['x-clawpulse-timestamp'];
  const sig = headers['x-clawpulse-signature'];
  if (typeof ts !== 'string' || typeof sig !== 'string' || !/^\d+$/.test(ts)) return false;
  if (Math.abs(nowMs - Number(ts)) > 5 * 60_000) return false;
  const mac = createHmac('sha256', secret).update(Buffer.concat([Buffer.from(`${ts}.`, 'utf8'), raw]));
  const want = Buffer.from(`sha256=${mac.digest('hex')}`);
  const got = Buffer.from(sig);
  return want.length === got.length && timingSafeEqual(want, got);
}

describe('alert webhook', () => {
  it('posts the firing and the resolved alert as JSON, each signed so an independent check verifies it', async () => {
    const { h, rx } = await setup();
    const a = firing({ gateway: 'gw-eu', action: 'aborted the run' });
    await h.dest.send(a);
    await h.dest.send(resolved(a));
    await waitFor(() => rx.requests.length === 2 && h.dest.health().detail?.sent === 2, 'two posts');
    const [r1, r2] = rx.requests;
    if (!r1 || !r2) throw new Error('missing requests');
    expect(r1.url).toBe(HOOK_PATH);
    expect(r1.headers['content-type']).toBe('application/json');
    expect(JSON.parse(r1.body.toString('utf8'))).toEqual({
      id: a.id,
      key: a.key,
      rule: 'stuck',
      severity: 'critical',
      state: 'firing',
      sessionKey: 'agent:main:main',
      label: 'triage inbox',
      agentId: 'main',
      host: 'box-1',
      gateway: 'gw-eu',
      message: a.message,
      value: 720_000,
      threshold: 300_000,
      unit: 'ms',
      firedAt: T0,
      action: 'aborted the run',
    });
    const body2 = JSON.parse(r2.body.toString('utf8'));
    expect(body2).toMatchObject({ id: a.id, state: 'resolved', resolvedAt: T0 + 15 * 60_000 });
    expect(r1.headers['x-clawpulse-event']).toBe('alert.firing');
    expect(r2.headers['x-clawpulse-event']).toBe('alert.resolved');
    expect(r1.headers['x-clawpulse-delivery']).toBe(`${a.id}:firing`);
    for (const r of [r1, r2]) expect(verify(r.headers, r.body, SECRET, T0)).toBe(true);
    // the check is not a rubber stamp: another secret, a changed body fail
    expect(verify(r1.headers, r1.body, 'another-secret', T0)).toBe(false);
    expect(verify(r1.headers, Buffer.from(r1.body.toString().replace('stuck', 'STUCK')), SECRET, T0)).toBe(
      false,
    );
    expect(h.dest.health()).toMatchObject({
      id: 'alert-webhook',
      kind: 'webhook',
      detail: { state: 'ok', signed: true },
    });
  });

  it('waits out a 429 for exactly its Retry-After on the clock, then delivers; the retry is signed afresh', async () => {
    const { h, rx } = await setup();
    rx.replyNext({ status: 429, headers: { 'retry-after': '7' }, body: 'slow down' });
    await h.dest.send(firing());
    await waitFor(() => h.dest.health().detail?.nextAttemptAt !== undefined, 'the retry scheduled');
    expect(h.dest.health().detail?.nextAttemptAt).toBe(T0 + 7000);
    h.clock.advance(6999);
    await new Promise((r) => setTimeout(r, 30));
    expect(rx.requests).toHaveLength(1);
    h.clock.advance(1);
    await waitFor(() => h.dest.health().detail?.sent === 1, 'delivered after the wait');
    expect(rx.requests.map((r) => r.status)).toEqual([429, 204]);
    expect(rx.requests[1]?.headers['x-clawpulse-timestamp']).toBe(String(T0 + 7000));
    expect(
      verify(rx.requests[1]?.headers ?? {}, rx.requests[1]?.body ?? Buffer.alloc(0), SECRET, T0 + 7000),
    ).toBe(true);
    expect(h.dest.health().detail).toMatchObject({ retries: 1, failed: 0 });
  });

  it('a receiver refusing us (401) is a clear error, opens the breaker after two, and leaks no secret', async () => {
    const { h, rx } = await setup();
    rx.replyNext(
      { status: 401, body: `bad signature for ${HOOK_PATH}` },
      { status: 401, body: 'bad signature' },
      { status: 401, body: 'bad signature' },
    );
    await h.dest.send(firing({ id: 'a1' }));
    await h.dest.send(firing({ id: 'a2' }));
    await h.dest.send(firing({ id: 'a3' }));
    await waitFor(() => h.dest.health().breaker === 'open', 'breaker open');
    await new Promise((r) => setTimeout(r, 30));
    // the third waits for the probe instead of hammering a receiver that refuses us
    expect(rx.requests).toHaveLength(2);
    const health = h.dest.health();
    expect(health).toMatchObject({ queued: 1, detail: { state: 'breaker-open', failed: 2, refused: 2 } });
    expect(health.lastError).toMatch(/answered 401: the receiver refused us \(check ALERT_WEBHOOK_SECRET/);
    // after the cooldown one probe goes; a refusal again drops it and re-opens
    h.clock.advance(30_000);
    await waitFor(() => rx.requests.length === 3 && h.dest.health().breaker === 'open', 'probe refused');
    expect(h.dest.health()).toMatchObject({ queued: 0, detail: { failed: 3 } });
    expectNoSecrets(h, [SECRET, HOOK_PATH.slice(1), 'tok3nInThePathAbcdef']);
    expect(h.lines.join('\n')).toContain('delivery refused');
  });

  it('clips a runaway message; without a secret sends no signature', async () => {
    const { h, rx } = await setup(null);
    await h.dest.send(firing({ message: 'x'.repeat(50_000) }));
    await waitFor(() => rx.requests.length === 1, 'post');
    const body = JSON.parse(rx.requests[0]?.body.toString('utf8') ?? '{}');
    expect(body.message).toHaveLength(WEBHOOK_MAX_MESSAGE);
    expect(body.message.endsWith('…')).toBe(true);
    expect(rx.requests[0]?.headers['x-clawpulse-signature']).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { ManualClock } from '../infra/clock.js';
import { silentLogger } from '../infra/logger.js';
import { backoffDelay, createDeliveryQueue, type DeliveryQueueOptions } from './delivery-queue.js';
import { DeliveryError } from './http-post.js';

/** lets the worker's promise callbacks run (the fake send does no I/O) */
const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

/** a send whose outcomes the test scripts: an Error to throw, 'hold' to keep it pending */
function fakeSend() {
  const batches: string[][] = [];
  const script: Array<Error | 'hold'> = [];
  let release: (() => void) | undefined;
  const send = (batch: readonly string[], signal: AbortSignal) => {
    batches.push([...batch]);
    const next = script.shift();
    if (next === 'hold')
      return new Promise<void>((resolve, reject) => {
        release = resolve;
        signal.addEventListener('abort', () => reject(new DeliveryError(0, 'aborted')));
      });
    return next ? Promise.reject(next) : Promise.resolve();
  };
  return { batches, script, send, release: () => release?.() };
}

function setup(over: Partial<DeliveryQueueOptions<string>> = {}) {
  const clock = new ManualClock(1_000_000);
  const f = fakeSend();
  const q = createDeliveryQueue<string>({
    name: 'test',
    clock,
    logger: silentLogger,
    send: f.send,
    random: () => 0,
    ...over,
  });
  return { clock, f, q };
}

const e503 = () => new DeliveryError(503, 'unavailable');

describe('backoffDelay', () => {
  it('doubles per try, half fixed and half jitter, capped', () => {
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, 500, 30_000, () => 0))).toEqual([250, 500, 1000, 2000]);
    expect(backoffDelay(1, 500, 30_000, () => 0.999999)).toBe(500);
    expect(backoffDelay(20, 500, 30_000, () => 0)).toBe(15_000);
  });
});

describe('delivery queue', () => {
  it('sends what waits as one batch, in order, and counts it', async () => {
    const { f, q } = setup();
    q.push('a');
    q.push('b');
    q.push('c');
    await flush();
    expect(f.batches).toEqual([['a', 'b', 'c']]);
    expect(q.stats()).toMatchObject({ sent: 3, queued: 0, requests: 1, failed: 0, breaker: 'closed' });
  });

  it('when full drops the oldest waiting item and counts it; the batch in flight is kept', async () => {
    const { f, q } = setup({ maxQueue: 3 });
    f.script.push('hold');
    q.push('a');
    await flush(); // 'a' is in flight
    for (const v of ['b', 'c', 'd', 'e']) q.push(v);
    expect(q.stats()).toMatchObject({ dropped: 1, queued: 4 });
    f.release();
    await flush();
    expect(f.batches).toEqual([['a'], ['c', 'd', 'e']]);
    expect(q.stats()).toMatchObject({ sent: 4, dropped: 1, queued: 0 });
  });

  it('retries a server failure after an exponential backoff on the clock, then delivers once', async () => {
    const { clock, f, q } = setup();
    f.script.push(e503(), e503());
    q.push('a');
    await flush();
    expect(f.batches.length).toBe(1);
    expect(q.stats().nextAttemptAt).toBe(clock.now() + 250);
    clock.advance(249);
    await flush();
    expect(f.batches.length).toBe(1);
    clock.advance(1);
    await flush();
    expect(f.batches.length).toBe(2);
    expect(q.stats().nextAttemptAt).toBe(clock.now() + 500);
    clock.advance(500);
    await flush();
    expect(f.batches).toEqual([['a'], ['a'], ['a']]);
    expect(q.stats()).toMatchObject({ sent: 1, retries: 2, requests: 3, requestFailures: 2, failed: 0 });
    expect(q.stats().lastError).toBe('unavailable');
  });

  it('a 503 with Retry-After waits the longer of it and the backoff; a 429 does not use up tries', async () => {
    const { clock, f, q } = setup({ maxAttempts: 2 });
    f.script.push(new DeliveryError(503, 'busy', '', 4000), new DeliveryError(429, 'slow down', '', 3000));
    q.push('a');
    await flush();
    expect(q.stats().nextAttemptAt).toBe(clock.now() + 4000);
    clock.advance(4000);
    await flush();
    // the 503 was try 1 of 2; the 429 is not a try, so a third request still happens
    expect(q.stats().nextAttemptAt).toBe(clock.now() + 3000);
    clock.advance(3000);
    await flush();
    expect(f.batches.length).toBe(3);
    expect(q.stats()).toMatchObject({ sent: 1, failed: 0, retries: 2, breaker: 'closed' });
  });

  it('gives a batch up after maxAttempts tries and goes on with the next', async () => {
    const { clock, f, q } = setup({ maxAttempts: 2, breakerThreshold: 100 });
    f.script.push(e503(), e503());
    q.push('a');
    await flush();
    q.push('b');
    clock.advance(250);
    await flush();
    expect(f.batches).toEqual([['a'], ['a'], ['b']]);
    expect(q.stats()).toMatchObject({ failed: 1, sent: 1, retries: 1 });
  });

  it('an error that is not an HTTP outcome is permanent: no retry, counted, the worker goes on', async () => {
    const { f, q } = setup();
    f.script.push(new TypeError('bug'));
    q.push('a');
    q.push('b');
    await flush();
    q.push('c');
    await flush();
    expect(f.batches).toEqual([['a', 'b'], ['c']]);
    expect(q.stats()).toMatchObject({ failed: 2, sent: 1, retries: 0 });
  });

  it('opens the breaker after the threshold and waits for the cooldown without using up tries', async () => {
    const { clock, f, q } = setup({ breakerThreshold: 2, breakerCooldownMs: 30_000, maxAttempts: 3 });
    f.script.push(e503(), e503(), e503());
    q.push('a');
    await flush();
    clock.advance(250);
    await flush();
    expect(q.stats().breaker).toBe('open');
    expect(f.batches.length).toBe(2);
    const openedAt = clock.now();
    // the backoff (500 ms) ends while the breaker is open: the worker waits for the probe time
    clock.advance(500);
    await flush();
    expect(f.batches.length).toBe(2);
    expect(q.stats().nextAttemptAt).toBe(openedAt + 30_000);
    clock.advance(openedAt + 29_999 - clock.now());
    await flush();
    expect(f.batches.length).toBe(2);
    clock.advance(1);
    await flush();
    // the probe is the third try; it fails, so the breaker opens again and the batch is given up
    expect(f.batches.length).toBe(3);
    expect(q.stats()).toMatchObject({ breaker: 'open', failed: 1 });
  });

  it('stop() delivers what is queued, then drops later pushes', async () => {
    const { f, q } = setup();
    q.push('a');
    const stopped = q.stop();
    await stopped;
    q.push('late');
    expect(f.batches).toEqual([['a']]);
    expect(q.stats()).toMatchObject({ sent: 1, dropped: 1 });
  });

  it('stop() gives up at its deadline: aborts the request, counts the unsent as dropped', async () => {
    const { clock, f, q } = setup();
    f.script.push('hold');
    q.push('a');
    await flush();
    q.push('b');
    let done = false;
    const stopped = q.stop(2000).then(() => {
      done = true;
    });
    await flush();
    expect(done).toBe(false);
    clock.advance(2000);
    await stopped;
    expect(q.stats()).toMatchObject({ dropped: 2, sent: 0, queued: 0 });
    expect(f.batches).toEqual([['a']]);
  });

  it('push never throws, even after stop', async () => {
    const { q } = setup({ maxQueue: 1 });
    await q.stop();
    expect(() => q.push('x')).not.toThrow();
  });
});

import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';
import { createThrottle } from './throttle.js';

/** lets queued promise callbacks run (sends here resolve without I/O) */
const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

function setup(intervalMs = 500, fail?: (v: string) => unknown) {
  const clock = new ManualClock(1000);
  const sent: Array<{ at: number; v: string }> = [];
  const t = createThrottle<string>({
    clock,
    intervalMs,
    send: async (v) => {
      const err = fail?.(v);
      if (err) throw err;
      sent.push({ at: clock.now(), v });
    },
    retryDelayMs: (err) =>
      (err as { retryAfterMs?: number }).retryAfterMs === -1
        ? undefined
        : ((err as { retryAfterMs?: number }).retryAfterMs ?? intervalMs),
  });
  return { clock, sent, t };
}

describe('coalescing throttle', () => {
  it('sends the first value on the leading edge, then only the newest per interval', async () => {
    const { clock, sent, t } = setup();
    t.push('a');
    await settle();
    expect(sent).toEqual([{ at: 1000, v: 'a' }]);
    for (const v of ['b', 'c', 'd']) {
      clock.advance(100);
      t.push(v);
    }
    await settle();
    expect(sent.length).toBe(1);
    clock.advance(199); // t=1499
    await settle();
    expect(sent.length).toBe(1);
    clock.advance(1); // t=1500: trailing edge
    await settle();
    expect(sent).toEqual([
      { at: 1000, v: 'a' },
      { at: 1500, v: 'd' },
    ]);
    expect(t.stats().coalesced).toBe(2);
    expect(t.busy()).toBe(false);
  });

  it('skips a value identical to what the server has, and drops an obsolete pending one', async () => {
    const { clock, sent, t } = setup();
    t.push('a');
    await settle();
    t.push('a');
    t.push('b');
    t.push('a'); // back to what the server shows: nothing to send
    clock.advance(1000);
    await settle();
    expect(sent.map((s) => s.v)).toEqual(['a']);
    expect(t.stats().skipped).toBe(2);
  });

  it('flush sends the final state at once, ignoring the interval', async () => {
    const { clock, sent, t } = setup(10_000);
    t.push('a');
    await settle();
    clock.advance(10);
    t.push('final');
    await t.flush();
    expect(sent.map((s) => s.v)).toEqual(['a', 'final']);
    expect(sent[1]?.at).toBe(1010);
  });

  it('retries a failed value after the delay the error asks for, unless a newer one came', async () => {
    let failures = 1;
    const { clock, sent, t } = setup(500, () =>
      failures-- > 0 ? Object.assign(new Error('429'), { retryAfterMs: 2000 }) : undefined,
    );
    t.push('a');
    await settle();
    expect(sent).toEqual([]);
    clock.advance(1999);
    await settle();
    expect(sent).toEqual([]);
    clock.advance(1);
    await settle();
    expect(sent).toEqual([{ at: 3000, v: 'a' }]);
  });

  it('drops a value whose error is permanent', async () => {
    const { clock, sent, t } = setup(500, (v) =>
      v === 'bad' ? Object.assign(new Error('400'), { retryAfterMs: -1 }) : undefined,
    );
    t.push('bad');
    await settle();
    clock.advance(5000);
    await settle();
    expect(sent).toEqual([]);
    expect(t.busy()).toBe(false);
    t.push('good');
    await settle();
    expect(sent.map((s) => s.v)).toEqual(['good']);
  });

  it('never overlaps sends: a value pushed during a slow send waits for it', async () => {
    const clock = new ManualClock(0);
    let release!: () => void;
    const order: string[] = [];
    const t = createThrottle<string>({
      clock,
      intervalMs: 0,
      send: async (v) => {
        order.push(`start ${v}`);
        if (v === 'a') await new Promise<void>((r) => (release = r));
        order.push(`end ${v}`);
      },
    });
    t.push('a');
    t.push('b');
    await settle();
    expect(order).toEqual(['start a']);
    release();
    await settle();
    expect(order).toEqual(['start a', 'end a', 'start b', 'end b']);
  });

  it('dispose stops a flush that waits on a retry delay', async () => {
    const { t } = setup(500, () => Object.assign(new Error('429'), { retryAfterMs: 60_000 }));
    t.push('a');
    await settle();
    const f = t.flush();
    await settle();
    t.dispose();
    await expect(f).resolves.toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../infra/clock.js';
import { createRateLimiter } from './rate-limit.js';

const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('server-wide rate limiter', () => {
  it('lets a burst through, then one per 1/perSec, in FIFO order', async () => {
    const clock = new ManualClock(0);
    const rl = createRateLimiter({ clock, perSec: 4, burst: 2 });
    const got: Array<[number, number]> = [];
    for (let i = 0; i < 5; i++) void rl.acquire().then(() => got.push([i, clock.now()]));
    await settle();
    expect(got).toEqual([
      [0, 0],
      [1, 0],
    ]);
    clock.advance(249);
    await settle();
    expect(got).toHaveLength(2);
    clock.advance(1);
    await settle();
    expect(got[2]).toEqual([2, 250]);
    clock.advance(500);
    await settle();
    expect(got.map((g) => g[0])).toEqual([0, 1, 2, 3, 4]);
    expect(got[4]).toEqual([4, 750]);
    expect(rl.waiting()).toBe(0);
  });

  it('never lets more than burst + perSec through in any one-second window', async () => {
    const clock = new ManualClock(0);
    const rl = createRateLimiter({ clock, perSec: 8, burst: 1 });
    const times: number[] = [];
    for (let i = 0; i < 40; i++) void rl.acquire().then(() => times.push(clock.now()));
    for (let t = 0; t < 5000; t += 10) {
      clock.advance(10);
      await settle();
    }
    expect(times).toHaveLength(40);
    for (const t of times) expect(times.filter((x) => x >= t && x < t + 1000).length).toBeLessThanOrEqual(9);
  });

  it('setRate releases waiting requests at once when the burst grows (shutdown)', async () => {
    const clock = new ManualClock(0);
    const rl = createRateLimiter({ clock, perSec: 1, burst: 1 });
    let done = 0;
    for (let i = 0; i < 30; i++) void rl.acquire().then(() => done++);
    await settle();
    expect(done).toBe(1);
    rl.setRate(10, 90);
    await settle();
    expect(done).toBe(30);
  });
});

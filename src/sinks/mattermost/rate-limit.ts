/**
 * A server-wide request pace for all boxes together. Each box already sends at most one edit
 * per THROTTLE_MS, but 20 live boxes at 2/s would be 40 requests/s; Mattermost's own limiter
 * (when an admin turns it on) allows 10/s per IP. Requests wait here in FIFO order for a
 * token (rate `perSec`, bucket `burst`), so every box gets its turn, and a waiting box keeps
 * coalescing newer states meanwhile. Time comes from the injected Clock.
 */
import type { Clock } from '../../infra/clock.js';

export interface RateLimiter {
  acquire(): Promise<void>;
  /** changes the pace (e.g. at shutdown, to spend the server's burst allowance on final states) */
  setRate(perSec: number, burst: number): void;
  waiting(): number;
  dispose(): void;
}

export function createRateLimiter(opts: { clock: Clock; perSec: number; burst: number }): RateLimiter {
  const { clock } = opts;
  let { perSec, burst } = opts;
  let tokens = burst;
  let at = clock.now();
  const queue: Array<() => void> = [];
  let timer: unknown;
  let disposed = false;

  function refill(): void {
    const now = clock.now();
    tokens = Math.min(burst, tokens + ((now - at) * perSec) / 1000);
    at = now;
  }

  function drain(): void {
    if (disposed) return;
    refill();
    while (queue.length && tokens >= 1 - 1e-9) {
      tokens -= 1;
      (queue.shift() as () => void)();
    }
    if (queue.length && timer === undefined) {
      const wait = Math.max(1, Math.ceil(((1 - tokens) * 1000) / perSec));
      timer = clock.setTimeout(() => {
        timer = undefined;
        drain();
      }, wait);
    }
  }

  return {
    acquire() {
      return new Promise<void>((resolve) => {
        queue.push(resolve);
        drain();
      });
    },
    setRate(nextPerSec: number, nextBurst: number) {
      refill();
      tokens += Math.max(0, nextBurst - burst);
      perSec = nextPerSec;
      burst = nextBurst;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      drain();
    },
    waiting: () => queue.length,
    dispose() {
      disposed = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
    },
  };
}

/**
 * A coalescing throttle for "latest state wins" outputs (a chat post edited in place):
 * - leading edge: the first value after a quiet period goes out at once;
 * - then at most one send per `intervalMs`; values pushed meanwhile replace each other and
 *   only the newest is sent at the end of the interval (trailing edge);
 * - a value equal to what the server has (or is about to have) is skipped;
 * - sends never overlap, so edits reach the server in order;
 * - `flush()` delivers the pending value now, ignoring the interval: the final state
 *   (done, interrupted) always goes out.
 *
 * A failed send keeps its value pending (unless a newer one arrived) and retries after
 * `retryDelayMs(err)` (e.g. a 429's Retry-After or a breaker's cooldown); returning
 * undefined drops it (a permanent error). Time comes from the injected Clock.
 */
import type { Clock } from './clock.js';

export interface ThrottleOptions<T> {
  clock: Clock;
  intervalMs: number;
  send: (value: T) => Promise<void>;
  equals?: (a: T, b: T) => boolean;
  /** ms to wait before retrying a failed value, or undefined to drop it (default: intervalMs) */
  retryDelayMs?: (err: unknown) => number | undefined;
  onError?: (err: unknown, value: T) => void;
  /** after every send attempt, once the throttle's own state is updated (busy() is current) */
  onSettled?: () => void;
}

export interface ThrottleStats {
  pushed: number;
  sent: number;
  skipped: number;
  coalesced: number;
  failed: number;
}

export interface Throttle<T> {
  push(value: T): void;
  /** sends the pending value now (waiting only for an in-flight send or a retry wait); resolves when idle */
  flush(opts?: { maxAttempts?: number }): Promise<void>;
  /** true while a value waits or a send is in flight */
  busy(): boolean;
  /** the value the server last accepted */
  lastSent(): T | undefined;
  stats(): ThrottleStats;
  /** stops timers; pending values are dropped */
  dispose(): void;
}

export function createThrottle<T>(opts: ThrottleOptions<T>): Throttle<T> {
  const { clock, intervalMs, send } = opts;
  const equals = opts.equals ?? ((a: T, b: T) => a === b);
  const retryDelayMs = opts.retryDelayMs ?? (() => intervalMs);
  let pending: { value: T } | undefined;
  let inFlight: Promise<void> | undefined;
  let inFlightValue: { value: T } | undefined;
  let sent: { value: T } | undefined;
  let lastSentAt = Number.NEGATIVE_INFINITY;
  let notBefore = 0;
  let timer: unknown;
  let disposed = false;
  let wake: (() => void) | undefined;
  const stats: ThrottleStats = { pushed: 0, sent: 0, skipped: 0, coalesced: 0, failed: 0 };

  function clearTimer(): void {
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
  }

  function schedule(): void {
    if (disposed || !pending || inFlight || timer !== undefined) return;
    const due = Math.max(lastSentAt + intervalMs, notBefore);
    const wait = due - clock.now();
    if (wait <= 0) fire();
    else
      timer = clock.setTimeout(() => {
        timer = undefined;
        fire();
      }, wait);
  }

  function fire(): void {
    if (disposed || !pending || inFlight) return;
    const item = pending;
    pending = undefined;
    inFlightValue = item;
    lastSentAt = clock.now();
    const attemptAt = lastSentAt;
    inFlight = (async () => {
      try {
        await send(item.value);
        sent = item;
        stats.sent++;
        notBefore = 0;
      } catch (err) {
        stats.failed++;
        opts.onError?.(err, item.value);
        const delay = retryDelayMs(err);
        if (delay !== undefined) {
          if (!pending) pending = item;
          // relative to the attempt: an error's wait (breaker cooldown left) was measured then
          notBefore = attemptAt + delay;
        }
      } finally {
        inFlight = undefined;
        inFlightValue = undefined;
      }
      schedule();
      opts.onSettled?.();
    })();
  }

  /** what the server will hold once the in-flight send (if any) lands */
  function target(): { value: T } | undefined {
    return inFlightValue ?? sent;
  }

  return {
    push(value: T): void {
      if (disposed) return;
      stats.pushed++;
      const t = target();
      if (t && equals(t.value, value)) {
        // the newest wish is what the server has/gets: a waiting older value is obsolete
        if (pending) stats.coalesced++;
        pending = undefined;
        stats.skipped++;
        return;
      }
      if (pending) stats.coalesced++;
      pending = { value };
      schedule();
    },
    async flush(flushOpts?: { maxAttempts?: number }): Promise<void> {
      let attempts = flushOpts?.maxAttempts ?? 3;
      while (!disposed && (pending || inFlight)) {
        if (inFlight) {
          await inFlight;
          continue;
        }
        if (attempts-- <= 0) return;
        clearTimer();
        const wait = notBefore - clock.now();
        if (wait > 0) {
          // a retry wait (429, breaker) is honoured even when flushing; the caller bounds it
          await new Promise<void>((resolve) => {
            wake = resolve;
            timer = clock.setTimeout(() => {
              timer = undefined;
              resolve();
            }, wait);
          });
          wake = undefined;
          if (disposed) return;
        }
        notBefore = 0;
        lastSentAt = Number.NEGATIVE_INFINITY;
        fire();
      }
    },
    busy: () => Boolean(pending || inFlight),
    lastSent: () => sent?.value,
    stats: () => ({ ...stats }),
    dispose(): void {
      disposed = true;
      clearTimer();
      pending = undefined;
      wake?.();
    },
  };
}

/**
 * A generic circuit breaker, one per outside server. `threshold` consecutive failures open it;
 * while open every call fails fast with BreakerOpenError (no request reaches the server);
 * after `cooldownMs` exactly one call goes through as a probe (half-open): its success closes
 * the breaker, its failure opens it again for another cooldown.
 *
 * Not every error is the server's fault: the caller says which ones count (`isFailure`), so a
 * 400 for a too-long message or a 429 pacing signal never opens the circuit.
 */
import type { Clock } from './clock.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

export class BreakerOpenError extends Error {
  constructor(
    public readonly breaker: string,
    /** how long until a probe is allowed (0 while a probe is already in flight) */
    public readonly retryInMs: number,
  ) {
    super(`circuit breaker "${breaker}" is open; next probe in ${retryInMs} ms`);
    this.name = 'BreakerOpenError';
  }
}

export interface BreakerOptions {
  name: string;
  threshold: number;
  cooldownMs: number;
  clock: Clock;
  /** which errors count as the server failing (default: all) */
  isFailure?: (err: unknown) => boolean;
  /** told on every state change (logs, health) */
  onStateChange?: (state: BreakerState, prev: BreakerState) => void;
}

export interface BreakerStats {
  state: BreakerState;
  consecutiveFailures: number;
  /** times the breaker opened */
  opened: number;
  /** calls refused without reaching the server */
  rejected: number;
  openedAt?: number;
  lastError?: string;
}

export interface Breaker {
  exec<T>(fn: () => Promise<T>): Promise<T>;
  state(): BreakerState;
  /** ms until a probe may go (0 when closed or a probe may go now) */
  retryInMs(): number;
  stats(): BreakerStats;
}

export function createBreaker(opts: BreakerOptions): Breaker {
  const { clock, threshold, cooldownMs } = opts;
  const isFailure = opts.isFailure ?? (() => true);
  let state: BreakerState = 'closed';
  let failures = 0;
  let openedAt = 0;
  let probing = false;
  let opened = 0;
  let rejected = 0;
  let lastError: string | undefined;

  function setState(next: BreakerState): void {
    if (next === state) return;
    const prev = state;
    state = next;
    opts.onStateChange?.(next, prev);
  }

  function open(): void {
    openedAt = clock.now();
    opened++;
    setState('open');
  }

  function retryInMs(): number {
    if (state === 'closed') return 0;
    if (probing) return 0;
    return Math.max(0, openedAt + cooldownMs - clock.now());
  }

  return {
    async exec<T>(fn: () => Promise<T>): Promise<T> {
      let isProbe = false;
      if (state !== 'closed') {
        const wait = openedAt + cooldownMs - clock.now();
        if (probing || wait > 0) {
          rejected++;
          throw new BreakerOpenError(opts.name, probing ? 0 : wait);
        }
        isProbe = true;
        probing = true;
        setState('half-open');
      }
      try {
        const result = await fn();
        failures = 0;
        if (isProbe) probing = false;
        setState('closed');
        return result;
      } catch (err) {
        if (isProbe) probing = false;
        if (isFailure(err)) {
          failures++;
          lastError = err instanceof Error ? err.message : String(err);
          if (isProbe || failures >= threshold) open();
        } else if (isProbe) {
          // the server answered (e.g. a 400): it is up again
          failures = 0;
          setState('closed');
        }
        throw err;
      }
    },
    state: () => state,
    retryInMs,
    stats: () => ({
      state,
      consecutiveFailures: failures,
      opened,
      rejected,
      ...(state !== 'closed' ? { openedAt } : {}),
      ...(lastError ? { lastError } : {}),
    }),
  };
}

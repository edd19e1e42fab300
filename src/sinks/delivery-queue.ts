/**
 * A bounded delivery queue with one worker: `push()` returns at once and never throws; the
 * worker sends the oldest items in batches, one batch at a time, so they arrive in order and
 * each batch is tried until it is delivered or given up (head-of-line: a later batch never
 * overtakes one being retried).
 *
 * - Bounded: at most `maxQueue` items wait (plus the batch in flight). When full the oldest
 *   waiting one is dropped and counted: during an outage the newest events are the useful ones.
 * - Retries: no answer, 408 and 5xx are retried after an exponential backoff with jitter
 *   (injectable random), up to `maxAttempts` tries of a batch. A 429 waits for its
 *   Retry-After (at most 10 min; the server's pacing signal: it neither uses up a try nor
 *   counts against the server). Any other 4xx, or an error that is not an HTTP outcome (a bug, bad data), is
 *   permanent for that batch: counted as failed, dropped, logged with the server's answer.
 * - Circuit breaker (src/infra/breaker.ts, as for Mattermost): only server failures count;
 *   while it is open the worker waits for the probe time instead of using up tries, so an
 *   outage does not burn through the queue.
 * - `stop()` keeps sending what it can until a deadline, then aborts the request in flight and
 *   counts what is left as dropped.
 */
import { type Breaker, BreakerOpenError, type BreakerState, createBreaker } from '../infra/breaker.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import { DeliveryError } from './http-post.js';

export interface DeliveryQueueOptions<T> {
  /** names the breaker and log lines, e.g. 'loki' */
  name: string;
  /** delivers one batch; throws (DeliveryError for HTTP outcomes) when it was not accepted */
  send(batch: readonly T[], signal: AbortSignal): Promise<void>;
  clock: Clock;
  /** bound to the sink (`logger.child({ sink })`): lines here do not repeat it */
  logger: Logger;
  /** waiting items (default 1,000) */
  maxQueue?: number;
  /** items per send (default 100) */
  batchSize?: number;
  /** tries per batch before it is given up (default 6) */
  maxAttempts?: number;
  /** first backoff (default 500 ms), doubled per try up to maxDelayMs (default 30 s) */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** jitter source in [0, 1) (default Math.random) */
  random?: () => number;
  /** consecutive server failures that open the breaker (default 5) and its cooldown (30 s) */
  breakerThreshold?: number;
  breakerCooldownMs?: number;
  /** which errors the breaker counts (default isServerFailure); an alert destination adds refused credentials */
  isFailure?: (err: unknown) => boolean;
  /** how long stop() may keep sending (default 5 s) */
  stopTimeoutMs?: number;
}

/** the knobs a sink passes through unchanged */
export type QueueTuning = Omit<DeliveryQueueOptions<unknown>, 'name' | 'send' | 'clock' | 'logger'>;

export interface DeliveryStats {
  /** items the server accepted */
  sent: number;
  /** items given up: permanent error (4xx) or tries exhausted */
  failed: number;
  /** items dropped unsent: queue full, or still waiting when stop() gave up */
  dropped: number;
  /** items waiting, the batch in flight included */
  queued: number;
  /** times a batch was scheduled to be tried again */
  retries: number;
  /** requests that reached for the server (breaker rejections are not requests) */
  requests: number;
  requestFailures: number;
  breaker: BreakerState;
  lastError?: string;
  lastSuccessAt?: number;
  /** set while the worker waits to try a batch again */
  nextAttemptAt?: number;
}

export interface DeliveryQueue<T> {
  /** never blocks, never throws */
  push(item: T): void;
  stats(): DeliveryStats;
  /** delivers what it can within the deadline; later pushes are dropped */
  stop(timeoutMs?: number): Promise<void>;
}

/** Exponential backoff with "equal jitter": half the step fixed, half random, never zero. */
export function backoffDelay(
  attempt: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: () => number,
): number {
  const step = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + (random() * step) / 2);
}

/** a Retry-After longer than this is a misconfigured server; the queue would only overflow */
const MAX_RETRY_AFTER_MS = 10 * 60_000;
/** "Retry-After: 0" must not become a busy loop */
const MIN_WAIT_MS = 100;

type Outcome = 'retry' | 'paced' | 'permanent';

function classify(err: unknown): Outcome {
  if (!(err instanceof DeliveryError)) return 'permanent';
  if (err.status === 429) return 'paced';
  if (err.status === 0 || err.status === 408 || err.status >= 500) return 'retry';
  return 'permanent';
}

/** what the breaker counts: the server failing or unreachable, not a refusal or a pacing signal */
export function isServerFailure(err: unknown): boolean {
  return classify(err) === 'retry';
}

export function createDeliveryQueue<T>(opts: DeliveryQueueOptions<T>): DeliveryQueue<T> {
  const { clock, logger, name } = opts;
  const maxQueue = Math.max(1, opts.maxQueue ?? 1000);
  const batchSize = Math.max(1, opts.batchSize ?? 100);
  const maxAttempts = Math.max(1, opts.maxAttempts ?? 6);
  const baseDelayMs = opts.baseDelayMs ?? 500;
  const maxDelayMs = opts.maxDelayMs ?? 30_000;
  const random = opts.random ?? Math.random;
  const breaker: Breaker = createBreaker({
    name,
    threshold: opts.breakerThreshold ?? 5,
    cooldownMs: opts.breakerCooldownMs ?? 30_000,
    clock,
    isFailure: opts.isFailure ?? isServerFailure,
    onStateChange: (state, prev) => logger.warn({ state, prev }, 'delivery circuit breaker changed state'),
  });

  const queue: T[] = [];
  let inFlight: readonly T[] = [];
  const c = { sent: 0, failed: 0, dropped: 0, retries: 0, requests: 0, requestFailures: 0 };
  let lastError: string | undefined;
  let lastSuccessAt: number | undefined;
  let nextAttemptAt: number | undefined;
  let stopping = false;
  let halted = false;
  const halt = new AbortController();
  let wake: (() => void) | undefined;
  let endSleep: (() => void) | undefined;

  function sleep(ms: number): Promise<void> {
    if (halted) return Promise.resolve();
    nextAttemptAt = clock.now() + ms;
    return new Promise<void>((resolve) => {
      const t = clock.setTimeout(() => endSleep?.(), ms);
      endSleep = () => {
        clock.clearTimeout(t);
        endSleep = undefined;
        nextAttemptAt = undefined;
        resolve();
      };
    });
  }

  /** tries one batch until it is delivered or given up (true), or the queue halts (false) */
  async function deliver(batch: readonly T[]): Promise<boolean> {
    let attempt = 0;
    let paced = 0;
    while (!halted) {
      let reached = false;
      try {
        await breaker.exec(() => {
          reached = true;
          c.requests++;
          return opts.send(batch, halt.signal);
        });
        c.sent += batch.length;
        lastSuccessAt = clock.now();
        return true;
      } catch (err) {
        if (halted) return false;
        if (err instanceof BreakerOpenError) {
          // the server is known to be down: wait for the probe slot, keep the tries
          await sleep(Math.max(err.retryInMs, MIN_WAIT_MS));
          continue;
        }
        if (reached) c.requestFailures++;
        lastError = err instanceof Error ? err.message : String(err);
        const outcome = classify(err);
        if (outcome === 'permanent') {
          c.failed += batch.length;
          const http = err instanceof DeliveryError;
          logger.error(
            http
              ? { items: batch.length, status: err.status, response: err.responseText }
              : { items: batch.length, err },
            'delivery refused; dropping the batch',
          );
          return true;
        }
        if (outcome === 'retry' && ++attempt >= maxAttempts) {
          c.failed += batch.length;
          logger.error({ items: batch.length, attempts: attempt, error: lastError }, 'delivery gave up');
          return true;
        }
        c.retries++;
        // a Retry-After (429, some 503s) is the server's word: wait at least that long
        const retryAfter = (err as DeliveryError).retryAfterMs;
        const backoff =
          outcome === 'paced'
            ? backoffDelay(++paced, baseDelayMs, maxDelayMs, random)
            : backoffDelay(attempt, baseDelayMs, maxDelayMs, random);
        const wait =
          retryAfter === undefined
            ? backoff
            : Math.max(Math.min(retryAfter, MAX_RETRY_AFTER_MS), outcome === 'paced' ? MIN_WAIT_MS : backoff);
        logger.warn({ attempt, waitMs: wait, error: lastError }, 'delivery failed; will retry');
        await sleep(wait);
      }
    }
    return false;
  }

  async function run(): Promise<void> {
    while (!halted) {
      const batch = queue.splice(0, batchSize);
      if (batch.length === 0) {
        if (stopping) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
        continue;
      }
      inFlight = batch;
      let settled = true;
      try {
        settled = await deliver(batch);
      } catch (err) {
        // deliver catches everything it expects; this is a bug, and must not stop the worker
        c.failed += batch.length;
        logger.error({ err }, 'delivery worker error; batch dropped');
      }
      // a batch cut off by the stop deadline stays in inFlight: stop() counts it as dropped
      if (settled) inFlight = [];
    }
  }

  const worker = run().catch((err) => logger.error({ err }, 'delivery worker stopped'));

  return {
    push(item) {
      try {
        if (stopping) {
          c.dropped++;
          return;
        }
        queue.push(item);
        if (queue.length > maxQueue) {
          queue.shift();
          c.dropped++;
        }
        wake?.();
      } catch {
        c.dropped++;
      }
    },
    stats() {
      return {
        ...c,
        queued: queue.length + inFlight.length,
        breaker: breaker.state(),
        ...(lastError ? { lastError } : {}),
        ...(lastSuccessAt !== undefined ? { lastSuccessAt } : {}),
        ...(nextAttemptAt !== undefined ? { nextAttemptAt } : {}),
      };
    },
    async stop(timeoutMs = opts.stopTimeoutMs ?? 5000) {
      if (!stopping) {
        stopping = true;
        const deadline = clock.setTimeout(() => {
          halted = true;
          halt.abort(new Error('stopped before delivery'));
          endSleep?.();
          wake?.();
        }, timeoutMs);
        wake?.();
        await worker;
        clock.clearTimeout(deadline);
        const left = queue.length + inFlight.length;
        queue.length = 0;
        inFlight = [];
        if (left) {
          c.dropped += left;
          logger.warn({ items: left }, 'stop deadline reached; undelivered items dropped');
        }
      }
      await worker;
    },
  };
}

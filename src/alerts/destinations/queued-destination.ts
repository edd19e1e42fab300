/**
 * The layers every alert destination goes through, the same ones the lifecycle outputs and
 * status boxes use, not a copy of them:
 * - the delivery queue (src/sinks/delivery-queue.ts): bounded, one alert per request, in order;
 *   retries on no answer / 408 / 5xx with exponential backoff and jitter; a 429 waits for its
 *   Retry-After; the circuit breaker (src/infra/breaker.ts) behind it;
 * - the token-bucket pace of the Mattermost boxes (src/sinks/mattermost/rate-limit.ts), one per
 *   destination at that service's documented rate, so a burst of alerts does not earn a 429;
 * - time from the injected clock, so tests drive backoffs and Retry-After without sleeping.
 *
 * Two things only alerts need:
 * - an answer that says every alert will fail the same way until the configuration changes (a
 *   revoked webhook, a bad bot token, a chat the bot is not in) counts for the breaker too: it
 *   opens, /health says so, and the destination stops asking every few seconds; each such alert
 *   is dropped and counted (a refusal is not retried);
 * - every error passes through the destination's redactor before the queue stores it
 *   (lastError in /health) or logs it: no token or secret URL path ever leaves here.
 *
 * `send` only queues: it never blocks the alert engine and never throws.
 */
import type { Clock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import type { SinkHealth } from '../../server/health.js';
import { createDeliveryQueue, isServerFailure, type QueueTuning } from '../../sinks/delivery-queue.js';
import { queueSinkHealth } from '../../sinks/delivery-report.js';
import { DeliveryError } from '../../sinks/http-post.js';
import { createRateLimiter, type RateLimiter } from '../../sinks/mattermost/rate-limit.js';
import type { Alert, AlertDestination } from '../alert.js';
import type { Redact } from './redact.js';

export interface Pace {
  /** sustained requests per second */
  perSec: number;
  /** requests that may go at once after a quiet spell */
  burst: number;
}

export interface QueuedDestinationSpec {
  /** 'slack', 'discord' ...: the /health row's kind; its id is alert-<name> */
  name: string;
  /** where alerts go, as it may be shown (no secret in it) */
  target: string;
  clock: Clock;
  logger: Logger;
  pace: Pace;
  queue?: QueueTuning;
  redact: Redact;
  /** one request for one alert; throws a DeliveryError (status 0 = no answer) when it was not taken */
  deliver(alert: Alert, signal: AbortSignal): Promise<void>;
  /** answers meaning every alert will fail alike until the config changes: they open the breaker */
  refusesConfig?(err: DeliveryError): boolean;
  /** more for the /health row's detail */
  detail?(): Record<string, unknown>;
  close?(): Promise<void>;
}

export type DestinationState = 'ok' | 'failing' | 'refused' | 'breaker-open' | 'idle';

export function createQueuedDestination(spec: QueuedDestinationSpec): AlertDestination & {
  /** what /health shows as `detail.state` */
  state(): DestinationState;
} {
  const { clock, name, redact } = spec;
  const id = `alert-${name}`;
  const logger = spec.logger.child({ sink: id });
  const limiter = createRateLimiter({ clock, perSec: spec.pace.perSec, burst: spec.pace.burst });
  let lastErrorAt: number | undefined;
  let lastRefused = false;
  let refused = 0;

  const refusal = (err: unknown): boolean =>
    err instanceof DeliveryError && err.status !== 429 && spec.refusesConfig?.(err) === true;

  const queue = createDeliveryQueue<Alert>({
    // alerts are few; a long outage keeps the newest 200
    maxQueue: 200,
    ...spec.queue,
    batchSize: 1,
    name: id,
    clock,
    logger,
    isFailure: (err) => isServerFailure(err) || refusal(err),
    send: async ([alert], signal) => {
      if (!alert) return;
      await paced(limiter, signal);
      try {
        await spec.deliver(alert, signal);
        lastRefused = false;
      } catch (err) {
        lastErrorAt = clock.now();
        lastRefused = refusal(err);
        if (lastRefused) refused++;
        throw redacted(err, redact);
      }
    },
  });

  function state(): DestinationState {
    const s = queue.stats();
    if (s.breaker !== 'closed') return 'breaker-open';
    if (lastErrorAt !== undefined && (s.lastSuccessAt ?? -1) < lastErrorAt)
      return lastRefused ? 'refused' : 'failing';
    return s.lastSuccessAt === undefined ? 'idle' : 'ok';
  }

  return {
    name,
    state,
    send(alert) {
      queue.push(alert);
      return Promise.resolve();
    },
    health(): SinkHealth {
      const s = queue.stats();
      const row = queueSinkHealth(id, name, s, {
        target: spec.target,
        state: state(),
        refused,
        pace: `${spec.pace.perSec}/s, burst ${spec.pace.burst}`,
        ...spec.detail?.(),
      });
      return {
        ...row,
        ...(row.lastError ? { lastError: redact(row.lastError) } : {}),
        ...(lastErrorAt !== undefined ? { lastErrorAt } : {}),
      };
    },
    async stop() {
      await queue.stop();
      limiter.dispose();
      await spec.close?.();
    },
  };
}

/** waits for the pace's token, or gives up when the queue stops */
function paced(limiter: RateLimiter, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason ?? new Error('stopped'));
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(signal.reason ?? new Error('stopped'));
    signal.addEventListener('abort', onAbort, { once: true });
    void limiter.acquire().then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

/** the same outcome with every secret taken out of what it says */
function redacted(err: unknown, redact: Redact): Error {
  if (err instanceof DeliveryError)
    return new DeliveryError(err.status, redact(err.message), redact(err.responseText), err.retryAfterMs);
  return new Error(redact(err instanceof Error ? err.message : String(err)));
}

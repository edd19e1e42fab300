/**
 * Delivers lifecycle events to DISPATCH_WEBHOOK_URL: one JSON POST per event, the body being
 * the event itself, in emit order (the queue sends one at a time and retries in place).
 * Headers: User-Agent clawpulse/<version>, X-Clawpulse-Event, X-Clawpulse-Delivery (an id per
 * event, kept across retries) and, with DISPATCH_WEBHOOK_SECRET, the signature headers
 * described in signature.ts. The secret never leaves this closure: not in logs, not in health.
 */
import { randomUUID } from 'node:crypto';
import type { LifecycleEvent } from '../../dispatch/lifecycle.js';
import type { Clock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import type { SinkHealth } from '../../server/health.js';
import { VERSION } from '../../version.js';
import { createDeliveryQueue, type DeliveryStats, type QueueTuning } from '../delivery-queue.js';
import { queueSinkHealth } from '../delivery-report.js';
import { createHttpPoster } from '../http-post.js';
import { DELIVERY_HEADER, SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from './signature.js';

export interface WebhookSinkOptions {
  url: string;
  secret?: string;
  clock: Clock;
  logger: Logger;
  /** per request (default 10 s) */
  timeoutMs?: number;
  queue?: QueueTuning;
}

export interface WebhookSink {
  emit(e: LifecycleEvent): void;
  stats(): DeliveryStats;
  health(): SinkHealth;
  stop(): Promise<void>;
}

interface Delivery {
  id: string;
  event: string;
  /** serialized at emit time: later changes to the event object do not leak into it */
  body: Buffer;
}

export function createWebhookSink(opts: WebhookSinkOptions): WebhookSink {
  const { clock, secret } = opts;
  const logger = opts.logger.child({ sink: 'webhook' });
  const poster = createHttpPoster({
    url: opts.url,
    clock,
    timeoutMs: opts.timeoutMs,
    headers: { 'content-type': 'application/json', 'user-agent': `clawpulse/${VERSION}` },
  });
  const queue = createDeliveryQueue<Delivery>({
    ...opts.queue,
    batchSize: 1,
    name: 'webhook',
    clock,
    logger,
    send: ([d], signal) => {
      if (!d) return Promise.resolve();
      const headers: Record<string, string> = { 'x-clawpulse-event': d.event, [DELIVERY_HEADER]: d.id };
      if (secret) {
        // signed per attempt: a receiver's freshness window must accept a late retry
        const ts = Math.trunc(clock.now());
        headers[TIMESTAMP_HEADER] = String(ts);
        headers[SIGNATURE_HEADER] = signWebhook(secret, ts, d.body);
      }
      return poster.post(d.body, headers, signal);
    },
  });
  let failedToBuild = 0;
  const stats = (): DeliveryStats => {
    const s = queue.stats();
    return { ...s, failed: s.failed + failedToBuild };
  };

  return {
    emit(e) {
      try {
        queue.push({
          id: randomUUID(),
          event: String(e.event).replace(/[^\w.-]/g, '_'),
          body: Buffer.from(JSON.stringify(e), 'utf8'),
        });
      } catch (err) {
        failedToBuild++;
        logger.error({ err, event: e?.event }, 'lifecycle event not serializable; dropped');
      }
    },
    stats,
    health: () => queueSinkHealth('webhook', 'webhook', stats(), { url: poster.target, signed: !!secret }),
    async stop() {
      await queue.stop();
      await poster.close();
    },
  };
}

/**
 * Delivers lifecycle events to Grafana Loki (LOKI_PUSH_URL) through the bounded delivery
 * queue: batches of up to 100 entries per push, grouped into streams by label set.
 *
 * A URL with no path gets Loki's push path. LOKI_TENANT_ID becomes X-Scope-OrgID (multi-tenant
 * Loki, Grafana Cloud); Basic auth comes from LOKI_USERNAME/LOKI_PASSWORD or the URL's
 * userinfo and appears nowhere but in the Authorization header (health and logs show the
 * URL without it).
 */
import type { LifecycleEvent } from '../../dispatch/lifecycle.js';
import type { Clock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import type { SinkHealth } from '../../server/health.js';
import { VERSION } from '../../version.js';
import { createDeliveryQueue, type DeliveryStats, type QueueTuning } from '../delivery-queue.js';
import { queueSinkHealth } from '../delivery-report.js';
import { createHttpPoster } from '../http-post.js';
import { type LokiEntry, toLokiEntry, toPushBody } from './push-format.js';

export const LOKI_PUSH_PATH = '/loki/api/v1/push';

export interface LokiSinkOptions {
  url: string;
  tenantId?: string;
  username?: string;
  password?: string;
  clock: Clock;
  logger: Logger;
  /** per request (default 10 s) */
  timeoutMs?: number;
  queue?: QueueTuning;
}

export interface LokiSink {
  emit(e: LifecycleEvent): void;
  stats(): DeliveryStats;
  health(): SinkHealth;
  stop(): Promise<void>;
}

export function lokiPushUrl(url: string): string {
  const u = new URL(url);
  if (u.pathname === '' || u.pathname === '/') u.pathname = LOKI_PUSH_PATH;
  return u.toString();
}

export function createLokiSink(opts: LokiSinkOptions): LokiSink {
  const { clock } = opts;
  const logger = opts.logger.child({ sink: 'loki' });
  const poster = createHttpPoster({
    url: lokiPushUrl(opts.url),
    clock,
    timeoutMs: opts.timeoutMs,
    username: opts.username,
    password: opts.password,
    headers: {
      'content-type': 'application/json',
      'user-agent': `clawpulse/${VERSION}`,
      ...(opts.tenantId ? { 'x-scope-orgid': opts.tenantId } : {}),
    },
  });
  const queue = createDeliveryQueue<LokiEntry>({
    batchSize: 100,
    ...opts.queue,
    name: 'loki',
    clock,
    logger,
    send: (batch, signal) => poster.post(JSON.stringify(toPushBody(batch)), {}, signal),
  });
  let failedToBuild = 0;
  const stats = (): DeliveryStats => {
    const s = queue.stats();
    return { ...s, failed: s.failed + failedToBuild };
  };

  return {
    emit(e) {
      try {
        queue.push(toLokiEntry(e, clock.now()));
      } catch (err) {
        // an event JSON cannot carry (a BigInt, a cycle): count it, never throw at the emitter
        failedToBuild++;
        logger.error({ err, event: e?.event }, 'lifecycle event not serializable; dropped');
      }
    },
    stats,
    health() {
      return queueSinkHealth('loki', 'loki', stats(), {
        url: poster.target,
        ...(opts.tenantId ? { tenant: opts.tenantId } : {}),
      });
    },
    async stop() {
      await queue.stop();
      await poster.close();
    },
  };
}

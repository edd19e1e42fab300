/**
 * Builds the configured lifecycle outputs (Loki, a webhook) behind one LifecycleEmitter.
 * An unset URL leaves that output off; with neither, `emit` is a no-op. A URL that does not
 * parse is logged and shown in health rather than thrown: a bad optional output must not keep
 * the daemon from starting.
 */
import { hostname } from 'node:os';
import type { LifecycleEmitter, LifecycleEvent } from '../dispatch/lifecycle.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { SinkHealth } from '../server/health.js';
import type { DeliveryStats, QueueTuning } from './delivery-queue.js';
import { renderLifecycleMetrics, type SinkStatsRow } from './delivery-report.js';
import { createLokiSink } from './loki/loki-sink.js';
import { createWebhookSink } from './webhook/webhook-sink.js';

export interface LifecycleSinkOptions {
  /** LOKI_PUSH_URL */
  lokiUrl?: string;
  /** LOKI_TENANT_ID → X-Scope-OrgID */
  lokiTenant?: string;
  /** LOKI_USERNAME / LOKI_PASSWORD (else the URL's userinfo) */
  lokiUsername?: string;
  lokiPassword?: string;
  /** DISPATCH_WEBHOOK_URL */
  webhookUrl?: string;
  /** DISPATCH_WEBHOOK_SECRET */
  webhookSecret?: string;
  /** DISPATCH_HOST: fills an event's empty `host` (default os.hostname()) */
  host?: string;
  /** events waiting per output (default 1,000) */
  queueMax?: number;
  /** CIRCUIT_BREAKER_THRESHOLD / _COOLDOWN_S, as for Mattermost (defaults 5, 30 s) */
  breakerThreshold?: number;
  breakerCooldownMs?: number;
  /** per request (default 10 s) */
  timeoutMs?: number;
  /** how long stop() may spend delivering (default 5 s) */
  stopTimeoutMs?: number;
}

export interface LifecycleSinkDeps {
  clock: Clock;
  logger: Logger;
  /** jitter source for backoff (tests) */
  random?: () => number;
}

export interface LifecycleSinks {
  emitter: LifecycleEmitter;
  /** one row per configured output, for /health `sinks` */
  health(): SinkHealth[];
  /** per-output counts; `metrics()` renders them */
  stats(): SinkStatsRow[];
  /** Prometheus text to append to /metrics ('' when no output is configured) */
  metrics(): string;
  stop(): Promise<void>;
}

interface Output {
  id: string;
  emit(e: LifecycleEvent): void;
  stats(): DeliveryStats;
  health(): SinkHealth;
  stop(): Promise<void>;
}

export function createLifecycleSinks(opts: LifecycleSinkOptions, deps: LifecycleSinkDeps): LifecycleSinks {
  const { clock, logger } = deps;
  const host = opts.host || hostname();
  const queue: QueueTuning = {
    ...(opts.queueMax !== undefined ? { maxQueue: opts.queueMax } : {}),
    ...(opts.breakerThreshold !== undefined ? { breakerThreshold: opts.breakerThreshold } : {}),
    ...(opts.breakerCooldownMs !== undefined ? { breakerCooldownMs: opts.breakerCooldownMs } : {}),
    ...(opts.stopTimeoutMs !== undefined ? { stopTimeoutMs: opts.stopTimeoutMs } : {}),
    ...(deps.random ? { random: deps.random } : {}),
  };
  const outputs: Output[] = [];
  const broken: SinkHealth[] = [];

  function build(id: string, make: () => Omit<Output, 'id'>): void {
    try {
      outputs.push({ id, ...make() });
    } catch (err) {
      // never echo the URL: it may carry credentials
      const reason = `${id} output not started: ${err instanceof Error ? err.message : String(err)}`;
      logger.error({ sink: id }, reason);
      broken.push({ id, kind: id, breaker: 'closed', requests: 0, failures: 0, lastError: reason });
    }
  }

  if (opts.lokiUrl) {
    const url = opts.lokiUrl;
    build('loki', () =>
      createLokiSink({
        url,
        tenantId: opts.lokiTenant,
        username: opts.lokiUsername,
        password: opts.lokiPassword,
        clock,
        logger,
        timeoutMs: opts.timeoutMs,
        queue,
      }),
    );
  }
  if (opts.webhookUrl) {
    const url = opts.webhookUrl;
    build('webhook', () =>
      createWebhookSink({ url, secret: opts.webhookSecret, clock, logger, timeoutMs: opts.timeoutMs, queue }),
    );
  }
  if (outputs.length) logger.info({ outputs: outputs.map((o) => o.id) }, 'lifecycle event delivery on');

  const stats = (): SinkStatsRow[] => outputs.map((o) => ({ id: o.id, kind: o.id, stats: o.stats() }));

  return {
    emitter: {
      emit(e) {
        if (outputs.length === 0) return;
        const ev = e && !e.host ? { ...e, host } : e;
        for (const o of outputs) {
          try {
            o.emit(ev);
          } catch (err) {
            logger.error({ sink: o.id, err }, 'lifecycle emit failed');
          }
        }
      },
    },
    health: () => [...outputs.map((o) => o.health()), ...broken],
    stats,
    metrics: () => renderLifecycleMetrics(stats()),
    async stop() {
      await Promise.allSettled(outputs.map((o) => o.stop()));
    },
  };
}

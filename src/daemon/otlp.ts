/**
 * OTLP export in the daemon (src/sinks/otlp): traces, metrics and logs of every session to
 * the collector `OTEL_EXPORTER_OTLP_ENDPOINT` names, plus the agent metrics on /metrics (on
 * with or without a collector). Kept apart from daemon.ts so the wiring there stays a list.
 */
import type { Config } from '../config/config.js';
import type { LifecycleEmitter } from '../dispatch/lifecycle.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { Pipeline } from '../pipeline.js';
import type { SinkHealth } from '../server/health.js';
import { createOtlpExporter, type OtlpExporter } from '../sinks/otlp/exporter.js';
import type { DaemonDispatch } from './dispatch.js';

export interface DaemonOtlp {
  readonly exporter: OtlpExporter;
  /** the dispatch lifecycle events go out as OTLP log records too */
  readonly emitter: LifecycleEmitter;
  tick(now: number): void;
  /** dispatch as health and /metrics see it, with the OTLP rows and lines added */
  withDispatch<D extends Partial<Pick<DaemonDispatch, 'sinks' | 'metrics'>>>(
    d: D,
  ): D & Pick<DaemonDispatch, 'sinks' | 'metrics'>;
  stop(): Promise<void>;
}

export function createDaemonOtlp(
  config: Readonly<Config>,
  deps: { pipeline: Pipeline; logger: Logger; clock: Clock },
): DaemonOtlp {
  const o = config.otlp;
  const exporter = createOtlpExporter(
    {
      ...(o.traces ? { traces: o.traces } : {}),
      ...(o.metrics ? { metrics: o.metrics } : {}),
      ...(o.logs ? { logs: o.logs } : {}),
      serviceName: o.serviceName,
      resourceAttributes: o.resourceAttributes,
      host: config.dispatch.host,
      progressIntervalMs: o.progressIntervalMs,
      metricsIntervalMs: o.metricsIntervalMs,
      maxQueue: o.maxQueue,
      batchSize: o.batchSize,
      queue: {
        breakerThreshold: config.mattermost.breakerThreshold,
        breakerCooldownMs: config.mattermost.breakerCooldownMs,
      },
    },
    { clock: deps.clock, logger: deps.logger, initial: deps.pipeline.tracker.all() },
  );
  deps.pipeline.subscribe((u) => exporter.onUpdate(u));
  return {
    exporter,
    emitter: exporter.emitter,
    tick: (now) => exporter.tick(now),
    withDispatch: (d) => ({
      ...d,
      sinks: () => [...(d.sinks?.() ?? []), ...exporter.health()] as SinkHealth[],
      metrics: () => `${d.metrics?.() ?? ''}${exporter.metrics()}`,
    }),
    stop: () => exporter.stop().catch((err) => deps.logger.warn({ err }, 'OTLP export did not flush')),
  };
}

/**
 * The OTLP exporter: traces, metrics and logs of every session to a collector (Tempo, Jaeger,
 * Honeycomb, Datadog, an OpenTelemetry Collector, another clawpulse).
 *
 *  - traces: `SpanBook` turns stored events into spans; finished ones leave after each
 *    pipeline update, snapshots of open runs and tool calls every `progressIntervalMs`
 *  - metrics: `AgentMetrics`, cumulative, every `metricsIntervalMs`
 *  - logs: session start / end / error / stuck (from the model's status changes) and the
 *    dispatch lifecycle events
 *
 * Each signal goes through its own bounded delivery queue (src/sinks/delivery-queue.ts):
 * batches, backoff with jitter, Retry-After, the breaker; a collector that is down costs at
 * most the queue's cap in memory, then the oldest items are dropped and counted. Nothing here
 * throws into the pipeline.
 */
import { hostname } from 'node:os';
import zlib from 'node:zlib';
import type { LifecycleEmitter, LifecycleEvent } from '../../dispatch/lifecycle.js';
import type { Clock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import type { SessionState } from '../../model/session.js';
import type { PipelineUpdate } from '../../pipeline.js';
import type { SinkHealth } from '../../server/health.js';
import { VERSION } from '../../version.js';
import {
  createDeliveryQueue,
  type DeliveryQueue,
  type DeliveryStats,
  type QueueTuning,
} from '../delivery-queue.js';
import { queueSinkHealth, renderLifecycleMetrics } from '../delivery-report.js';
import { createHttpPoster, type HttpPoster } from '../http-post.js';
import {
  encodeLogs,
  encodeMetrics,
  encodeSpans,
  type LogRec,
  makeResource,
  type Protocol,
} from './encode.js';
import { spanIdOf, traceIdOf } from './ids.js';
import { AgentMetrics } from './metrics.js';
import { ATTR_HOST_NAME, ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION, OC } from './semconv.js';
import { type Attrs, SpanBook, type SpanRec } from './span-book.js';

export type Signal = 'traces' | 'metrics' | 'logs';

export interface OtlpSignalTarget {
  url: string;
  headers: Record<string, string>;
  protocol: Protocol;
  timeoutMs: number;
  compression: 'gzip' | 'none';
}

export interface OtlpExportOptions {
  /** a signal without a target is not exported */
  traces?: OtlpSignalTarget;
  metrics?: OtlpSignalTarget;
  logs?: OtlpSignalTarget;
  serviceName?: string;
  /** OTEL_RESOURCE_ATTRIBUTES */
  resourceAttributes?: Record<string, string>;
  host?: string;
  /** open runs and tool calls are exported as in-progress snapshots this often (10 s) */
  progressIntervalMs?: number;
  /** OTEL_METRIC_EXPORT_INTERVAL (60 s) */
  metricsIntervalMs?: number;
  /** a sub-agent run waits this long for its spawning tool call (5 s) */
  holdMs?: number;
  /** OTEL_BSP_MAX_QUEUE_SIZE (2048 spans; log records the same) */
  maxQueue?: number;
  /** OTEL_BSP_MAX_EXPORT_BATCH_SIZE (512) */
  batchSize?: number;
  queue?: QueueTuning;
}

export interface OtlpExporterDeps {
  clock: Clock;
  logger: Logger;
  /** sessions already in the model at start (a restart): their open runs are followed */
  initial?: readonly SessionState[];
}

export interface OtlpExporter {
  /** subscribe to the pipeline */
  onUpdate(update: PipelineUpdate): void;
  /** the dispatch lifecycle events, as log records */
  readonly emitter: LifecycleEmitter;
  /** the daemon's tick: snapshots of open spans and metrics when due, held spans */
  tick(now: number): void;
  /** /health rows, one per exported signal */
  health(): SinkHealth[];
  /** /metrics lines: the agent metrics (always) and the queues' counts */
  metrics(): string;
  stats(): Record<Signal, DeliveryStats | undefined>;
  stop(): Promise<void>;
}

const SIGNAL_PATH: Record<Signal, string> = { traces: 'v1/traces', metrics: 'v1/metrics', logs: 'v1/logs' };

/** `OTEL_EXPORTER_OTLP_ENDPOINT` + the signal's path, as the specification appends it */
export function signalUrl(base: string, signal: Signal): string {
  return `${base.replace(/\/+$/, '')}/${SIGNAL_PATH[signal]}`;
}

interface Out<T> {
  queue: DeliveryQueue<T>;
  poster: HttpPoster;
  target: OtlpSignalTarget;
  encodeFailures: number;
}

export function createOtlpExporter(opts: OtlpExportOptions, deps: OtlpExporterDeps): OtlpExporter {
  const { clock } = deps;
  const logger = deps.logger.child({ sink: 'otlp' });
  const host = opts.host || hostname();
  const resource = makeResource({
    [ATTR_SERVICE_NAME]: opts.serviceName || 'clawpulse',
    [ATTR_SERVICE_VERSION]: VERSION,
    [ATTR_HOST_NAME]: host,
    ...opts.resourceAttributes,
  });
  const progressEvery = opts.progressIntervalMs ?? 10_000;
  const metricsEvery = opts.metricsIntervalMs ?? 60_000;
  const book = new SpanBook({ holdMs: opts.holdMs ?? 5000 });
  const agentMetrics = new AgentMetrics(host);
  const startedAt = clock.now();
  let lastProgress = startedAt;
  let lastMetrics = startedAt;
  /** each session's last status, for the lifecycle log records */
  const statusOf = new Map<string, SessionState['status']>();
  for (const s of deps.initial ?? []) {
    statusOf.set(s.key, s.status);
    agentMetrics.observe(s);
  }

  function output<T>(
    signal: Signal,
    target: OtlpSignalTarget | undefined,
    encode: (batch: readonly T[]) => Uint8Array,
    tuning: QueueTuning,
  ): Out<T> | undefined {
    if (!target) return undefined;
    try {
      const poster = createHttpPoster({
        url: target.url,
        clock,
        timeoutMs: target.timeoutMs,
        headers: {
          ...target.headers,
          'content-type': target.protocol === 'http/json' ? 'application/json' : 'application/x-protobuf',
          'user-agent': `clawpulse/${VERSION}`,
          ...(target.compression === 'gzip' ? { 'content-encoding': 'gzip' } : {}),
        },
      });
      const out: Out<T> = {
        poster,
        target,
        encodeFailures: 0,
        queue: undefined as unknown as DeliveryQueue<T>,
      };
      out.queue = createDeliveryQueue<T>({
        ...tuning,
        ...opts.queue,
        name: `otlp-${signal}`,
        clock,
        logger: logger.child({ signal }),
        send: async (batch, signal) => {
          const raw = encode(batch);
          const body = target.compression === 'gzip' ? zlib.gzipSync(raw) : Buffer.from(raw);
          await poster.post(body, {}, signal);
        },
      });
      return out;
    } catch (err) {
      logger.error({ signal, err: (err as Error).message }, 'OTLP output not started');
      return undefined;
    }
  }

  const maxQueue = opts.maxQueue ?? 2048;
  const batchSize = opts.batchSize ?? 512;
  const traces = output<SpanRec>(
    'traces',
    opts.traces,
    (b) => encodeSpans(b, resource, opts.traces?.protocol ?? 'http/protobuf'),
    { maxQueue, batchSize },
  );
  const metricsOut = output<{ at: number; body: Uint8Array }>(
    'metrics',
    opts.metrics,
    (b) => b[b.length - 1]?.body ?? new Uint8Array(0),
    {
      // cumulative: only the newest snapshot matters
      maxQueue: 2,
      batchSize: 1,
    },
  );
  const logs = output<LogRec>(
    'logs',
    opts.logs,
    (b) => encodeLogs(b, resource, opts.logs?.protocol ?? 'http/protobuf'),
    {
      maxQueue,
      batchSize,
    },
  );
  const outs: Array<[Signal, Out<never> | undefined]> = [
    ['traces', traces as Out<never> | undefined],
    ['metrics', metricsOut as Out<never> | undefined],
    ['logs', logs as Out<never> | undefined],
  ];
  const on = outs.filter(([, o]) => o).map(([s]) => s);
  if (on.length) logger.info({ signals: on }, 'OTLP export on');

  function pushSpans(spans: readonly SpanRec[]): void {
    if (!traces) return;
    for (const s of spans) traces.queue.push(s);
  }

  function log(rec: LogRec): void {
    logs?.queue.push(rec);
  }

  function sessionLog(s: SessionState, prev: SessionState['status'] | undefined, now: number): void {
    const st = s.status;
    if (st === prev) return;
    const wasRunning = prev === 'active' || prev === 'stuck';
    let rec: Pick<LogRec, 'event' | 'severity' | 'body'> | undefined;
    if (st === 'active' && prev !== 'stuck')
      rec = { event: 'clawpulse.session.start', severity: 'INFO', body: 'session started' };
    else if (st === 'stuck')
      rec = { event: 'clawpulse.session.stuck', severity: 'WARN', body: s.note ?? 'session stuck' };
    else if (st === 'error')
      rec = {
        event: 'clawpulse.session.error',
        severity: 'ERROR',
        body: s.errors[s.errors.length - 1]?.message ?? 'session failed',
      };
    else if (wasRunning && (st === 'idle' || st === 'done' || st === 'interrupted'))
      rec = {
        event: 'clawpulse.session.end',
        severity: st === 'interrupted' ? 'WARN' : 'INFO',
        body: st === 'interrupted' ? (s.note ?? 'session interrupted') : 'session ended',
      };
    if (!rec) return;
    const attrs: Attrs = {
      [OC.sessionKey]: s.key,
      [OC.agent]: s.agentId,
      'openclaw.session.status': st,
      ...(prev ? { 'openclaw.session.previous_status': prev } : {}),
      ...(s.channel?.provider ? { [OC.channel]: s.channel.provider } : {}),
      ...(s.model ? { 'gen_ai.request.model': s.model } : {}),
      ...(s.label ? { [OC.label]: s.label } : {}),
      ...(s.currentRunId ? { [OC.runId]: s.currentRunId } : {}),
    };
    const r: LogRec = { ts: Math.max(s.lastEventAt, 0) || now, ...rec, attrs };
    if (s.currentRunId && !s.parentKey) {
      r.traceId = traceIdOf(s.key, s.currentRunId);
      r.spanId = spanIdOf(s.key, s.currentRunId);
    }
    log(r);
  }

  function safe(what: string, f: () => void): void {
    try {
      f();
    } catch (err) {
      logger.error({ err }, `OTLP export: ${what} failed`);
    }
  }

  function sendMetrics(now: number): void {
    if (!metricsOut) return;
    safe('metrics', () => {
      const body = encodeMetrics(agentMetrics.toOtlp(), resource, startedAt, now, metricsOut.target.protocol);
      metricsOut.queue.push({ at: now, body });
    });
  }

  const emitter: LifecycleEmitter = {
    emit(e: LifecycleEvent) {
      if (!logs) return;
      safe('lifecycle log', () => {
        const attrs: Attrs = { 'dispatch.label': e.label, [ATTR_HOST_NAME]: e.host || host };
        if (e.sessionKey) attrs[OC.sessionKey] = e.sessionKey;
        if (e.runId) attrs[OC.runId] = e.runId;
        if (e.agent) attrs[OC.agent] = e.agent;
        if (e.model) attrs['gen_ai.request.model'] = e.model;
        if (e.durationMs !== undefined) attrs['dispatch.duration_ms'] = e.durationMs;
        if (e.costUsd !== undefined) attrs[OC.costUsd] = e.costUsd;
        if (e.attempt !== undefined) attrs['dispatch.attempt'] = e.attempt;
        if (e.tokens) {
          attrs['gen_ai.usage.input_tokens'] = e.tokens.input;
          attrs['gen_ai.usage.output_tokens'] = e.tokens.output;
          attrs[OC.cacheRead] = e.tokens.cacheRead;
          attrs[OC.cacheWrite] = e.tokens.cacheWrite;
        }
        if (e.error) attrs['error.message'] = e.error;
        const severity =
          e.event === 'dispatch.failed'
            ? 'ERROR'
            : e.event === 'dispatch.stuck' || e.event === 'dispatch.retried'
              ? 'WARN'
              : 'INFO';
        const body = [e.event, e.label, e.error ?? e.detail].filter(Boolean).join(' ');
        const r: LogRec = { ts: e.ts, event: e.event, severity, body, attrs };
        if (e.sessionKey && e.runId) {
          r.traceId = traceIdOf(e.sessionKey, e.runId);
          r.spanId = spanIdOf(e.sessionKey, e.runId);
        }
        log(r);
      });
    },
  };

  let stopped = false;

  return {
    onUpdate(update) {
      if (stopped) return;
      safe('update', () => {
        for (const s of update.events) {
          // without a traces endpoint no spans are kept (the metrics still feed /metrics)
          if (traces) book.apply(s.event);
          agentMetrics.apply(s.event);
        }
        const now = clock.now();
        for (const s of update.changed) {
          if (traces) book.observe(s);
          agentMetrics.observe(s);
          sessionLog(s, statusOf.get(s.key), now);
          statusOf.set(s.key, s.status);
        }
        for (const k of update.removed ?? []) {
          agentMetrics.remove(k);
          statusOf.delete(k);
        }
        if (traces && update.events.length) pushSpans(book.collect(now));
      });
    },
    emitter,
    tick(now) {
      if (stopped) return;
      safe('tick', () => {
        pushSpans(book.collect(now));
        if (now - lastProgress >= progressEvery) {
          lastProgress = now;
          pushSpans(book.progress(now));
        }
        if (now - lastMetrics >= metricsEvery) {
          lastMetrics = now;
          sendMetrics(now);
        }
      });
    },
    health() {
      const rows: SinkHealth[] = [];
      for (const [signal, o] of outs) {
        if (!o) continue;
        rows.push(
          queueSinkHealth(`otlp-${signal}`, 'otlp', o.queue.stats(), {
            signal,
            endpoint: o.poster.target,
            protocol: o.target.protocol,
            ...(signal === 'traces' ? book.size() : {}),
          }),
        );
      }
      return rows;
    },
    metrics() {
      const rows = outs
        .filter(([, o]) => o)
        .map(([signal, o]) => ({
          id: `otlp-${signal}`,
          kind: 'otlp',
          stats: (o as Out<never>).queue.stats(),
        }));
      return (
        agentMetrics.toPrometheus() +
        renderLifecycleMetrics(rows).replace(/clawpulse_lifecycle_/g, 'clawpulse_otlp_')
      );
    },
    stats: () => ({
      traces: traces?.queue.stats(),
      metrics: metricsOut?.queue.stats(),
      logs: logs?.queue.stats(),
    }),
    async stop() {
      if (stopped) return;
      const now = clock.now();
      safe('final flush', () => {
        pushSpans(book.collect(now));
        pushSpans(book.progress(now));
        sendMetrics(now);
      });
      stopped = true;
      await Promise.allSettled(outs.map(([, o]) => o?.queue.stop()));
      await Promise.allSettled(outs.map(([, o]) => o?.poster.close()));
    },
  };
}

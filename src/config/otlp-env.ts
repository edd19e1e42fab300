/**
 * The OTLP exporter's variables, named as the OpenTelemetry specification names them
 * (https://opentelemetry.io/docs/specs/otel/protocol/exporter/ and the SDK environment
 * variables): a base `OTEL_EXPORTER_OTLP_ENDPOINT` gets `/v1/traces`, `/v1/metrics`,
 * `/v1/logs` appended; a per-signal `OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT` is used as it is;
 * per-signal headers, protocol, timeout and compression override the general ones.
 * `OTEL_<SIGNAL>_EXPORTER=none` turns one signal off. Only the HTTP protocols are supported.
 */
import { z } from 'zod';
import { urlOf } from './url.js';

const SIGNALS = ['TRACES', 'METRICS', 'LOGS'] as const;
type SignalVar = (typeof SIGNALS)[number];

const endpoint = urlOf(['http:', 'https:'], 'an http(s) URL such as http://127.0.0.1:4318');

const HEADER = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const headers = z
  .string()
  .trim()
  .transform((v, ctx) => {
    const out: Record<string, string> = {};
    for (const part of v.split(',')) {
      if (!part.trim()) continue;
      const i = part.indexOf('=');
      const k = i > 0 ? part.slice(0, i).trim() : '';
      let val: string;
      try {
        val = decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        val = '';
      }
      if (!k || !HEADER.test(k) || /[\r\n]/.test(val)) {
        ctx.addIssue({ code: 'custom', message: 'a comma list of key=value (values URL-encoded)' });
        return z.NEVER;
      }
      out[k.toLowerCase()] = val;
    }
    return out;
  });
const protocol = z
  .string()
  .trim()
  .refine(
    (v) => v === 'http/protobuf' || v === 'http/json',
    'http/protobuf or http/json (grpc is not supported)',
  )
  .transform((v) => v as 'http/protobuf' | 'http/json');
const timeout = z
  .string()
  .trim()
  .regex(/^\d{1,7}$/, 'milliseconds, a whole number')
  .transform(Number);
const compression = z.enum(['gzip', 'none'], { error: 'gzip or none' });
const exporter = z.enum(['otlp', 'none'], { error: 'otlp or none' });
const count = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `a whole number from ${min} to ${max}`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `a whole number from ${min} to ${max}`);

const perSignal = Object.fromEntries(
  SIGNALS.flatMap((s) => [
    [`OTEL_EXPORTER_OTLP_${s}_ENDPOINT`, endpoint.optional()],
    [`OTEL_EXPORTER_OTLP_${s}_HEADERS`, headers.optional()],
    [`OTEL_EXPORTER_OTLP_${s}_PROTOCOL`, protocol.optional()],
    [`OTEL_EXPORTER_OTLP_${s}_TIMEOUT`, timeout.optional()],
    [`OTEL_EXPORTER_OTLP_${s}_COMPRESSION`, compression.optional()],
    [`OTEL_${s}_EXPORTER`, exporter.optional()],
  ]),
) as Record<string, z.ZodType>;

/** spread into config.ts's envSchema */
export const OTLP_ENV = {
  OTEL_EXPORTER_OTLP_ENDPOINT: endpoint.optional(),
  OTEL_EXPORTER_OTLP_HEADERS: headers.optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: protocol.default('http/protobuf'),
  OTEL_EXPORTER_OTLP_TIMEOUT: timeout.default(10_000),
  OTEL_EXPORTER_OTLP_COMPRESSION: compression.default('none'),
  ...perSignal,
  OTEL_SERVICE_NAME: z.string().trim().min(1).default('clawpulse'),
  OTEL_RESOURCE_ATTRIBUTES: headers.optional(),
  /** OTLP metrics interval, ms (the SDK's default: 60 s) */
  OTEL_METRIC_EXPORT_INTERVAL: count(1000, 86_400_000).default(60_000),
  OTEL_BSP_MAX_QUEUE_SIZE: count(1, 1_000_000).default(2048),
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: count(1, 100_000).default(512),
  /** how often open runs and tool calls are exported as in-progress snapshots */
  CLAWPULSE_OTLP_PROGRESS_INTERVAL_S: count(1, 3600).default(10),
} as const;

/** header variables may carry API keys */
export const OTLP_SECRET_VARS = [
  'OTEL_EXPORTER_OTLP_HEADERS',
  ...SIGNALS.map((s) => `OTEL_EXPORTER_OTLP_${s}_HEADERS`),
];

export interface OtlpTargetConfig {
  url: string;
  headers: Record<string, string>;
  protocol: 'http/protobuf' | 'http/json';
  timeoutMs: number;
  compression: 'gzip' | 'none';
}

export interface OtlpConfig {
  traces?: OtlpTargetConfig;
  metrics?: OtlpTargetConfig;
  logs?: OtlpTargetConfig;
  serviceName: string;
  resourceAttributes: Record<string, string>;
  metricsIntervalMs: number;
  progressIntervalMs: number;
  maxQueue: number;
  batchSize: number;
}

const PATH: Record<SignalVar, string> = { TRACES: 'v1/traces', METRICS: 'v1/metrics', LOGS: 'v1/logs' };

/** the parsed variables → what the exporter needs (a signal without an endpoint is off) */
export function otlpConfig(p: Record<string, unknown>): OtlpConfig {
  const target = (s: SignalVar): OtlpTargetConfig | undefined => {
    if (p[`OTEL_${s}_EXPORTER`] === 'none') return undefined;
    const own = p[`OTEL_EXPORTER_OTLP_${s}_ENDPOINT`] as string | undefined;
    const base = p.OTEL_EXPORTER_OTLP_ENDPOINT as string | undefined;
    const url = own ?? (base ? `${base.replace(/\/+$/, '')}/${PATH[s]}` : undefined);
    if (!url) return undefined;
    return {
      url,
      headers: {
        ...(p.OTEL_EXPORTER_OTLP_HEADERS as Record<string, string> | undefined),
        ...(p[`OTEL_EXPORTER_OTLP_${s}_HEADERS`] as Record<string, string> | undefined),
      },
      protocol: (p[`OTEL_EXPORTER_OTLP_${s}_PROTOCOL`] ??
        p.OTEL_EXPORTER_OTLP_PROTOCOL) as OtlpTargetConfig['protocol'],
      timeoutMs: (p[`OTEL_EXPORTER_OTLP_${s}_TIMEOUT`] ?? p.OTEL_EXPORTER_OTLP_TIMEOUT) as number,
      compression: (p[`OTEL_EXPORTER_OTLP_${s}_COMPRESSION`] ??
        p.OTEL_EXPORTER_OTLP_COMPRESSION) as OtlpTargetConfig['compression'],
    };
  };
  const out: OtlpConfig = {
    serviceName: p.OTEL_SERVICE_NAME as string,
    resourceAttributes: (p.OTEL_RESOURCE_ATTRIBUTES as Record<string, string> | undefined) ?? {},
    metricsIntervalMs: p.OTEL_METRIC_EXPORT_INTERVAL as number,
    progressIntervalMs: (p.CLAWPULSE_OTLP_PROGRESS_INTERVAL_S as number) * 1000,
    maxQueue: p.OTEL_BSP_MAX_QUEUE_SIZE as number,
    batchSize: p.OTEL_BSP_MAX_EXPORT_BATCH_SIZE as number,
  };
  const traces = target('TRACES');
  const metrics = target('METRICS');
  const logs = target('LOGS');
  if (traces) out.traces = traces;
  if (metrics) out.metrics = metrics;
  if (logs) out.logs = logs;
  return out;
}

/** the OTLP config as it may be logged: header values hidden, URLs without userinfo/query */
export function redactOtlp(c: OtlpConfig): unknown {
  const t = (x?: OtlpTargetConfig) =>
    x && {
      ...x,
      url: x.url.replace(/\/\/[^@/]*@/, '//[set]@').replace(/\?.*$/, '?[redacted]'),
      headers: Object.fromEntries(Object.keys(x.headers).map((k) => [k, '[set]'])),
    };
  return { ...c, traces: t(c.traces), metrics: t(c.metrics), logs: t(c.logs) };
}

/**
 * Our records → OTLP request bodies through the OpenTelemetry JS SDK's own serializers
 * (@opentelemetry/otlp-transformer: protobuf and JSON, the encoders its exporters use).
 * They take the SDK's read-only shapes (ReadableSpan, ResourceMetrics, ReadableLogRecord);
 * those are plain data, built here without running an SDK tracer, meter or logger (whose
 * ids, clocks and export pipeline we do not want: ids are ours, and delivery is the daemon's
 * bounded queue).
 */
import {
  JsonLogsSerializer,
  JsonMetricsSerializer,
  JsonTraceSerializer,
  ProtobufLogsSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import type { Attrs, SpanRec } from './span-book.js';

type SdkSpan = Parameters<typeof ProtobufTraceSerializer.serializeRequest>[0][number];
type SdkResourceMetrics = Parameters<typeof ProtobufMetricsSerializer.serializeRequest>[0];
type SdkLog = Parameters<typeof ProtobufLogsSerializer.serializeRequest>[0][number];
type SdkResource = SdkSpan['resource'];
type HrTime = [number, number];

export type Protocol = 'http/protobuf' | 'http/json';

export const hr = (ms: number): HrTime => {
  const sec = Math.floor(ms / 1000);
  return [sec, Math.round((ms - sec * 1000) * 1e6)];
};

export function makeResource(attributes: Attrs): SdkResource {
  const r = {
    attributes,
    asyncAttributesPending: false,
    schemaUrl: undefined,
    waitForAsyncAttributes: async () => {},
    merge: () => r as unknown as SdkResource,
    getRawAttributes: () => Object.entries(attributes),
  };
  return r as unknown as SdkResource;
}

export const SCOPE = { name: 'clawpulse', version: '' };

const KIND = { internal: 0, client: 2 } as const;

export function toSdkSpan(s: SpanRec, resource: SdkResource): SdkSpan {
  const ctx = { traceId: s.traceId, spanId: s.spanId, traceFlags: 1 };
  const start = hr(s.start);
  const end = hr(Math.max(s.start, s.end));
  const dur = hr(Math.max(0, s.end - s.start));
  return {
    name: s.name,
    kind: KIND[s.kind],
    spanContext: () => ctx,
    ...(s.parentSpanId
      ? { parentSpanContext: { traceId: s.traceId, spanId: s.parentSpanId, traceFlags: 1 } }
      : {}),
    startTime: start,
    endTime: end,
    status: s.error !== undefined ? { code: 2, message: s.error } : { code: 0 },
    attributes: s.attrs,
    links: s.links.map((l) => ({
      context: { traceId: l.traceId, spanId: l.spanId, traceFlags: 1 },
      attributes: l.attrs,
    })),
    events: s.events.map((e) => ({ name: e.name, time: hr(e.ts), attributes: e.attrs })),
    duration: dur,
    ended: true,
    resource,
    instrumentationScope: SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  } as SdkSpan;
}

export function encodeSpans(
  spans: readonly SpanRec[],
  resource: SdkResource,
  protocol: Protocol,
): Uint8Array {
  const sdk = spans.map((s) => toSdkSpan(s, resource));
  const out =
    protocol === 'http/json'
      ? JsonTraceSerializer.serializeRequest(sdk)
      : ProtobufTraceSerializer.serializeRequest(sdk);
  return out ?? new Uint8Array(0);
}

// ---- metrics ----

export interface MetricPoint {
  attrs: Attrs;
  value: number;
}

export interface MetricRec {
  name: string;
  description: string;
  unit: string;
  kind: 'sum' | 'gauge';
  /** integer counts (asInt) or not (asDouble) */
  int: boolean;
  points: MetricPoint[];
}

/** cumulative sums since `startMs`, gauges as of `nowMs` */
export function encodeMetrics(
  metrics: readonly MetricRec[],
  resource: SdkResource,
  startMs: number,
  nowMs: number,
  protocol: Protocol,
): Uint8Array {
  const start = hr(startMs);
  const now = hr(nowMs);
  const req = {
    resource,
    scopeMetrics: [
      {
        scope: SCOPE,
        metrics: metrics.map((m) => ({
          descriptor: { name: m.name, description: m.description, unit: m.unit, valueType: m.int ? 0 : 1 },
          // AggregationTemporality.CUMULATIVE = 1 in the SDK; DataPointType SUM = 3, GAUGE = 2
          aggregationTemporality: 1,
          dataPointType: m.kind === 'sum' ? 3 : 2,
          ...(m.kind === 'sum' ? { isMonotonic: true } : {}),
          dataPoints: m.points.map((p) => ({
            startTime: m.kind === 'sum' ? start : now,
            endTime: now,
            attributes: p.attrs,
            value: p.value,
          })),
        })),
      },
    ],
  } as unknown as SdkResourceMetrics;
  const out =
    protocol === 'http/json'
      ? JsonMetricsSerializer.serializeRequest(req)
      : ProtobufMetricsSerializer.serializeRequest(req);
  return out ?? new Uint8Array(0);
}

// ---- logs ----

export interface LogRec {
  ts: number;
  /** the event's name, e.g. clawpulse.session.stuck, dispatch.failed */
  event: string;
  severity: 'INFO' | 'WARN' | 'ERROR';
  body: string;
  attrs: Attrs;
  traceId?: string;
  spanId?: string;
}

const SEVERITY = { INFO: 9, WARN: 13, ERROR: 17 } as const;

export function encodeLogs(logs: readonly LogRec[], resource: SdkResource, protocol: Protocol): Uint8Array {
  const sdk = logs.map(
    (l) =>
      ({
        hrTime: hr(l.ts),
        hrTimeObserved: hr(l.ts),
        ...(l.traceId && l.spanId
          ? { spanContext: { traceId: l.traceId, spanId: l.spanId, traceFlags: 1 } }
          : {}),
        severityText: l.severity,
        severityNumber: SEVERITY[l.severity],
        body: l.body,
        eventName: l.event,
        resource,
        instrumentationScope: SCOPE,
        attributes: { 'event.name': l.event, ...l.attrs },
        droppedAttributesCount: 0,
      }) as unknown as SdkLog,
  );
  const out =
    protocol === 'http/json'
      ? JsonLogsSerializer.serializeRequest(sdk)
      : ProtobufLogsSerializer.serializeRequest(sdk);
  return out ?? new Uint8Array(0);
}

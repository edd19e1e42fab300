/**
 * A strict OTLP/HTTP collector for tests: decodes every body against the OTLP protobuf schema
 * (the messages of opentelemetry-proto v1 for traces, metrics and logs, with span events,
 * links and log records that the receiver's own subset leaves out) or as OTLP/JSON, and
 * records every violation it finds: ids of the wrong length, all-zero ids, a span that ends
 * before it starts, a missing name or time, an unknown status code or span kind, an
 * attribute without a key or value, a sum without temporality. Tests assert `problems` is
 * empty. Also decodes traces with the receiver's schema (src/ingest/otlp/proto.ts).
 */
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import protobuf from 'protobufjs';
import { decodeTracesProto, type OtlpTraces } from '../../ingest/otlp/proto.js';

const PROTO = `
syntax = "proto3";
package strict;
message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7; } }
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; string schema_url = 3; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4; fixed32 flags = 16;
  string name = 5; int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9; uint32 dropped_attributes_count = 10;
  message Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
  repeated Event events = 11; uint32 dropped_events_count = 12;
  message Link { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; repeated KeyValue attributes = 4; uint32 dropped_attributes_count = 5; fixed32 flags = 6; }
  repeated Link links = 13; uint32 dropped_links_count = 14;
  Status status = 15;
}
message Status { string message = 2; int32 code = 3; }
message ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
message ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; string schema_url = 3; }
message ScopeMetrics { InstrumentationScope scope = 1; repeated Metric metrics = 2; string schema_url = 3; }
message Metric { string name = 1; string description = 2; string unit = 3; oneof data { Gauge gauge = 5; Sum sum = 7; } repeated KeyValue metadata = 12; }
message Gauge { repeated NumberDataPoint data_points = 1; }
message Sum { repeated NumberDataPoint data_points = 1; int32 aggregation_temporality = 2; bool is_monotonic = 3; }
message NumberDataPoint { repeated KeyValue attributes = 7; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3; oneof value { double as_double = 4; sfixed64 as_int = 6; } uint32 flags = 8; }
message ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
message ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; string schema_url = 3; }
message ScopeLogs { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; string schema_url = 3; }
message LogRecord { fixed64 time_unix_nano = 1; fixed64 observed_time_unix_nano = 11; int32 severity_number = 2; string severity_text = 3; AnyValue body = 5; repeated KeyValue attributes = 6; uint32 dropped_attributes_count = 7; fixed32 flags = 8; bytes trace_id = 9; bytes span_id = 10; string event_name = 12; }
`;

const root = protobuf.parse(PROTO, { keepCase: false }).root;
const TYPES = {
  traces: root.lookupType('strict.ExportTraceServiceRequest'),
  metrics: root.lookupType('strict.ExportMetricsServiceRequest'),
  logs: root.lookupType('strict.ExportLogsServiceRequest'),
};
const OBJ: protobuf.IConversionOptions = { longs: String, bytes: String, defaults: false, enums: Number };

type Obj = Record<string, unknown>;
export interface Received {
  signal: 'traces' | 'metrics' | 'logs';
  /** the request as OTLP/JSON (ids in hex) */
  body: Obj;
  at: number;
}

export interface StrictCollector {
  url: string;
  received: Received[];
  problems: string[];
  /** status to answer with next (a queue of them), e.g. [503, 429] */
  failWith: Array<{ status: number; retryAfter?: string }>;
  /** every span received, flattened, with its resource attributes */
  spans(): Obj[];
  /** the traces as the receiver's schema decodes them (protobuf bodies only) */
  receiverView: OtlpTraces[];
  close(): Promise<void>;
}

const hexOf = (b64: unknown) => Buffer.from(String(b64 ?? ''), 'base64').toString('hex');

export async function startStrictCollector(): Promise<StrictCollector> {
  const received: Received[] = [];
  const problems: string[] = [];
  const receiverView: OtlpTraces[] = [];
  const failWith: StrictCollector['failWith'] = [];
  const app = new Hono();
  for (const signal of ['traces', 'metrics', 'logs'] as const) {
    app.post(`/v1/${signal}`, async (c) => {
      const next = failWith.shift();
      if (next) {
        return c.text(
          'unavailable',
          next.status as 503,
          next.retryAfter ? { 'retry-after': next.retryAfter } : {},
        );
      }
      let raw = Buffer.from(await c.req.arrayBuffer());
      if (c.req.header('content-encoding') === 'gzip') raw = zlib.gunzipSync(raw);
      const type = c.req.header('content-type');
      let body: Obj;
      try {
        if (type === 'application/x-protobuf') {
          const T = TYPES[signal];
          const msg = T.decode(raw);
          const err = T.verify(msg);
          if (err) problems.push(`${signal}: ${err}`);
          body = T.toObject(msg, OBJ) as Obj;
          hexIds(body);
          if (signal === 'traces') receiverView.push(decodeTracesProto(raw));
        } else if (type === 'application/json') {
          body = JSON.parse(raw.toString('utf8')) as Obj;
        } else {
          problems.push(`${signal}: content-type ${type}`);
          return c.text('unsupported', 415);
        }
      } catch (err) {
        problems.push(`${signal}: undecodable body: ${(err as Error).message}`);
        return c.text('bad', 400);
      }
      validate(signal, body, problems);
      received.push({ signal, body, at: Date.now() });
      return c.body(null, 200);
    });
  }
  const { server, port } = await new Promise<{ server: ReturnType<typeof serve>; port: number }>(
    (resolve) => {
      const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
        resolve({ server, port: info.port }),
      );
    },
  );
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    problems,
    failWith,
    receiverView,
    spans() {
      const out: Obj[] = [];
      for (const r of received) {
        if (r.signal !== 'traces') continue;
        for (const rs of (r.body.resourceSpans as Obj[]) ?? [])
          for (const ss of (rs.scopeSpans as Obj[]) ?? [])
            for (const sp of (ss.spans as Obj[]) ?? []) out.push(sp);
      }
      return out;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

function hexIds(body: Obj): void {
  for (const rs of (body.resourceSpans as Obj[]) ?? [])
    for (const ss of (rs.scopeSpans as Obj[]) ?? [])
      for (const sp of (ss.spans as Obj[]) ?? []) {
        for (const k of ['traceId', 'spanId', 'parentSpanId']) if (sp[k]) sp[k] = hexOf(sp[k]);
        for (const l of (sp.links as Obj[]) ?? [])
          for (const k of ['traceId', 'spanId']) if (l[k]) l[k] = hexOf(l[k]);
      }
  for (const rl of (body.resourceLogs as Obj[]) ?? [])
    for (const sl of (rl.scopeLogs as Obj[]) ?? [])
      for (const lr of (sl.logRecords as Obj[]) ?? [])
        for (const k of ['traceId', 'spanId']) if (lr[k]) lr[k] = hexOf(lr[k]);
}

const nanos = (v: unknown) =>
  typeof v === 'string' && /^\d+$/.test(v) ? BigInt(v) : typeof v === 'number' ? BigInt(v) : -1n;

function checkAttrs(where: string, kvs: unknown, problems: string[]): void {
  for (const kv of (kvs as Obj[]) ?? []) {
    if (!kv.key) problems.push(`${where}: attribute without key`);
    const v = kv.value as Obj | undefined;
    if (!v || Object.keys(v).length !== 1)
      problems.push(`${where}: attribute ${String(kv.key)} without exactly one value`);
  }
}

function checkId(where: string, id: unknown, len: number, problems: string[], optional = false): void {
  if ((id === undefined || id === '') && optional) return;
  if (typeof id !== 'string' || !new RegExp(`^[0-9a-f]{${len}}$`).test(id))
    problems.push(`${where}: bad id ${String(id)}`);
  else if (/^0+$/.test(id)) problems.push(`${where}: all-zero id`);
}

function validate(signal: Received['signal'], body: Obj, problems: string[]): void {
  if (signal === 'traces') {
    for (const rs of (body.resourceSpans as Obj[]) ?? []) {
      checkAttrs('resource', (rs.resource as Obj | undefined)?.attributes, problems);
      for (const ss of (rs.scopeSpans as Obj[]) ?? [])
        for (const sp of (ss.spans as Obj[]) ?? []) {
          const w = `span ${String(sp.name)}`;
          checkId(w, sp.traceId, 32, problems);
          checkId(w, sp.spanId, 16, problems);
          checkId(`${w} parent`, sp.parentSpanId, 16, problems, true);
          if (!sp.name) problems.push('span without name');
          const s = nanos(sp.startTimeUnixNano);
          const e = nanos(sp.endTimeUnixNano);
          if (s <= 0n || e <= 0n) problems.push(`${w}: missing times`);
          if (e < s) problems.push(`${w}: ends before it starts`);
          if (![0, 1, 2, 3, 4, 5, undefined].includes(sp.kind as number))
            problems.push(`${w}: kind ${String(sp.kind)}`);
          const code = (sp.status as Obj | undefined)?.code;
          if (![0, 1, 2, undefined].includes(code as number)) problems.push(`${w}: status ${String(code)}`);
          checkAttrs(w, sp.attributes, problems);
          for (const ev of (sp.events as Obj[]) ?? []) {
            if (!ev.name) problems.push(`${w}: event without name`);
            if (nanos(ev.timeUnixNano) <= 0n) problems.push(`${w}: event without time`);
            checkAttrs(`${w} event`, ev.attributes, problems);
          }
          for (const l of (sp.links as Obj[]) ?? []) {
            checkId(`${w} link`, l.traceId, 32, problems);
            checkId(`${w} link`, l.spanId, 16, problems);
          }
        }
    }
  } else if (signal === 'metrics') {
    for (const rm of (body.resourceMetrics as Obj[]) ?? [])
      for (const sm of (rm.scopeMetrics as Obj[]) ?? [])
        for (const m of (sm.metrics as Obj[]) ?? []) {
          const w = `metric ${String(m.name)}`;
          if (!m.name) problems.push('metric without name');
          const data = (m.sum ?? m.gauge) as Obj | undefined;
          if (!data) problems.push(`${w}: neither sum nor gauge`);
          if (m.sum && (m.sum as Obj).aggregationTemporality !== 2) problems.push(`${w}: sum not cumulative`);
          for (const p of (data?.dataPoints as Obj[]) ?? []) {
            if (p.asInt === undefined && p.asDouble === undefined) problems.push(`${w}: point without value`);
            if (nanos(p.timeUnixNano) <= 0n) problems.push(`${w}: point without time`);
            checkAttrs(w, p.attributes, problems);
          }
        }
  } else {
    for (const rl of (body.resourceLogs as Obj[]) ?? [])
      for (const sl of (rl.scopeLogs as Obj[]) ?? [])
        for (const lr of (sl.logRecords as Obj[]) ?? []) {
          if (nanos(lr.timeUnixNano) <= 0n) problems.push('log record without time');
          if (!lr.body) problems.push('log record without body');
          checkAttrs('log record', lr.attributes, problems);
          checkId('log record', lr.traceId, 32, problems, true);
          checkId('log record', lr.spanId, 16, problems, true);
        }
  }
}

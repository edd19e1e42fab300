/**
 * The OTLP messages we decode, vendored from open-telemetry/opentelemetry-proto (v1, stable
 * field numbers) as .proto text so the build needs no extra files. Only what metrics and trace
 * export use; messages we do not read (exponential histogram, summary, exemplars' detail) are
 * left out and protobuf skips them as unknown fields.
 *
 * Both wire forms are turned into one plain shape (`OtlpTraces` / `OtlpMetrics`, the OTLP/JSON
 * field names: lowerCamelCase, 64-bit numbers as strings, ids as lowercase hex) so the mappers
 * never care which one arrived.
 */
import protobuf from 'protobufjs';

const PROTO = `
syntax = "proto3";
package otlp;

message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }

message ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
message ExportMetricsServiceResponse { ExportMetricsPartialSuccess partial_success = 1; }
message ExportMetricsPartialSuccess { int64 rejected_data_points = 1; string error_message = 2; }
message ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; string schema_url = 3; }
message ScopeMetrics { InstrumentationScope scope = 1; repeated Metric metrics = 2; string schema_url = 3; }
message Metric {
  string name = 1;
  string description = 2;
  string unit = 3;
  oneof data {
    Gauge gauge = 5;
    Sum sum = 7;
    Histogram histogram = 9;
  }
}
message Gauge { repeated NumberDataPoint data_points = 1; }
message Sum { repeated NumberDataPoint data_points = 1; int32 aggregation_temporality = 2; bool is_monotonic = 3; }
message Histogram { repeated HistogramDataPoint data_points = 1; int32 aggregation_temporality = 2; }
message NumberDataPoint {
  repeated KeyValue attributes = 7;
  fixed64 start_time_unix_nano = 2;
  fixed64 time_unix_nano = 3;
  oneof value {
    double as_double = 4;
    sfixed64 as_int = 6;
  }
  uint32 flags = 8;
}
message HistogramDataPoint {
  repeated KeyValue attributes = 9;
  fixed64 start_time_unix_nano = 2;
  fixed64 time_unix_nano = 3;
  fixed64 count = 4;
  optional double sum = 5;
  repeated fixed64 bucket_counts = 6;
  repeated double explicit_bounds = 7;
  uint32 flags = 10;
  optional double min = 11;
  optional double max = 12;
}

message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ExportTraceServiceResponse { ExportTracePartialSuccess partial_success = 1; }
message ExportTracePartialSuccess { int64 rejected_spans = 1; string error_message = 2; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; string schema_url = 3; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3; }
message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  string trace_state = 3;
  bytes parent_span_id = 4;
  fixed32 flags = 16;
  string name = 5;
  int32 kind = 6;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9;
  uint32 dropped_attributes_count = 10;
  Status status = 15;
}
message Status { string message = 2; int32 code = 3; }
`;

export const otlpRoot = protobuf.parse(PROTO, { keepCase: false }).root;
const T = (name: string) => otlpRoot.lookupType(`otlp.${name}`);
export const ExportMetricsServiceRequest = T('ExportMetricsServiceRequest');
export const ExportMetricsServiceResponse = T('ExportMetricsServiceResponse');
export const ExportTraceServiceRequest = T('ExportTraceServiceRequest');
export const ExportTraceServiceResponse = T('ExportTraceServiceResponse');

// ---- the plain shape (OTLP/JSON) ----

export interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number | string;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
  bytesValue?: string;
}
export interface KeyValue {
  key: string;
  value?: AnyValue;
}
export interface NumberPoint {
  attributes?: KeyValue[];
  startTimeUnixNano?: string | number;
  timeUnixNano?: string | number;
  asDouble?: number | string;
  asInt?: string | number;
}
export interface HistogramPoint {
  attributes?: KeyValue[];
  startTimeUnixNano?: string | number;
  timeUnixNano?: string | number;
  count?: string | number;
  sum?: number;
  min?: number;
  max?: number;
}
export interface OtlpMetric {
  name?: string;
  gauge?: { dataPoints?: NumberPoint[] };
  sum?: { dataPoints?: NumberPoint[]; aggregationTemporality?: number | string; isMonotonic?: boolean };
  histogram?: { dataPoints?: HistogramPoint[]; aggregationTemporality?: number | string };
}
export interface OtlpMetrics {
  resourceMetrics?: Array<{
    resource?: { attributes?: KeyValue[] };
    scopeMetrics?: Array<{ scope?: { name?: string }; metrics?: OtlpMetric[] }>;
  }>;
}
export interface OtlpSpan {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  name?: string;
  startTimeUnixNano?: string | number;
  endTimeUnixNano?: string | number;
  attributes?: KeyValue[];
  status?: { code?: number | string; message?: string };
}
export interface OtlpTraces {
  resourceSpans?: Array<{
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: Array<{ scope?: { name?: string }; spans?: OtlpSpan[] }>;
  }>;
}

const TO_OBJECT: protobuf.IConversionOptions = {
  longs: String,
  enums: Number,
  bytes: String,
  defaults: false,
  oneofs: false,
};

/** protobuf bytes → the plain shape; throws on bytes that are not a valid message */
export function decodeMetricsProto(buf: Uint8Array): OtlpMetrics {
  return ExportMetricsServiceRequest.toObject(
    ExportMetricsServiceRequest.decode(buf),
    TO_OBJECT,
  ) as OtlpMetrics;
}

export function decodeTracesProto(buf: Uint8Array): OtlpTraces {
  const obj = ExportTraceServiceRequest.toObject(
    ExportTraceServiceRequest.decode(buf),
    TO_OBJECT,
  ) as OtlpTraces;
  // protobufjs renders bytes as base64; OTLP/JSON (and our dedupe keys) use hex
  for (const rs of obj.resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) {
      for (const sp of ss.spans ?? []) {
        if (sp.traceId) sp.traceId = b64hex(sp.traceId);
        if (sp.spanId) sp.spanId = b64hex(sp.spanId);
        if (sp.parentSpanId) sp.parentSpanId = b64hex(sp.parentSpanId);
      }
    }
  }
  return obj;
}

function b64hex(s: string): string {
  return Buffer.from(s, 'base64').toString('hex');
}

/** builds protobuf bodies from the plain shape (ids in hex): used by tests and the bench */
export function encodeTracesProto(obj: OtlpTraces): Uint8Array {
  const copy = structuredClone(obj);
  for (const rs of copy.resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) {
      for (const sp of ss.spans ?? []) {
        for (const k of ['traceId', 'spanId', 'parentSpanId'] as const) {
          const v = sp[k];
          if (v) (sp as Record<string, unknown>)[k] = Buffer.from(v, 'hex');
        }
      }
    }
  }
  return ExportTraceServiceRequest.encode(ExportTraceServiceRequest.fromObject(copy)).finish();
}

export function encodeMetricsProto(obj: OtlpMetrics): Uint8Array {
  return ExportMetricsServiceRequest.encode(ExportMetricsServiceRequest.fromObject(obj)).finish();
}

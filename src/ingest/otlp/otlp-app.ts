/**
 * The OTLP/HTTP receiver: `POST /v1/metrics` and `POST /v1/traces`, as OpenClaw's
 * diagnostics-otel plugin sends them (OTLP/HTTP protobuf; OTLP/JSON accepted too; gzip).
 * Mounted by the daemon's HTTP server at the root.
 *
 * It answers like a collector: 200 with an empty response (or `partialSuccess` naming the
 * points it could not use), 400 for a body it cannot decode, 401 without the bearer token,
 * 413 past the size cap (checked on the wire and again after gunzip), 415 for other media
 * types/encodings, 503 when the pipeline refused the batch (exporters retry on 503).
 */
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { type Context, Hono } from 'hono';
import { type Clock, systemClock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import type { PulseEvent } from '../../model/events.js';
import { createSanitizer, logAnomalies } from '../sanitize.js';
import type { IngestSink } from '../source.js';
import { createMetricsMapper } from './map-metrics.js';
import { mapTraces } from './map-traces.js';
import {
  decodeMetricsProto,
  decodeTracesProto,
  ExportMetricsServiceResponse,
  ExportTraceServiceResponse,
  type OtlpMetrics,
  type OtlpTraces,
} from './proto.js';

export interface OtlpAppDeps {
  sink: IngestSink;
  logger: Logger;
  /** when set, requests need `Authorization: Bearer <token>` */
  token?: string;
  maxBodyBytes: number;
  clock?: Clock;
}

export interface OtlpStats {
  requests: number;
  /** bodies that could not be decoded (400) */
  malformed: number;
  /** points/spans inside good bodies that could not be used */
  rejected: number;
  unauthorized: number;
  tooLarge: number;
  events: number;
  /** numbers out of bounds replaced or dropped, and integers that were not exact (src/ingest/sanitize.ts) */
  anomalies: number;
  lastEventAt?: number;
}

export interface OtlpReceiver {
  app: Hono;
  stats(): OtlpStats;
}

class HttpError extends Error {
  constructor(
    readonly status: 400 | 401 | 413 | 415,
    message: string,
  ) {
    super(message);
  }
}

type Signal = 'metrics' | 'traces' | 'logs';
const PROTO_HEADERS = { 'content-type': 'application/x-protobuf' };

export function createOtlpReceiver(deps: OtlpAppDeps): OtlpReceiver {
  const { sink, maxBodyBytes } = deps;
  const clock = deps.clock ?? systemClock;
  const log = deps.logger.child({ source: 'otlp' });
  const metrics = createMetricsMapper();
  const sane = createSanitizer({ now: () => clock.now(), onAnomaly: logAnomalies(log) });
  const stats: Omit<OtlpStats, 'anomalies'> = {
    requests: 0,
    malformed: 0,
    rejected: 0,
    unauthorized: 0,
    tooLarge: 0,
    events: 0,
  };
  const expected = deps.token ? Buffer.from(`Bearer ${deps.token}`) : undefined;

  function authorized(header: string | undefined): boolean {
    if (!expected) return true;
    const got = Buffer.from(header ?? '');
    return got.length === expected.length && crypto.timingSafeEqual(got, expected);
  }

  async function readBody(c: Context): Promise<Buffer> {
    const declared = Number(c.req.header('content-length'));
    if (Number.isFinite(declared) && declared > maxBodyBytes)
      throw new HttpError(413, `body larger than ${maxBodyBytes} bytes`);
    const body = c.req.raw.body;
    if (!body) return Buffer.alloc(0);
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBodyBytes) {
        await reader.cancel().catch(() => undefined);
        throw new HttpError(413, `body larger than ${maxBodyBytes} bytes`);
      }
      chunks.push(value);
    }
    return Buffer.concat(chunks);
  }

  function inflate(raw: Buffer, encoding: string): Buffer {
    if (encoding === '' || encoding === 'identity') return raw;
    if (encoding !== 'gzip' && encoding !== 'x-gzip')
      throw new HttpError(415, `unsupported content-encoding: ${encoding}`);
    try {
      // the cap applies to what the body expands to, so a small gzip bomb is refused too
      return zlib.gunzipSync(raw, { maxOutputLength: maxBodyBytes });
    } catch (err) {
      if (err instanceof RangeError || (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new HttpError(413, `decompressed body larger than ${maxBodyBytes} bytes`);
      }
      throw new HttpError(400, `gzip: ${(err as Error).message}`);
    }
  }

  function decode(
    signal: Exclude<Signal, 'logs'>,
    kind: 'proto' | 'json',
    body: Buffer,
  ): OtlpMetrics | OtlpTraces {
    try {
      if (kind === 'proto') return signal === 'metrics' ? decodeMetricsProto(body) : decodeTracesProto(body);
      const v: unknown = JSON.parse(body.toString('utf8'));
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
      return v as OtlpMetrics | OtlpTraces;
    } catch (err) {
      throw new HttpError(400, `${kind === 'proto' ? 'protobuf' : 'json'}: ${(err as Error).message}`);
    }
  }

  function respond(
    c: Context,
    signal: Exclude<Signal, 'logs'>,
    kind: 'proto' | 'json',
    rejected: number,
  ): Response {
    const partial =
      rejected > 0
        ? signal === 'metrics'
          ? { rejectedDataPoints: rejected, errorMessage: `${rejected} data point(s) had no usable value` }
          : { rejectedSpans: rejected, errorMessage: `${rejected} span(s) had no ids or times` }
        : undefined;
    if (kind === 'json') return c.json(partial ? { partialSuccess: partial } : {}, 200);
    const type = signal === 'metrics' ? ExportMetricsServiceResponse : ExportTraceServiceResponse;
    const bytes = type.encode(type.fromObject(partial ? { partialSuccess: partial } : {})).finish();
    return c.body(new Uint8Array(bytes), 200, { 'content-type': 'application/x-protobuf' });
  }

  async function handle(c: Context, signal: Signal): Promise<Response> {
    stats.requests++;
    try {
      if (!authorized(c.req.header('authorization'))) {
        stats.unauthorized++;
        throw new HttpError(401, 'missing or wrong bearer token');
      }
      const mediaType = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      const kind =
        mediaType === 'application/x-protobuf' || mediaType === 'application/protobuf'
          ? 'proto'
          : mediaType === 'application/json'
            ? 'json'
            : undefined;
      if (!kind) throw new HttpError(415, `unsupported content-type: ${mediaType || '(none)'}`);
      const encoding = (c.req.header('content-encoding') ?? '').trim().toLowerCase();
      const body = inflate(await readBody(c), encoding);
      if (signal === 'logs') {
        // accepted and dropped: an OpenClaw with `diagnostics.otel.logs: true` would otherwise
        // log an export failure every flush; the transcripts already carry what we show
        return kind === 'json' ? c.json({}, 200) : c.body(new Uint8Array(0), 200, PROTO_HEADERS);
      }
      const req = decode(signal, kind, body);
      const now = clock.now();
      let mapped: { events: PulseEvent[]; rejected: number; anomalies?: number };
      try {
        mapped =
          signal === 'metrics' ? metrics.map(req as OtlpMetrics, now) : mapTraces(req as OtlpTraces, now);
      } catch (err) {
        // a body that decoded but has the wrong structure (e.g. resourceSpans: 5)
        throw new HttpError(400, `unexpected ${signal} structure: ${(err as Error).message}`);
      }
      stats.rejected += mapped.rejected;
      if (mapped.anomalies) sane.count(mapped.anomalies);
      if (mapped.events.length) {
        sane.events(mapped.events);
        try {
          sink.ingest(mapped.events);
        } catch (err) {
          log.error({ err, signal }, 'pipeline refused OTLP batch');
          return c.json({ error: 'pipeline unavailable' }, 503);
        }
        stats.events += mapped.events.length;
        for (const e of mapped.events)
          if (stats.lastEventAt === undefined || e.ts > stats.lastEventAt) stats.lastEventAt = e.ts;
      }
      return respond(c, signal, kind, mapped.rejected);
    } catch (err) {
      if (err instanceof HttpError) {
        if (err.status === 400) stats.malformed++;
        if (err.status === 413) stats.tooLarge++;
        log.warn({ signal, status: err.status, err: err.message }, 'OTLP request refused');
        return c.json({ error: err.message }, err.status);
      }
      log.error({ err, signal }, 'OTLP request failed');
      stats.malformed++;
      return c.json({ error: 'bad request' }, 400);
    }
  }

  const app = new Hono();
  app.post('/v1/metrics', (c) => handle(c, 'metrics'));
  app.post('/v1/traces', (c) => handle(c, 'traces'));
  app.post('/v1/logs', (c) => handle(c, 'logs'));
  return { app, stats: () => ({ ...stats, anomalies: sane.anomalies }) };
}

export function createOtlpApp(deps: OtlpAppDeps): Hono {
  return createOtlpReceiver(deps).app;
}

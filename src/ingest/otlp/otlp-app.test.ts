import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { serve } from '@hono/node-server';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../infra/clock.js';
import { silentLogger } from '../../infra/logger.js';
import type { PulseEvent } from '../../model/events.js';
import type { IngestSink } from '../source.js';
import { createOtlpReceiver, type OtlpAppDeps } from './otlp-app.js';
import {
  ExportMetricsServiceResponse,
  encodeMetricsProto,
  encodeTracesProto,
  type KeyValue,
  type OtlpMetrics,
  type OtlpTraces,
} from './proto.js';

const S = (k: string, v: string): KeyValue => ({ key: k, value: { stringValue: v } });
const I = (k: string, v: number): KeyValue => ({ key: k, value: { intValue: String(v) } });
const T0 = 1795272000;
const ns = (sec: number, ms = 0) => `${BigInt(T0 + sec) * 1_000_000_000n + BigInt(ms) * 1_000_000n}`;
const TRACE = '0af7651916cd43dd8448eb211c80319c';

class Collect implements IngestSink {
  events: PulseEvent[] = [];
  fail = false;
  ingest(events: readonly PulseEvent[]): void {
    if (this.fail) throw new Error('store closed');
    this.events.push(...events);
  }
}

const servers: Array<{ close(cb?: () => void): unknown }> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

async function start(extra: Partial<OtlpAppDeps> = {}) {
  const sink = new Collect();
  const rx = createOtlpReceiver({
    sink,
    logger: silentLogger,
    maxBodyBytes: 64 * 1024,
    clock: new ManualClock(5),
    ...extra,
  });
  const { server, port } = await new Promise<{ server: ReturnType<typeof serve>; port: number }>(
    (resolve) => {
      const server = serve({ fetch: rx.app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
        resolve({ server, port: info.port }),
      );
    },
  );
  servers.push(server);
  const url = (p: string) => `http://127.0.0.1:${port}${p}`;
  return { sink, rx, url };
}

function tokensReq(input: number, output: number, sec: number): OtlpMetrics {
  const attrs = [
    S('openclaw.agent', 'main'),
    S('openclaw.provider', 'fake'),
    S('openclaw.model', 'fake-model'),
    S('openclaw.channel', 'webchat'),
  ];
  return {
    resourceMetrics: [
      {
        resource: { attributes: [S('service.name', 'openclaw-gateway')] },
        scopeMetrics: [
          {
            scope: { name: 'openclaw' },
            metrics: [
              {
                name: 'openclaw.tokens',
                sum: {
                  aggregationTemporality: 2,
                  isMonotonic: true,
                  dataPoints: [
                    {
                      attributes: [...attrs, S('openclaw.token', 'input')],
                      startTimeUnixNano: ns(0),
                      timeUnixNano: ns(sec),
                      asInt: String(input),
                    },
                    {
                      attributes: [...attrs, S('openclaw.token', 'output')],
                      startTimeUnixNano: ns(0),
                      timeUnixNano: ns(sec),
                      asInt: String(output),
                    },
                    {
                      attributes: [...attrs, S('openclaw.token', 'total')],
                      startTimeUnixNano: ns(0),
                      timeUnixNano: ns(sec),
                      asInt: String(input + output),
                    },
                  ],
                },
              },
              { name: 'openclaw.run.duration_ms', histogram: { dataPoints: [{ count: '1', sum: 5 }] } },
            ],
          },
        ],
      },
    ],
  };
}

function tracesReq(): OtlpTraces {
  const sp = (
    spanId: string,
    name: string,
    s: number,
    e: number,
    attributes: KeyValue[],
    status?: { code: number; message?: string },
  ) => ({
    traceId: TRACE,
    spanId,
    parentSpanId: spanId === 'b7ad6b7169203331' ? undefined : 'b7ad6b7169203331',
    name,
    startTimeUnixNano: ns(0, s),
    endTimeUnixNano: ns(0, e),
    attributes,
    ...(status ? { status } : {}),
  });
  return {
    resourceSpans: [
      {
        resource: { attributes: [S('service.name', 'openclaw-gateway')] },
        scopeSpans: [
          {
            spans: [
              sp('00f067aa0ba902b7', 'openclaw.model.call', 10, 400, [
                S('openclaw.agent', 'main'),
                S('gen_ai.request.model', 'fake-model'),
              ]),
              sp('00f067aa0ba902b8', 'openclaw.tool.execution', 410, 660, [
                S('openclaw.agent', 'main'),
                S('gen_ai.tool.name', 'exec'),
                S('gen_ai.tool.call.id', 'call_1'),
              ]),
              sp(
                '00f067aa0ba902b9',
                'openclaw.tool.execution',
                670,
                700,
                [
                  S('openclaw.agent', 'main'),
                  S('gen_ai.tool.name', 'read'),
                  S('gen_ai.tool.call.id', 'call_2'),
                ],
                {
                  code: 2,
                  message: 'ENOENT',
                },
              ),
              sp(
                '00f067aa0ba902ba',
                'openclaw.model.call',
                710,
                900,
                [S('openclaw.agent', 'main'), I('http.response.status_code', 529)],
                { code: 2, message: 'overloaded' },
              ),
              sp(
                'b7ad6b7169203331',
                'openclaw.run',
                0,
                1000,
                [S('openclaw.agent', 'main'), S('openclaw.sessionKey', 'unknown')],
                { code: 2, message: 'model overloaded' },
              ),
              { name: 'openclaw.run' }, // no ids: rejected
            ],
          },
        ],
      },
    ],
  };
}

describe('OTLP/HTTP receiver', () => {
  it('accepts gzip protobuf metrics and turns cumulative token counters into deltas', async () => {
    const { sink, url, rx } = await start();
    const post = (m: OtlpMetrics) =>
      fetch(url('/v1/metrics'), {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' },
        body: zlib.gzipSync(encodeMetricsProto(m)),
      });
    const r1 = await post(tokensReq(100, 20, 5));
    expect(r1.status).toBe(200);
    expect(r1.headers.get('content-type')).toBe('application/x-protobuf');
    expect(
      ExportMetricsServiceResponse.toObject(
        ExportMetricsServiceResponse.decode(new Uint8Array(await r1.arrayBuffer())),
      ),
    ).toEqual({});
    const r2 = await post(tokensReq(160, 25, 10));
    expect(r2.status).toBe(200);
    const tok = sink.events.filter((e) => e.type === 'llm.tokens');
    expect(tok).toHaveLength(2);
    expect(tok[0]).toMatchObject({
      input: 100,
      output: 20,
      model: 'fake-model',
      provider: 'fake',
      sessionKey: 'otlp:main',
      source: 'otlp',
    });
    expect(tok[1]).toMatchObject({ input: 60, output: 5, ts: (T0 + 10) * 1000 });
    expect(rx.stats()).toMatchObject({ requests: 2, malformed: 0, events: 2 });
  });

  it('accepts OTLP/JSON traces and maps runs, model calls and tool executions', async () => {
    const { sink, url } = await start();
    const res = await fetch(url('/v1/traces'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(tracesReq()),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      partialSuccess: { rejectedSpans: 1, errorMessage: expect.any(String) },
    });
    const types = sink.events.map((e) => e.type);
    // in time order: the run span came last in the request, its start is the earliest fact
    expect(types).toEqual([
      'agent.started',
      'agent.step_started',
      'tool.call',
      'tool.output',
      'tool.call',
      'tool.error',
      'agent.step_started',
      'llm.error',
      'agent.finished',
    ]);
    const byType = (t: string) => sink.events.filter((e) => e.type === t);
    expect(byType('tool.output')[0]).toMatchObject({
      callId: 'call_1',
      name: 'exec',
      durationMs: 250,
      runId: TRACE,
    });
    expect(byType('tool.error')[0]).toMatchObject({
      callId: 'call_2',
      name: 'read',
      error: 'ENOENT',
      durationMs: 30,
    });
    expect(byType('llm.error')[0]).toMatchObject({ status: 529, message: 'overloaded', retryable: true });
    expect(byType('agent.finished')[0]).toMatchObject({
      outcome: 'error',
      error: 'model overloaded',
      ts: T0 * 1000 + 1000,
    });
    expect(sink.events.every((e) => e.sessionKey === 'otlp:main' && e.agentId === 'main')).toBe(true);
    expect(new Set(sink.events.map((e) => e.dedupeKey)).size).toBe(sink.events.length);
    expect(byType('tool.call')[0]?.dedupeKey).toBe(`otlp/${TRACE}/00f067aa0ba902b8/tool.call`);
  });

  it('gives protobuf traces the same dedupe keys as JSON ones', async () => {
    const { sink, url } = await start();
    const res = await fetch(url('/v1/traces'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: Buffer.from(encodeTracesProto(tracesReq())),
    });
    expect(res.status).toBe(200);
    expect(sink.events.find((e) => e.type === 'tool.call')?.dedupeKey).toBe(
      `otlp/${TRACE}/00f067aa0ba902b8/tool.call`,
    );
  });

  it('refuses oversize bodies (raw and after gunzip) with 413 and a JSON error', async () => {
    const { sink, url, rx } = await start({ maxBodyBytes: 2048 });
    const big = JSON.stringify({ resourceSpans: [], pad: 'x'.repeat(5000) });
    const r1 = await fetch(url('/v1/traces'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: big,
    });
    expect(r1.status).toBe(413);
    expect((await r1.json()).error).toMatch(/larger than 2048/);
    const bomb = zlib.gzipSync(Buffer.from(big)); // small on the wire, big inflated
    expect(bomb.length).toBeLessThan(2048);
    const r2 = await fetch(url('/v1/traces'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: bomb,
    });
    expect(r2.status).toBe(413);
    expect(sink.events).toHaveLength(0);
    expect(rx.stats().tooLarge).toBe(2);
  });

  it('requires the bearer token when one is set', async () => {
    const { url, sink } = await start({ token: 's3cret' });
    const body = JSON.stringify(tracesReq());
    const headers = { 'content-type': 'application/json' };
    expect((await fetch(url('/v1/traces'), { method: 'POST', headers, body })).status).toBe(401);
    expect(
      (
        await fetch(url('/v1/traces'), {
          method: 'POST',
          headers: { ...headers, authorization: 'Bearer wrong!' },
          body,
        })
      ).status,
    ).toBe(401);
    expect(sink.events).toHaveLength(0);
    const ok = await fetch(url('/v1/traces'), {
      method: 'POST',
      headers: { ...headers, authorization: 'Bearer s3cret' },
      body,
    });
    expect(ok.status).toBe(200);
    expect(sink.events.length).toBeGreaterThan(0);
  });

  it('answers 400 to garbage, 415 to other media types, 503 when the pipeline refuses, and keeps serving', async () => {
    const { url, sink, rx } = await start();
    const garbage = await fetch(url('/v1/metrics'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3]),
    });
    expect(garbage.status).toBe(400);
    const badJson = await fetch(url('/v1/traces'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"resourceSpans": [',
    });
    expect(badJson.status).toBe(400);
    const badShape = await fetch(url('/v1/traces'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"resourceSpans": 5}',
    });
    expect(badShape.status).toBe(400);
    const badGzip = await fetch(url('/v1/traces'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: 'not gzip at all',
    });
    expect(badGzip.status).toBe(400);
    const text = await fetch(url('/v1/traces'), {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hi',
    });
    expect(text.status).toBe(415);
    // logs are accepted and dropped (an OpenClaw exporting logs must not see export failures)
    const logs = await fetch(url('/v1/logs'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"resourceLogs":[]}',
    });
    expect(logs.status).toBe(200);
    expect(await logs.json()).toEqual({});
    expect(rx.stats().malformed).toBe(4);

    sink.fail = true;
    const refused = await fetch(url('/v1/traces'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(tracesReq()),
    });
    expect(refused.status).toBe(503);
    sink.fail = false;
    const ok = await fetch(url('/v1/metrics'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(tokensReq(1, 1, 1)),
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({});
    expect(sink.events.filter((e) => e.type === 'llm.tokens')).toHaveLength(1);
  });
});

describe('OTLP receiver: absurd numbers', () => {
  it('an asInt of 2^64 is not 1.8e19 tokens, a time of 2^64 ns is not the year 2554; both counted', async () => {
    const now = Date.UTC(2026, 11, 7, 12);
    const { sink, rx, url } = await start({ clock: new ManualClock(now) });
    const point = (token: string, asInt: string, timeUnixNano: string) => ({
      attributes: [S('openclaw.token', token), S('openclaw.sessionKey', 'agent:main:main')],
      timeUnixNano,
      asInt,
    });
    const body: OtlpMetrics = {
      resourceMetrics: [
        {
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'openclaw.tokens',
                  sum: {
                    aggregationTemporality: 1,
                    dataPoints: [
                      point('input', '18446744073709551616', '18446744073709551615'),
                      point('cache_read', '9007199254740993', '18446744073709551615'),
                      point('output', '-9223372036854775808', '18446744073709551615'),
                      point('output', '12', '18446744073709551615'),
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    for (const [type, payload] of [
      ['application/json', JSON.stringify(body)],
      ['application/x-protobuf', encodeMetricsProto(body)],
    ] as const) {
      const res = await fetch(url('/v1/metrics'), {
        method: 'POST',
        headers: { 'content-type': type },
        body: typeof payload === 'string' ? payload : new Uint8Array(payload),
      });
      expect(res.status).toBe(200);
    }
    const tokens = sink.events.filter((e) => e.type === 'llm.tokens');
    // the same points in both encodings: the same event (one dedupe key)
    expect(tokens).toHaveLength(2);
    expect(tokens[1]).toEqual(tokens[0]);
    expect(tokens[0]).toMatchObject({ ts: now, input: 0, cacheRead: 0, output: 12 });
    // JSON: three inexact or negative integers and the time; protobuf cannot carry 2^64 in an
    // sfixed64 (it wraps to 0 when encoded), so two and the time
    expect(rx.stats().anomalies).toBe(7);
    expect(rx.stats().rejected).toBe(5);
  });
});

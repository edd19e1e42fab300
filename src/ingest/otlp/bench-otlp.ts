/**
 * Benchmark of the OTLP receiver over real HTTP on 127.0.0.1: gzip protobuf trace exports of
 * `spans` spans each, sent `requests` times, 4 at a time.
 * Run: npx tsx src/ingest/otlp/bench-otlp.ts [requests] [spans]
 */
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { serve } from '@hono/node-server';
import { silentLogger } from '../../infra/logger.js';
import type { PulseEvent } from '../../model/events.js';
import { createOtlpReceiver } from './otlp-app.js';
import { encodeTracesProto, type OtlpTraces } from './proto.js';

const requests = Number(process.argv[2] ?? 500);
const spansPer = Number(process.argv[3] ?? 100);
let events = 0;
const rx = createOtlpReceiver({
  sink: {
    ingest: (ev: readonly PulseEvent[]) => {
      events += ev.length;
    },
  },
  logger: silentLogger,
  maxBodyBytes: 8 * 1024 * 1024,
});
const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
  const s = serve({ fetch: rx.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
});
const port = (server.address() as AddressInfo).port;

function body(n: number): Buffer {
  const t0 = BigInt(Date.now()) * 1_000_000n;
  const spans = Array.from({ length: spansPer }, (_, i) => ({
    traceId: (n * 1000 + i).toString(16).padStart(32, '0'),
    spanId: (i + 1).toString(16).padStart(16, '0'),
    name: i % 2 ? 'openclaw.tool.execution' : 'openclaw.model.call',
    startTimeUnixNano: String(t0),
    endTimeUnixNano: String(t0 + 5_000_000n),
    attributes: [
      { key: 'openclaw.agent', value: { stringValue: 'main' } },
      { key: 'gen_ai.tool.name', value: { stringValue: 'exec' } },
      { key: 'gen_ai.tool.call.id', value: { stringValue: `call_${i}` } },
    ],
  }));
  const req: OtlpTraces = { resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ spans }] }] };
  return zlib.gzipSync(encodeTracesProto(req));
}

const bodies = Array.from({ length: 8 }, (_, i) => body(i));
const t = process.hrtime.bigint();
let sent = 0;
async function worker(): Promise<void> {
  while (sent < requests) {
    const b = bodies[sent++ % bodies.length] as Buffer;
    const res = await fetch(`http://127.0.0.1:${port}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' },
      body: new Uint8Array(b),
    });
    if (res.status !== 200) throw new Error(`status ${res.status}`);
    await res.arrayBuffer();
  }
}
await Promise.all([worker(), worker(), worker(), worker()]);
const ms = Number(process.hrtime.bigint() - t) / 1e6;
console.log(
  `${requests} requests × ${spansPer} spans in ${ms.toFixed(0)} ms: ${Math.round((requests / ms) * 1000)} req/s, ` +
    `${Math.round(((requests * spansPer) / ms) * 1000)} spans/s, ${events} events`,
);
server.close();

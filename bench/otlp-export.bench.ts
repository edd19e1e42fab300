/**
 * OTLP export benchmark (issue 23): what the exporter costs ingest, and how soon an event is at
 * the collector.
 *
 *  - ingest: the recorded OpenClaw sessions (test/fixtures v2026.7.35 + the errors recording),
 *    copied into many sessions, into a pipeline with and without the exporter (traces, metrics
 *    and logs to a collector on 127.0.0.1 that reads and answers 200), alternating, same run.
 *    "ingest" is the pipeline call alone (the exporter's listener is inside it); "+ export"
 *    waits until everything was delivered (encoding and HTTP included).
 *  - latency: runs fed one batch every 2 ms; event → exported is from the `ingest` call to the
 *    collector having decoded the run's span.
 *
 *   npm run bench -- otlp-export
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { decodeTracesProto } from '../src/ingest/otlp/proto.js';
import type { PulseEvent } from '../src/model/events.js';
import type { Pipeline } from '../src/pipeline.js';
import type { OtlpExporter } from '../src/sinks/otlp/exporter.js';
import { cleanUp, drained, exporterTo, makePipeline, recordedEvents } from '../src/sinks/otlp/test-kit.js';
import { cpuMs } from './support.js';

class Clock {
  now = () => Date.now();
  setTimeout = (f: () => void, ms: number) => setTimeout(f, ms);
  clearTimeout = (t: unknown) => clearTimeout(t as NodeJS.Timeout);
  advance(): void {}
}

/** copy `i` of the recorded events: every session, run and key its own */
function copy(events: readonly PulseEvent[], i: number): PulseEvent[] {
  const k = (s: string) => `${s}#${i}`;
  return events.map((e) => {
    const c = { ...e, sessionKey: k(e.sessionKey), dedupeKey: `${i}/${e.dedupeKey}` } as PulseEvent &
      Record<string, unknown>;
    if ('runId' in c && typeof c.runId === 'string') c.runId = k(c.runId);
    if ('parentKey' in c && typeof c.parentKey === 'string') c.parentKey = k(c.parentKey);
    if ('childKey' in c && typeof c.childKey === 'string') c.childKey = k(c.childKey);
    return c;
  });
}

async function collector(onTraces?: (body: Uint8Array) => void) {
  const app = new Hono();
  for (const s of ['traces', 'metrics', 'logs']) {
    app.post(`/v1/${s}`, async (c) => {
      const body = new Uint8Array(await c.req.arrayBuffer());
      if (s === 'traces') onTraces?.(body);
      return c.body(null, 200);
    });
  }
  return new Promise<{ url: string; close: () => Promise<void> }>((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () => new Promise<void>((r) => server.close(() => r())),
      }),
    );
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] as number;

export async function run(): Promise<Record<string, unknown>> {
  const clock = new Clock();
  const base = recordedEvents();
  const copies = 300;
  const batches: PulseEvent[][] = [];
  for (let i = 0; i < copies; i++) {
    const evs = copy(base, i);
    for (let j = 0; j < evs.length; j += 8) batches.push(evs.slice(j, j + 8));
  }
  const events = batches.reduce((n, b) => n + b.length, 0);
  const sink = await collector();

  async function once(withExporter: boolean): Promise<{ ingest: number; total: number }> {
    const p: Pipeline = makePipeline(clock);
    let ex: OtlpExporter | undefined;
    if (withExporter) {
      ex = exporterTo(sink.url, clock as never, 'http/protobuf', { maxQueue: 1_000_000, batchSize: 512 });
      const e = ex;
      p.subscribe((u) => e.onUpdate(u));
    }
    const c0 = cpuMs();
    for (const b of batches) p.ingest(b);
    const ingest = cpuMs() - c0;
    if (ex) {
      ex.tick(Date.now() + 120_000); // metrics and held spans out too
      await drained(ex, 120_000);
    }
    const total = cpuMs() - c0;
    await cleanUp();
    return { ingest, total };
  }

  await once(true); // warm-up (JIT, the SDK's serializers)
  await once(false);
  const without: Array<{ ingest: number; total: number }> = [];
  const withEx: Array<{ ingest: number; total: number }> = [];
  for (let r = 0; r < 3; r++) {
    without.push(await once(false));
    withEx.push(await once(true));
  }
  await sink.close();

  // latency: a run's events in one batch every 2 ms; its span decoded at the collector
  const sent = new Map<string, number>();
  const lat: number[] = [];
  const rx = await collector((body) => {
    const t = performance.now();
    for (const rs of decodeTracesProto(body).resourceSpans ?? [])
      for (const ss of rs.scopeSpans ?? [])
        for (const sp of ss.spans ?? []) {
          if (sp.name !== 'openclaw.run') continue;
          const id = sp.attributes?.find((a) => a.key === 'openclaw.run.id')?.value?.stringValue;
          const at = id !== undefined ? sent.get(id) : undefined;
          if (at !== undefined) lat.push(t - at);
        }
  });
  const p = makePipeline(clock);
  const ex = exporterTo(rx.url, clock as never, 'http/protobuf', { batchSize: 512 });
  p.subscribe((u) => ex.onUpdate(u));
  const runs: PulseEvent[][] = [];
  for (let i = 0; i < 100; i++) {
    const evs = copy(base, 10_000 + i);
    const byRun = new Map<string, PulseEvent[]>();
    for (const e of evs) {
      const r = 'runId' in e && typeof e.runId === 'string' ? e.runId : `${e.sessionKey}/-`;
      const list = byRun.get(r) ?? [];
      list.push(e);
      byRun.set(r, list);
    }
    runs.push(...byRun.values());
  }
  for (const b of runs) {
    const t = performance.now();
    for (const e of b) if (e.type === 'agent.finished') sent.set(e.runId, t);
    p.ingest(b);
    await new Promise((r) => setTimeout(r, 2));
  }
  await drained(ex, 60_000);
  await cleanUp();
  await rx.close();

  const wi = median(without.map((x) => x.ingest));
  const xi = median(withEx.map((x) => x.ingest));
  const wt = median(without.map((x) => x.total));
  const xt = median(withEx.map((x) => x.total));
  return {
    events,
    'ingest without exporter (ms CPU)': wi,
    'ingest with exporter (ms CPU)': xi,
    'ingest ratio with/without': xi / wi,
    'ingest + export delivered (ms CPU)': xt,
    'ingest + export ratio with/without': xt / wt,
    'export CPU per event (us)': ((xt - wt) * 1000) / events,
    'runs timed': lat.length,
    'event -> exported p50 (ms)': pct(lat, 0.5),
    'event -> exported p99 (ms)': pct(lat, 0.99),
    'event -> exported max (ms)': pct(lat, 1),
  };
}

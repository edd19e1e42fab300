/**
 * Gateway WebSocket source: a local `ws` server replays the real captured frames of both
 * fixture versions (every event frame, ids suffixed per round so nothing dedupes away) into the
 * real gateway client, which maps them and feeds a pipeline-like sink (dedupe by key + count).
 *
 *   throughput  200k gateway event frames sent as fast as the socket drains
 *   latency     frames paced at 20k/s; the gateway stamps each frame's `ts` at send time, the
 *               sink measures now − ts for events whose ts is the frame's ts (tools, steps,
 *               session rows): gateway event → sink, in ms
 * Compared in the same run with a bare JSON.parse loop over the same frames.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { type WebSocket, WebSocketServer } from 'ws';
import { silentLogger } from '../src/infra/logger.js';
import { loadFixtureFrames } from '../src/ingest/gateway/fake-gateway.helper.js';
import { createGatewaySource } from '../src/ingest/gateway/gateway-source.js';
import type { PulseEvent } from '../src/model/events.js';
import { cpuMs } from './support.js';

const THROUGHPUT_FRAMES = Number(process.env.GATEWAY_BENCH_FRAMES) || 200_000;
const LATENCY_RATE = 20_000;
const LATENCY_FRAMES = Math.min(40_000, THROUGHPUT_FRAMES / 5);
const ROUND = '@@R@@';
const TS = '"@@T@@"';
const STAMPED = new Set(['tool.call', 'tool.output', 'agent.step_started', 'session.seen']);

const epochNow = () => performance.timeOrigin + performance.now();

type Obj = Record<string, unknown>;

/** frame templates: ids get a per-round suffix, the payload ts becomes the send time */
function templates(): { hello: Obj; subscribe: Obj; frames: string[][] } {
  const fx = [loadFixtureFrames('v2026.9.6'), loadFixtureFrames('v2026.7.35')];
  const ids = new Set<string>();
  const collect = (v: unknown, k?: string): void => {
    if (Array.isArray(v)) for (const x of v) collect(x);
    else if (v && typeof v === 'object') for (const [kk, vv] of Object.entries(v)) collect(vv, kk);
    else if (
      typeof v === 'string' &&
      k &&
      /^(runId|toolCallId|parentToolCallId|id|messageId|itemId)$/.test(k) &&
      v.length >= 6
    )
      ids.add(v);
  };
  const frames: string[][] = [];
  for (const f of fx) {
    for (const frame of f.events) collect(frame);
  }
  const idRe = new RegExp(
    [...ids]
      .sort((a, b) => b.length - a.length)
      .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('|'),
    'g',
  );
  for (const f of fx) {
    for (const frame of f.events) {
      const copy = JSON.parse(JSON.stringify(frame)) as { payload?: Obj };
      if (copy.payload && typeof copy.payload === 'object' && 'ts' in copy.payload) copy.payload.ts = '@@T@@';
      const text = JSON.stringify(copy).replace(idRe, (m) => `${m}${ROUND}`);
      frames.push(text.split(/(@@R@@|"@@T@@")/).filter((p) => p !== ''));
    }
  }
  return {
    hello: (fx[0] as { hello: Obj }).hello,
    subscribe: (fx[0] as { subscribe: Obj }).subscribe,
    frames,
  };
}

function render(parts: string[], round: number): string {
  let s = '';
  for (const p of parts) s += p === ROUND ? `~${round}` : p === TS ? String(epochNow()) : p;
  return s;
}

function percentile(sorted: Float64Array, p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export async function run(): Promise<Record<string, number | string>> {
  const { hello, subscribe, frames } = templates();
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  const port = (wss.address() as { port: number }).port;
  let client: WebSocket | undefined;
  let ready!: () => void;
  const live = new Promise<void>((r) => {
    ready = r;
  });
  wss.on('connection', (ws) => {
    client = ws;
    ws.on('message', (d) => {
      const req = JSON.parse(String(d)) as { id: string; method: string };
      if (req.method === 'connect')
        ws.send(JSON.stringify({ type: 'res', id: req.id, ok: true, payload: { ...hello, protocol: 4 } }));
      if (req.method === 'sessions.subscribe') {
        ws.send(JSON.stringify({ type: 'res', id: req.id, ok: true, payload: subscribe }));
        ready();
      }
    });
    ws.send(
      JSON.stringify({ type: 'event', event: 'connect.challenge', payload: { nonce: 'n', ts: Date.now() } }),
    );
  });

  // pipeline-like sink: drop duplicates by key, count, sample latency of send-stamped events
  const seen = new Set<string>();
  let events = 0;
  let dups = 0;
  let sampling = false;
  const lat = new Float64Array(LATENCY_FRAMES * 2);
  let latN = 0;
  const sink = {
    ingest(evs: readonly PulseEvent[]) {
      const now = sampling ? epochNow() : 0;
      for (const e of evs) {
        if (seen.has(e.dedupeKey)) {
          dups++;
          continue;
        }
        seen.add(e.dedupeKey);
        events++;
        if (sampling && STAMPED.has(e.type) && latN < lat.length) lat[latN++] = now - e.ts;
      }
    },
  };
  const source = createGatewaySource({
    url: `ws://127.0.0.1:${port}`,
    token: 'bench',
    sink,
    offsets: { getOffset: () => undefined, listOffsets: () => [] },
    logger: silentLogger,
  });
  await source.start();
  await live;
  const ws = client as WebSocket;
  const base = source.stats().frames;
  let sent = 0;
  let round = 0;
  let idx = 0;
  const next = (): string => {
    const s = render(frames[idx] as string[], round);
    if (++idx === frames.length) {
      idx = 0;
      round++;
    }
    sent++;
    return s;
  };
  const received = (n: number) =>
    new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + 120_000;
      const poll = () => {
        if (source.stats().frames - base >= n) return resolve();
        if (Date.now() > deadline)
          return reject(new Error(`gateway bench: only ${source.stats().frames - base}/${n} frames arrived`));
        setTimeout(poll, 1);
      };
      poll();
    });

  // ── throughput: send as fast as the socket drains ──
  // The fake gateway shares this thread; its rendering/sending time is measured and taken out
  // of the CPU figure, so "client CPU per frame" is receive + parse + map + sink only.
  const t0 = performance.now();
  const c0 = cpuMs();
  let serverMs = 0;
  const ev0 = events;
  await new Promise<void>((resolve) => {
    const pump = () => {
      const s0 = cpuMs();
      while (sent < THROUGHPUT_FRAMES && ws.bufferedAmount < 4 * 1024 * 1024) ws.send(next());
      serverMs += cpuMs() - s0;
      if (sent < THROUGHPUT_FRAMES) setImmediate(pump);
      else resolve();
    };
    pump();
  });
  await received(THROUGHPUT_FRAMES);
  const tputMs = performance.now() - t0;
  const clientCpuMs = cpuMs() - c0 - serverMs;
  const tputEvents = events - ev0;

  // ── latency: frames paced at a fixed rate; the sink measures now − (send time stamped in ts) ──
  const latencyAt = async (rate: number, count: number) => {
    latN = 0;
    sampling = true;
    const first = sent;
    const t1 = performance.now();
    await new Promise<void>((resolve) => {
      const pace = () => {
        const due = Math.min(first + count, first + Math.floor(((performance.now() - t1) / 1000) * rate));
        while (sent < due) ws.send(next());
        if (sent < first + count) setTimeout(pace, 1);
        else resolve();
      };
      pace();
    });
    await received(first + count);
    sampling = false;
    const sorted = lat.slice(0, latN).sort();
    return {
      p50: Number(percentile(sorted, 50).toFixed(3)),
      p99: Number(percentile(sorted, 99).toFixed(3)),
      n: latN,
    };
  };
  const fast = await latencyAt(LATENCY_RATE, LATENCY_FRAMES);
  const slow = await latencyAt(LATENCY_RATE / 4, LATENCY_FRAMES / 4);

  // ── the same frames through a bare JSON.parse loop ──
  const sample: string[] = [];
  for (let r = 0; r < 20; r++) for (const f of frames) sample.push(render(f, 1_000_000 + r));
  let sink2 = 0;
  const t2 = performance.now();
  const c2 = cpuMs();
  for (let i = 0; i < THROUGHPUT_FRAMES; i++)
    sink2 += (JSON.parse(sample[i % sample.length] as string) as { seq?: number }).seq ?? 1;
  const parseMs = performance.now() - t2;
  const parseCpuMs = cpuMs() - c2;
  const bytes = sample.reduce((a, s) => a + s.length, 0) / sample.length;

  await source.stop();
  await new Promise<void>((r) => wss.close(() => r()));
  const frameRate = THROUGHPUT_FRAMES / (tputMs / 1000);
  const parseRate = THROUGHPUT_FRAMES / (parseMs / 1000);
  return {
    'gateway frames/s (throughput)': Math.round(frameRate),
    'pulse events/s (throughput)': Math.round(tputEvents / (tputMs / 1000)),
    'frames replayed': THROUGHPUT_FRAMES,
    'pulse events emitted': tputEvents,
    'avg frame bytes': Math.round(bytes),
    'latency p50 ms (20k frames/s paced)': fast.p50,
    'latency p99 ms (20k frames/s paced)': fast.p99,
    'latency samples (20k frames/s)': fast.n,
    'latency p50 ms (5k frames/s paced)': slow.p50,
    'latency p99 ms (5k frames/s paced)': slow.p99,
    'load average (1 min, 2 cores)': Number(loadavg()[0]?.toFixed(2)),
    'bare JSON.parse frames/s': Math.round(parseRate),
    'client / bare JSON.parse ratio (wall)': Number((frameRate / parseRate).toFixed(3)),
    'client CPU µs/frame': Number(((clientCpuMs * 1000) / THROUGHPUT_FRAMES).toFixed(2)),
    'bare JSON.parse CPU µs/frame': Number(((parseCpuMs * 1000) / THROUGHPUT_FRAMES).toFixed(2)),
    'client / bare JSON.parse ratio (CPU)': Number((parseCpuMs / clientCpuMs).toFixed(3)),
    'gateway frames per client CPU-second': Math.round(THROUGHPUT_FRAMES / (clientCpuMs / 1000)),
    'duplicates dropped by sink': dups,
    malformed: source.health().malformed + (sink2 < 0 ? 1 : 0),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run().then((r) => console.log(r));
}

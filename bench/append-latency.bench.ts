/**
 * Append → sink latency of the file source: 100 followed transcripts, lines appended in rounds
 * (one line per session per round), latency = time from the append to the sink receiving the
 * line's event. Also measures a restart over the same files with saved offsets (stat only).
 * Bounded: ROUNDS × SESSIONS lines, and a 15 s cap on waiting.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { systemClock } from '../src/infra/clock.js';
import { silentLogger } from '../src/infra/logger.js';
import { createFileSource } from '../src/ingest/files/file-source.js';
import type { PulseEvent } from '../src/model/events.js';
import type { SourceOffset } from '../src/store/event-store.js';

const SESSIONS = 100;
const ROUNDS = 20;
const ROUND_GAP_MS = 20;

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const WRITER = `
const fs = require('node:fs');
const path = require('node:path');
const { parentPort, workerData } = require('node:worker_threads');
const { dir, ids, rounds, gapMs } = workerData;
const pause = new Int32Array(new SharedArrayBuffer(4));
const out = [];
for (let r = 0; r < rounds; r++) {
  for (const id of ids) {
    const entryId = 'r' + r;
    const line = JSON.stringify({ type: 'message', id: entryId, parentId: null, timestamp: new Date().toISOString(),
      message: { role: 'user', content: 'round ' + r, timestamp: Date.now() } }) + '\\n';
    out.push([id + '/' + entryId + '/agent.started/0', performance.timeOrigin + performance.now()]);
    fs.appendFileSync(path.join(dir, id + '.jsonl'), line);
  }
  Atomics.wait(pause, 0, 0, gapMs);
}
parentPort.postMessage(out);
`;

export async function run(): Promise<Record<string, number | string>> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawpulse-bench-files-'));
  const dir = path.join(stateDir, 'agents', 'main', 'sessions');
  fs.mkdirSync(dir, { recursive: true });
  const ids = Array.from(
    { length: SESSIONS },
    (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  );
  const store: Record<string, unknown> = {};
  ids.forEach((id, i) => {
    store[`agent:main:bench:channel:${i}`] = { sessionId: id, updatedAt: 1 };
    fs.writeFileSync(
      path.join(dir, `${id}.jsonl`),
      `${JSON.stringify({ type: 'session', version: 3, id, timestamp: new Date().toISOString() })}\n`,
    );
  });
  fs.writeFileSync(path.join(dir, 'sessions.json'), JSON.stringify(store));

  // the writer runs in a worker thread (like OpenClaw, another writer): its appends never wait
  // for our event loop, so the figures are the source's latency, not the bench's own loop
  const arrivedAt = new Map<string, number>();
  const offsets = new Map<string, unknown>();
  const sink = {
    ingest(events: readonly PulseEvent[], offs?: readonly SourceOffset[]) {
      const now = performance.timeOrigin + performance.now();
      for (const e of events) if (e.type === 'agent.started') arrivedAt.set(e.dedupeKey, now);
      for (const o of offs ?? []) offsets.set(o.key, o.value);
    },
    getOffset: (k: string) => offsets.get(k),
    listOffsets: (p: string) =>
      [...offsets].filter(([k]) => k.startsWith(p)).map(([key, value]) => ({ key, value })),
  };
  // baseline in the same run (these machines are shared and noisy): a bare fs.watch on the folder,
  // the time until the kernel tells this process about each append, before any reading
  const watchEvents = new Map<string, number[]>();
  const raw = fs.watch(dir, (_e, name) => {
    if (!name) return;
    const list = watchEvents.get(name.toString()) ?? [];
    list.push(performance.timeOrigin + performance.now());
    watchEvents.set(name.toString(), list);
  });
  const src = createFileSource({
    stateDir,
    sink,
    offsets: sink,
    logger: silentLogger,
    clock: systemClock,
    pollIntervalMs: 1000,
  });
  await src.start();

  const total = SESSIONS * ROUNDS;
  const appendedAt = await new Promise<Array<[string, number]>>((resolve, reject) => {
    const w = new Worker(WRITER, {
      eval: true,
      workerData: { dir, ids, rounds: ROUNDS, gapMs: ROUND_GAP_MS },
    });
    w.once('message', resolve);
    w.once('error', reject);
  });
  const deadline = Date.now() + 15_000;
  while (arrivedAt.size < total && Date.now() < deadline) await sleep(5);
  await src.stop();
  const latencies: number[] = [];
  for (const [key, t] of appendedAt) {
    const a = arrivedAt.get(key);
    if (a !== undefined) latencies.push(a - t);
  }
  const received = latencies.length;
  raw.close();
  const baseline: number[] = [];
  for (const [key, t] of appendedAt) {
    const first = (watchEvents.get(`${key.split('/')[0]}.jsonl`) ?? []).find((x) => x >= t);
    if (first !== undefined) baseline.push(first - t);
  }
  baseline.sort((a, b) => a - b);

  // restart over the same 100 files with the saved offsets: nothing to read, stat only
  let restartEvents = 0;
  const sink2 = {
    ...sink,
    ingest: (events: readonly PulseEvent[]) => {
      restartEvents += events.filter((e) => e.type !== 'session.seen').length;
    },
  };
  const t0 = performance.now();
  const again = createFileSource({
    stateDir,
    sink: sink2,
    offsets: sink,
    logger: silentLogger,
    clock: systemClock,
    usePolling: true,
    pollIntervalMs: 60_000,
  });
  await again.start();
  const restartMs = performance.now() - t0;
  await again.stop();
  fs.rmSync(stateDir, { recursive: true, force: true });

  latencies.sort((a, b) => a - b);
  return {
    sessions: SESSIONS,
    lines: total,
    received,
    p50_ms: Number(pct(latencies, 50).toFixed(2)),
    p99_ms: Number(pct(latencies, 99).toFixed(2)),
    max_ms: Number((latencies.at(-1) ?? NaN).toFixed(2)),
    raw_watch_p50_ms: Number(pct(baseline, 50).toFixed(2)),
    raw_watch_p99_ms: Number(pct(baseline, 99).toFixed(2)),
    ratio_p50_to_raw_watch: Number((pct(latencies, 50) / Math.max(0.01, pct(baseline, 50))).toFixed(2)),
    restart_100_files_ms: Number(restartMs.toFixed(1)),
    restart_reread_events: restartEvents,
  };
}

// `npx tsx bench/append-latency.bench.ts` runs it alone
if (import.meta.url === `file://${process.argv[1]}`) {
  run().then((r) => console.log(JSON.stringify(r, null, 2)));
}

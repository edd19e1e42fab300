/**
 * The shared store against the embedded one, in the same run, on a throwaway PostgreSQL cluster
 * (test/support/postgres.ts) and a SQLite file on the same disk:
 *
 * 1. Ingest: the same events (a mix of narration, tool calls and outputs, token counts over 20
 *    sessions, appended in batches of 50 as a source hands them over, then flushed) into SQLite,
 *    into PostgreSQL from 1 writer, and from 3 writers at once (3 hosts, each its own process, as
 *    three daemons). Every writer is a child process started the same way; they start on one
 *    signal, and the figure is events over the wall time from the signal to the last flush.
 *    3 rounds interleaved, each on a fresh file or database; the median of each is reported.
 * 2. Write → fleet dashboard: a writer process (host `bench`) appends one event and flushes (its
 *    commit notifies); `clawpulse serve`'s parts (fleet-serve.ts) read it, and its dashboard in
 *    Chromium shows it. Timed on this process's clock from the write order to the page's
 *    MutationObserver report (the IPC hops both ways are included: an upper bound).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/config.js';
import { startFleetServe } from '../src/fleet/fleet-serve.js';
import { startHostHeartbeat } from '../src/fleet/host-heartbeat.js';
import { silentLogger } from '../src/infra/logger.js';
import type { PulseEvent } from '../src/model/events.js';
import { createSessionTracker } from '../src/model/tracker.js';
import { buildHealthReport } from '../src/server/health.js';
import type { EventStore } from '../src/store/event-store.js';
import { createSqliteStore } from '../src/store/sqlite-store.js';
import { ensureUiBuilt, launchBrowser } from '../test/e2e/browser.js';
import { startPostgres } from '../test/support/postgres.js';

const EVENTS = Number(process.env.BENCH_STORE_EVENTS) || 20_000;
const BATCH = 50;
const SESSIONS = 20;
const SAMPLES = Number(process.env.BENCH_STORE_SAMPLES) || 100;
const ROUNDS = Number(process.env.BENCH_STORE_ROUNDS) || 3;
const WRITER_ENV = 'CLAWPULSE_BENCH_STORE_WRITER';
const SELF = fileURLToPath(import.meta.url);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};
const round = (x: number) => Math.round(x * 10) / 10;

/** the i-th event of a writer's stream: the same for every engine */
function eventAt(i: number, ts: number): PulseEvent {
  const s = i % SESSIONS;
  const base = {
    ts: ts + i,
    source: 'files' as const,
    sessionKey: `agent:main:bench:${s}`,
    agentId: 'main',
    dedupeKey: `daa6b28a-5388-4104-8e50-${s.toString(16).padStart(12, '0')}/${i.toString(16).padStart(8, '0')}`,
  };
  const runId = `daa6b28a:r:${(i >> 6).toString(16)}`;
  switch (i % 4) {
    case 0:
      return {
        ...base,
        type: 'assistant.text',
        runId,
        text: 'Checking the logs of the last deploy now; the build step is the slow one. '.repeat(3),
      };
    case 1:
      return {
        ...base,
        type: 'tool.call',
        runId,
        callId: `call_${i}`,
        name: 'exec',
        args: 'npm test -- --run store',
      };
    case 2:
      return {
        ...base,
        type: 'tool.output',
        runId,
        callId: `call_${i - 1}`,
        name: 'exec',
        output: 'Test Files  12 passed (12)\n     Tests  148 passed (148)\n',
        durationMs: 812,
      };
    default:
      return {
        ...base,
        type: 'llm.tokens',
        runId,
        input: 1200,
        output: 240,
        cacheRead: 9000,
        cacheWrite: 0,
        reasoning: 0,
        costUsd: 0.0041,
        model: 'claude-sonnet-4',
      };
  }
}

async function openStore(engine: string, target: string, host: string): Promise<EventStore> {
  if (engine === 'sqlite') return createSqliteStore(target);
  const { createPgStore } = await import('../src/store/pg/pg-store.js');
  return createPgStore(target, { host, writer: true });
}

/**
 * Child process: opens its store, says `ready`, and on `go` appends its events; on `mark N`
 * appends one marker event and flushes (the latency part). Replies are JSON lines.
 */
async function writerMain(spec: {
  engine: string;
  target: string;
  host: string;
  events: number;
}): Promise<void> {
  const store = await openStore(spec.engine, spec.target, spec.host);
  const idle = createSessionTracker({
    maxStatusLines: 15,
    idleTimeoutMs: 60_000,
    maxSessionDurationMs: 1_800_000,
    stuckAfterMs: 300_000,
  });
  // the latency writer stands in for a daemon: its heartbeat keeps its host fresh in the fleet view
  const heartbeat =
    spec.engine === 'postgres' && spec.events === 0
      ? startHostHeartbeat({
          url: spec.target,
          host: spec.host,
          logger: silentLogger,
          health: () =>
            buildHealthReport({
              startedAt: 0,
              now: Date.now(),
              sources: [],
              sinks: [],
              store,
              tracker: idle,
            }),
        })
      : undefined;
  const t0 = Date.now();
  const events = Array.from({ length: spec.events }, (_, i) => eventAt(i, t0));
  const say = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
  say({ ready: true });
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line === 'go') {
      const start = performance.now();
      for (let i = 0; i < events.length; i += BATCH) store.append(events.slice(i, i + BATCH));
      store.flush();
      say({ ms: performance.now() - start, events: events.length });
    } else if (line.startsWith('mark ')) {
      const n = Number(line.slice(5));
      store.append([
        {
          ts: Date.now(),
          source: 'files',
          sessionKey: 'agent:main:latency',
          agentId: 'main',
          dedupeKey: `mark-${n}`,
          type: 'assistant.text',
          runId: 'latency-run',
          text: `fleet-${n}-mark`,
        },
      ]);
      store.flush();
      say({ marked: n });
    } else if (line === 'quit') break;
  }
  await heartbeat?.stop();
  store.close();
}

interface Writer {
  proc: ChildProcess;
  next(): Promise<Record<string, unknown>>;
  send(line: string): void;
  done(): Promise<void>;
}

function startWriter(engine: string, target: string, host: string, events: number): Writer {
  const proc = spawn(process.execPath, ['--import', 'tsx', SELF], {
    env: { ...process.env, [WRITER_ENV]: JSON.stringify({ engine, target, host, events }) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const queue: Array<Record<string, unknown>> = [];
  const waiting: Array<(o: Record<string, unknown>) => void> = [];
  createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (l) => {
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(l) as Record<string, unknown>;
    } catch {
      return;
    }
    const w = waiting.shift();
    if (w) w(o);
    else queue.push(o);
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    proc,
    next: () =>
      new Promise((resolve, reject) => {
        const o = queue.shift();
        if (o) return resolve(o);
        waiting.push(resolve);
        exited.then(() => reject(new Error(`${engine} writer exited`)));
      }),
    send: (line) => proc.stdin?.write(`${line}\n`),
    async done() {
      proc.stdin?.end('quit\n');
      await exited;
    },
  };
}

/** events/s of `writers` (engine, target, host) started together */
async function ingest(specs: Array<[string, string, string]>): Promise<number> {
  const ws = specs.map(([engine, target, host]) => startWriter(engine, target, host, EVENTS));
  for (const w of ws) await w.next(); // ready
  const t0 = performance.now();
  for (const w of ws) w.send('go');
  for (const w of ws) await w.next();
  const wall = performance.now() - t0;
  for (const w of ws) await w.done();
  return (EVENTS * specs.length) / (wall / 1000);
}

async function latency(url: string, dir: string, out: Record<string, number | string>): Promise<void> {
  const config = loadConfig({
    HOME: dir,
    CLAWPULSE_HOME: join(dir, 'serve'),
    HEALTH_PORT: 'any',
    LOG_LEVEL: 'silent',
  });
  const writer = startWriter('postgres', url, 'bench', 0);
  await writer.next();
  writer.send('mark 0'); // the host and its session exist before serve starts
  await writer.next();
  const serve = await startFleetServe(config, {
    url,
    cachePath: ':memory:',
    logger: silentLogger,
    uiDir: ensureUiBuilt(),
    // far beyond the run: every mark arrives through LISTEN/NOTIFY
    pollMs: 600_000,
  });
  const browser = await launchBrowser();
  try {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    let resolveSeen: ((n: number) => void) | undefined;
    await page.exposeBinding('__fleetSeen', (_src, n: number) => resolveSeen?.(n));
    await page.goto(`http://127.0.0.1:${serve.port}/`);
    await page.waitForSelector('[data-testid="conn"]:has-text("live")');
    await page.evaluate(`(() => {
      const seen = new Set();
      new MutationObserver((muts) => {
        for (const m of muts) for (const node of m.addedNodes) {
          for (const x of (node.textContent || '').matchAll(/fleet-(\\d+)-mark/g)) {
            const n = Number(x[1]);
            if (!seen.has(n)) { seen.add(n); window.__fleetSeen(n); }
          }
        }
      }).observe(document.body, { childList: true, subtree: true, characterData: true });
    })()`);
    const lat: number[] = [];
    const read: number[] = [];
    // when serve's pipeline has the mark (read from PostgreSQL): splits the database and LISTEN
    // hop from the SSE and render hop
    let t0 = 0;
    let current = -1;
    serve.pipeline.subscribe((u) => {
      for (const e of u.events)
        if (e.event.type === 'assistant.text' && e.event.text === `fleet-${current}-mark`)
          read.push(performance.now() - t0);
    });
    let missed = 0;
    for (let i = 1; i <= SAMPLES; i++) {
      current = i;
      const seen = new Promise<number>((r) => {
        resolveSeen = (n) => n === i && r(n);
      });
      t0 = performance.now();
      writer.send(`mark ${i}`);
      const n = await Promise.race([seen, new Promise<number>((r) => setTimeout(() => r(-1), 5000))]);
      if (n === i) lat.push(performance.now() - t0);
      else missed++;
      await writer.next();
      await new Promise((r) => setTimeout(r, 10));
    }
    out.write_to_fleet_dom_samples = lat.length;
    out.write_to_fleet_dom_missed = missed;
    out.write_to_fleet_dom_p50_ms = round(pct(lat, 50));
    out.write_to_fleet_dom_p90_ms = round(pct(lat, 90));
    out.write_to_fleet_dom_p99_ms = round(pct(lat, 99));
    out.write_to_fleet_dom_max_ms = round(Math.max(...lat));
    out.write_to_serve_pipeline_p50_ms = round(pct(read, 50));
    out.write_to_serve_pipeline_p99_ms = round(pct(read, 99));
  } finally {
    await browser.close();
    await serve.stop();
    await writer.done();
  }
}

export async function run(): Promise<Record<string, number | string>> {
  const dir = mkdtempSync(join(tmpdir(), 'clawpulse-bench-store-'));
  const cluster = await startPostgres();
  try {
    const out: Record<string, number | string> = { events_per_writer: EVENTS, batch: BATCH };
    // rounds interleaved, each on a fresh file or database, the median kept: this machine is shared
    const runs = { sqlite: [] as number[], pg1: [] as number[], pg3: [] as number[] };
    for (let r = 0; r < ROUNDS; r++) {
      runs.sqlite.push(await ingest([['sqlite', join(dir, `one-${r}.sqlite`), 'a']]));
      runs.pg1.push(await ingest([['postgres', await cluster.createDatabase(`one_${r}`), 'a']]));
      const db3 = await cluster.createDatabase(`three_${r}`);
      runs.pg3.push(
        await ingest([
          ['postgres', db3, 'a'],
          ['postgres', db3, 'b'],
          ['postgres', db3, 'c'],
        ]),
      );
    }
    const sqlite = pct(runs.sqlite, 50);
    const pg1 = pct(runs.pg1, 50);
    const pg3 = pct(runs.pg3, 50);
    out.rounds = ROUNDS;
    out.sqlite_events_per_s = Math.round(sqlite);
    out.postgres_1_writer_events_per_s = Math.round(pg1);
    out.postgres_3_writers_events_per_s = Math.round(pg3);
    out.postgres_1_vs_sqlite = pg1 / sqlite;
    out.postgres_3_vs_1_writer = pg3 / pg1;
    await latency(await cluster.createDatabase('latency'), dir, out);
    return out;
  } finally {
    cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.env[WRITER_ENV]) {
  writerMain(JSON.parse(process.env[WRITER_ENV] as string)).catch((err) => {
    process.stderr.write(`store bench writer: ${(err as Error).stack}\n`);
    process.exit(1);
  });
}

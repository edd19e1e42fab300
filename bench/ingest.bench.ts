/**
 * End-to-end ingest: transcript lines through parse → normalize → SQLite store (a real file,
 * WAL) → model, against a bare JSON.parse loop over the same lines in the same run.
 *
 * - Each append is one read of one transcript, as the file source does it: the lines one session
 *   wrote since the last read. Two regimes: a read per agent turn (about 20 lines: a live daemon
 *   keeping up) and a read per 10 turns (about 200 lines: a daemon under load, whose reads grow
 *   with the backlog, or one catching up at start). The first is the headline figure.
 * - The input is one buffer (as a file source reads it: lines are views into a chunk), so it can
 *   be released before memory is measured.
 * - A run is timed up to the commit of its last event. The snapshot of the 1,000 sessions written
 *   after it is timed apart, and the headline counts it at the rate a daemon ingesting flat out
 *   pays it: one per `SNAPSHOT_DEFAULTS.maxEvents` events applied (see endToEnd). How fast a
 *   restart after a crash replays the events stored since the last snapshot is measured too.
 * - RSS is measured in the daemon's steady state: input released and GC'd, 1,000 sessions active
 *   in the model, the store open; right after the burst and after 10 idle seconds. The start
 *   figure includes the tsx loader the bench runs under.
 * - Times are wall clock and process CPU time (user + system): on a shared, loaded machine the
 *   CPU figures are the stable ones, and "lines/s on one core" is what they measure.
 * - The live regime runs five times on fresh state, each right after its own JSON.parse loop;
 *   the median run is the headline, the best and each run are printed beside it (one run on a
 *   shared machine can be 15% off). Memory is measured after the first run.
 * - A stage split (decode, normalize, store, model: CPU time of each, on fresh state) runs
 *   afterwards on part of the input; every stage is reported as µs per line and as a multiple of
 *   the JSON.parse loop over the same lines.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../src/infra/logger.js';
import { processLines } from '../src/ingest/files/line-processor.js';
import { createSanitizer } from '../src/ingest/sanitize.js';
import type { PulseEvent } from '../src/model/events.js';
import { createSessionTracker } from '../src/model/tracker.js';
import { createTranscriptNormalizer, type TranscriptNormalizer } from '../src/openclaw/normalize.js';
import { createPipeline, restoreModel, SNAPSHOT_DEFAULTS, snapshotDelayAfter } from '../src/pipeline.js';
import { createSqliteStore } from '../src/store/sqlite-store.js';
import {
  benchSessionId,
  cpuMs,
  decodeOnly,
  ignoreMalformed,
  isSessionHeader,
  rssAfterIdle,
  TRANSCRIPT_FIXTURE,
  withEntryId,
} from './support.js';

const SESSIONS = 1000;
const TARGET_LINES = 200_000;
const STAGE_LINES = 60_000;
/** live end-to-end runs (the median is reported) */
const LIVE_RUNS = 5;
const LIMITS = {
  maxStatusLines: 15,
  idleTimeoutMs: 60_000,
  maxSessionDurationMs: 1_800_000,
  stuckAfterMs: 300_000,
};

interface Input {
  data: Buffer;
  /** line i is data[start[i], start[i + 1] - 1) (the newline excluded) */
  start: Uint32Array;
  session: Uint16Array;
  /** the first line of each read, then `count` */
  reads: number[];
  count: number;
}

/**
 * Real transcript lines: the fixture (one agent turn with tools and a sub-agent) repeated as
 * turn after turn of 1,000 sessions, with fresh random-looking entry ids so none dedupes away.
 * Ordered in reads of `turnsPerRead` turns of one session, the sessions taking turns.
 */
function makeInput(target: number, turnsPerRead: number): Input {
  const template = readFileSync(TRANSCRIPT_FIXTURE, 'utf8').trim().split('\n');
  const text: string[] = [];
  const session = new Uint16Array(target);
  const reads: number[] = [];
  const turns = new Uint32Array(SESSIONS);
  let n = 0;
  while (text.length < target) {
    for (let s = 0; s < SESSIONS && text.length < target; s++) {
      reads.push(text.length);
      for (let t = 0; t < turnsPerRead; t++) {
        for (const line of template) {
          if (text.length >= target) break;
          if ((turns[s] as number) > 0 && isSessionHeader(line)) continue;
          session[text.length] = s;
          text.push(withEntryId(line, n++));
        }
        turns[s] = (turns[s] as number) + 1;
      }
    }
  }
  reads.push(text.length);
  const data = Buffer.from(`${text.join('\n')}\n`);
  const start = new Uint32Array(text.length + 1);
  let at = 0;
  for (let i = 0; i < text.length; i++) {
    start[i] = at;
    at = data.indexOf(0x0a, at) + 1;
  }
  start[text.length] = at;
  return { data, start, session, reads, count: text.length };
}

/** wall and CPU milliseconds since `t` */
interface Clock {
  wall: number;
  cpu: number;
}
const clock = (): Clock => ({ wall: performance.now(), cpu: cpuMs() });
const since = (t: Clock): Clock => ({ wall: performance.now() - t.wall, cpu: cpuMs() - t.cpu });

const line = (inp: Input, i: number): Buffer =>
  inp.data.subarray(inp.start[i], (inp.start[i + 1] as number) - 1);
/** lines [from, to) with their newlines: what one read of a transcript hands processLines */
const lines = (inp: Input, from: number, to: number): Buffer =>
  inp.data.subarray(inp.start[from], inp.start[to]);

function parseLoop(inp: Input, count = inp.count): { t: Clock; sink: number } {
  const t0 = clock();
  let sink = 0;
  for (let i = 0; i < count; i++)
    sink += (JSON.parse(line(inp, i).toString('utf8')) as { type: string }).type.length;
  return { t: since(t0), sink };
}

const normalizersFor = (): TranscriptNormalizer[] =>
  Array.from({ length: SESSIONS }, (_, s) =>
    // session ids are UUIDs in OpenClaw (they start every dedupe key of their transcript)
    createTranscriptNormalizer({
      sessionKey: `agent:main:bench:${s}`,
      agentId: 'main',
      sessionId: benchSessionId(s),
      source: 'files',
    }),
  );

const rssMb = () => process.memoryUsage().rss / 1024 / 1024;

function gc(): void {
  for (let i = 0; i < 3; i++) globalThis.gc?.();
}

/**
 * The e2e loop again on fresh state over the first `count` lines, with CPU time taken around
 * each stage of every batch (decode + normalize, store, model); decode alone is a separate
 * pass, so normalize = processLines − decode. What is left of end-to-end is the pipeline itself.
 */
function stages(inp: Input, count: number, dir: string): Record<string, number> {
  const parse = parseLoop(inp, count).t.cpu;

  const t0 = cpuMs();
  let sink = 0;
  for (let r = 0; r + 1 < inp.reads.length && (inp.reads[r] as number) < count; r++) {
    const to = Math.min(count, inp.reads[r + 1] as number);
    sink += processLines(lines(inp, inp.reads[r] as number, to), decodeOnly, [], ignoreMalformed).lines;
  }
  const decode = cpuMs() - t0;

  const normalizers = normalizersFor();
  const store = createSqliteStore(join(dir, 'stage.sqlite'));
  const tracker = createSessionTracker(LIMITS);
  let processMs = 0;
  let storeMs = 0;
  let model = 0;
  for (let r = 0; r + 1 < inp.reads.length && (inp.reads[r] as number) < count; r++) {
    const from = inp.reads[r] as number;
    const to = Math.min(count, inp.reads[r + 1] as number);
    const batch: PulseEvent[] = [];
    const a = cpuMs();
    const normalizer = normalizers[inp.session[from] as number] as TranscriptNormalizer;
    processLines(lines(inp, from, to), normalizer, batch, ignoreMalformed);
    const b = cpuMs();
    store.append(batch, [{ key: 'files:/bench/stage', value: { pos: from } }]);
    const c = cpuMs();
    for (const e of batch) tracker.apply(e);
    const d = cpuMs();
    processMs += b - a;
    storeMs += c - b;
    model += d - c;
  }
  const f = cpuMs();
  store.flush(); // the last group's commit
  storeMs += cpuMs() - f;
  store.close();
  const normalize = processMs - decode;

  const us = (ms: number) => (ms * 1000) / count;
  return {
    'stage lines (CPU time)': sink > 0 ? count : 0,
    'stage µs/line JSON.parse loop': us(parse),
    'stage µs/line decode (processLines without normalizing)': us(decode),
    'stage µs/line normalize': us(normalize),
    'stage µs/line SQLite store': us(storeMs),
    'stage µs/line model': us(model),
    'stage × JSON.parse: decode': decode / parse,
    'stage × JSON.parse: normalize': normalize / parse,
    'stage × JSON.parse: store': storeMs / parse,
    'stage × JSON.parse: model': model / parse,
  };
}

/**
 * One long session (the model keeps up to MAX_TOOLS tool calls per session): its model heap and
 * the snapshot the pipeline writes for it while it is active (spaced by its size). The RSS
 * figures above hold for the short sessions of the main run; these scale them to long ones.
 */
function longSession(rounds: number): Record<string, number> {
  const template = readFileSync(TRANSCRIPT_FIXTURE, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; id?: string });
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const tracker = createSessionTracker({ ...LIMITS, maxSessionDurationMs: Number.MAX_SAFE_INTEGER });
  const normalizer = createTranscriptNormalizer({
    sessionKey: 'agent:main:long',
    agentId: 'main',
    sessionId: benchSessionId(99_999),
    source: 'files',
  });
  let n = 0;
  for (let r = 0; r < rounds; r++)
    for (const v of template) {
      if (r > 0 && v.type === 'session') continue;
      for (const e of normalizer.push({ ...v, id: `L${(n++).toString(16)}` }).events) tracker.apply(e);
    }
  gc();
  const heap = process.memoryUsage().heapUsed - heap0;
  const state = tracker.get('agent:main:long');
  const t0 = cpuMs();
  const json = JSON.stringify(state);
  const ms = cpuMs() - t0;
  const savedEverySec = snapshotDelayAfter(json.length) / 1000;
  return {
    'long session: lines': n,
    'long session: tool calls kept in the model': state?.tools.length ?? 0,
    'long session: model heap MB': heap / 1024 / 1024,
    'long session: snapshot KB': json.length / 1024,
    'long session: snapshot JSON.stringify ms (CPU)': ms,
    // the pipeline's default pacing: a save of B bytes waits B / 64 KiB/s, between 5 s and 60 s
    'long session: snapshot saved every s while active': savedEverySec,
    'long session: snapshot writes KB/s while active': json.length / 1024 / savedEverySec,
  };
}

interface E2e {
  /** reading, modelling and storing the lines, up to their commit */
  t: Clock;
  /** then the snapshot of every session the burst changed (see endToEnd) */
  snapshot: Clock;
  events: number;
  tracker: ReturnType<typeof createSessionTracker>;
  store: ReturnType<typeof createSqliteStore>;
}

/**
 * The daemon's ingest path on fresh state: per read, decode + normalize its lines, then one
 * pipeline.ingest; timed up to the commit of the last event. The snapshot of the sessions that
 * follows is timed apart: the pipeline saves one per `SNAPSHOT_DEFAULTS.maxEvents` events
 * applied when it ingests flat out (its time-based spacing, 5 to 60 s, is longer at this rate),
 * so a burst of a fraction of that is charged that fraction of it (`withSnapshots`).
 */
function endToEnd(inp: Input, path: string): E2e {
  const store = createSqliteStore(path);
  const tracker = createSessionTracker(LIMITS);
  const pipeline = createPipeline({ store, tracker, logger: silentLogger });
  const normalizers = normalizersFor();
  // the file source bounds every batch before the pipeline (src/ingest/sanitize.ts)
  const sane = createSanitizer({ now: Date.now });
  const t0 = clock();
  let events = 0;
  for (let r = 0; r + 1 < inp.reads.length; r++) {
    const from = inp.reads[r] as number;
    const to = inp.reads[r + 1] as number;
    const s = inp.session[from] as number;
    const normalizer = normalizers[s] as TranscriptNormalizer;
    const batch: PulseEvent[] = [];
    processLines(lines(inp, from, to), normalizer, batch, ignoreMalformed);
    events += batch.length;
    sane.events(batch);
    pipeline.ingest(batch, [{ key: `files:/bench/${s}.jsonl`, value: { pos: inp.start[to] } }]);
  }
  store.flush(); // the last group's commit
  const t = since(t0);
  const s0 = clock();
  pipeline.flushSnapshots();
  store.flush();
  return { t, snapshot: since(s0), events, tracker, store };
}

/** CPU ms of a run with its share of snapshots: one save of every session per maxEvents events */
const withSnapshots = (r: { e2e: Clock; snapshot: Clock; events: number }): number =>
  r.e2e.cpu + (r.snapshot.cpu * r.events) / SNAPSHOT_DEFAULTS.maxEvents;

/** the run under load, keeping only its figures (its model and store are released) */
function underLoad(inp: Input, path: string): { t: Clock; cpu: number; stored: number } {
  const r = endToEnd(inp, path);
  const stored = r.store.countEvents();
  r.store.close();
  return { t: r.t, cpu: withSnapshots({ e2e: r.t, snapshot: r.snapshot, events: r.events }), stored };
}

/**
 * A restart after a crash, as if no snapshot had been saved: `restoreModel` replays every stored
 * event into a fresh model; CPU µs per event.
 */
function replay(store: ReturnType<typeof createSqliteStore>): number {
  const noSnapshot = { ...store, loadSnapshots: () => [], snapshotSeq: () => 0 };
  const t0 = cpuMs();
  const n = restoreModel(noSnapshot, createSessionTracker(LIMITS));
  return n > 0 ? ((cpuMs() - t0) * 1000) / n : Number.NaN;
}

export async function run(): Promise<Record<string, number | string>> {
  const rssStart = rssMb();
  const dir = mkdtempSync(join(tmpdir(), 'clawpulse-bench-'));

  // under load: reads of 10 turns; on fresh state, then released before the live run
  let input: Input | undefined = makeInput(TARGET_LINES, 10);
  const baseLoad = parseLoop(input);
  const load = underLoad(input, join(dir, 'load.sqlite'));

  // live: a read per turn; the headline, and the state memory is measured in (after the first
  // run, before the others: their freed memory would otherwise count as the daemon's)
  input = makeInput(TARGET_LINES, 1);
  const lines = input.count;
  const reads = input.reads.length - 1;
  const inputMb = input.data.length / 1024 / 1024;
  // LIVE_RUNS runs on fresh state, each right after its own JSON.parse loop: on a shared machine
  // one run can be 15% off; the median is the figure, the best shows the cost without interference
  const runs: Array<{ base: Clock; e2e: Clock; snapshot: Clock; events: number; sink: number }> = [];
  const timedRun = (inp: Input): E2e => {
    const parse = parseLoop(inp);
    const live = endToEnd(inp, join(dir, `bench-${runs.length}.sqlite`));
    runs.push({ base: parse.t, e2e: live.t, snapshot: live.snapshot, events: live.events, sink: parse.sink });
    return live;
  };
  const { tracker, store, events } = timedRun(input);

  // the daemon's steady state: input gone, 1,000 sessions in the model, the store open
  input = undefined;
  gc();
  const rssBurst = rssMb();
  // a daemon is idle between bursts: V8 then gives back the pages the burst grew
  const rss = await rssAfterIdle(gc);
  const mem = process.memoryUsage();
  const heap = mem.heapUsed / 1024 / 1024;
  const active = tracker.all().filter((s) => s.status === 'active' || s.status === 'idle').length;
  const stored = store.countEvents();
  const replayUs = replay(store);
  store.close();

  input = makeInput(TARGET_LINES, 1);
  while (runs.length < LIVE_RUNS) timedRun(input).store.close();
  input = undefined;
  const byCpu = [...runs].sort((a, b) => withSnapshots(a) - withSnapshots(b));
  const median = byCpu[Math.floor(byCpu.length / 2)] as (typeof runs)[number];
  const best = byCpu[0] as (typeof runs)[number];
  const base = { t: median.base, sink: median.sink };
  const e2e = median.e2e;
  const cpu = withSnapshots(median);

  const split = stages(makeInput(STAGE_LINES, 1), STAGE_LINES, dir);
  const long = longSession(1500);
  rmSync(dir, { recursive: true, force: true });
  return {
    lines,
    'input MB': inputMb,
    'events produced': events,
    'events stored': stored,
    'JSON.parse loop lines/s (CPU)': lines / (base.t.cpu / 1000),
    [`end-to-end lines/s (CPU, one core), median of ${LIVE_RUNS} runs`]: lines / (cpu / 1000),
    'ratio end-to-end / JSON.parse (CPU), median run': base.t.cpu / cpu,
    'end-to-end µs/line (CPU), median run': (cpu * 1000) / lines,
    'end-to-end lines/s (CPU), best run': lines / (withSnapshots(best) / 1000),
    'ratio end-to-end / JSON.parse (CPU), best run': best.base.cpu / withSnapshots(best),
    'end-to-end lines/s (CPU), each run': runs
      .map((x) => Math.round(lines / (withSnapshots(x) / 1000)))
      .join(' '),
    'snapshot of every session after the burst: ms (CPU), median run': median.snapshot.cpu,
    [`snapshots counted in end-to-end: one per ${SNAPSHOT_DEFAULTS.maxEvents} events, µs/line`]:
      ((cpu - e2e.cpu) * 1000) / lines,
    'end-to-end lines/s (CPU) without snapshots, median run': lines / (e2e.cpu / 1000),
    'end-to-end lines/s (CPU) with a whole snapshot per burst, median run':
      lines / ((e2e.cpu + median.snapshot.cpu) / 1000),
    'reads (appends), a read per turn': reads,
    'under load, reads of 10 turns: lines/s (CPU)': lines / (load.cpu / 1000),
    'under load: ratio to JSON.parse (CPU)': baseLoad.t.cpu / load.cpu,
    'under load: events stored': load.stored,
    'JSON.parse loop lines/s (wall)': lines / (base.t.wall / 1000),
    'end-to-end lines/s (wall)': lines / (e2e.wall / 1000),
    'ratio end-to-end / JSON.parse (wall)': base.t.wall / e2e.wall,
    'sessions in model (active or idle)': active,
    'RSS MB at start (runtime + modules)': rssStart,
    'RSS MB with 1,000 sessions, right after the burst (input released, GC)': rssBurst,
    'RSS MB with 1,000 sessions, after 10 s idle (steady state)': rss,
    'replay after a crash (no snapshot): CPU µs/event': replayUs,
    'JS heap MB with 1,000 sessions (used)': heap,
    'JS heap MB with 1,000 sessions (total)': mem.heapTotal / 1024 / 1024,
    'external MB with 1,000 sessions': mem.external / 1024 / 1024,
    ...split,
    ...long,
    checksum: base.sink > 0 ? 'ok' : 'none',
  };
}

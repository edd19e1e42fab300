/**
 * Fuzzed input through the real sources, pipeline and SQLite store: transcript lines mutated from
 * the real fixtures (numbers pushed to extremes, types swapped, lines cut, huge strings, bytes
 * that are not UTF-8) read by the file source; OTLP bodies (JSON and protobuf) posted to the
 * receiver over HTTP; gateway frames sent by the fake gateway over a real local WebSocket.
 *
 * Nothing may throw, and nothing absurd may come out: every stored event's time lies in the
 * window the sources keep (2020 to a day past now), no event carries more than the token and
 * cost ceilings, durations are bounded, no text is longer than its cap, and the store stays
 * proportionate to what it holds (bytes per input line are printed).
 *
 * Seeded (RELIABILITY_SEED) and bounded (RELIABILITY_FUZZ_LINES, _OTLP, _FRAMES), so a failure
 * reproduces. Figures print as `[reliability] fuzz <part>: <figure>` lines.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/infra/clock.js';
import { silentLogger } from '../../src/infra/logger.js';
import { createFileSource } from '../../src/ingest/files/file-source.js';
import { loadFixtureFrames, startFakeGateway } from '../../src/ingest/gateway/fake-gateway.helper.js';
import { createGatewaySource } from '../../src/ingest/gateway/gateway-source.js';
import { createOtlpReceiver } from '../../src/ingest/otlp/otlp-app.js';
import {
  encodeMetricsProto,
  encodeTracesProto,
  type KeyValue,
  type OtlpMetrics,
  type OtlpTraces,
} from '../../src/ingest/otlp/proto.js';
import type { IngestSink } from '../../src/ingest/source.js';
import type { PulseEvent } from '../../src/model/events.js';
import { createSessionTracker } from '../../src/model/tracker.js';
import { createPipeline, type Pipeline } from '../../src/pipeline.js';
import type { EventStore } from '../../src/store/event-store.js';
import { createSqliteStore } from '../../src/store/sqlite-store.js';
import { tempDir } from '../../src/test-support/temp-dir.js';
import { prng } from '../support/reliability-kit.js';

const SEED = Number(process.env.RELIABILITY_SEED) || 0xf022;
const LINES = Number(process.env.RELIABILITY_FUZZ_LINES) || 100_000;
const OTLP_BODIES = Number(process.env.RELIABILITY_FUZZ_OTLP) || 10_000;
const FRAMES = Number(process.env.RELIABILITY_FUZZ_FRAMES) || 20_000;

/** the bounds every source keeps (src/ingest/sanitize.ts); the test states them on its own */
const MIN_TS = Date.UTC(2020, 0, 1);
const DAY = 86_400_000;
const MAX_TOKENS = 100_000_000;
const MAX_COST = 10_000;
const MAX_DURATION = 7 * DAY;
/** no string of a stored event is longer (the text cap is 16 KiB; ids and names are shorter) */
const MAX_STRING = 16 * 1024;

const LIMITS = {
  maxStatusLines: 15,
  idleTimeoutMs: 60_000,
  maxSessionDurationMs: 1_800_000,
  stuckAfterMs: 300_000,
};

const print = (part: string, figure: string) => console.log(`[reliability] fuzz ${part}: ${figure}`);

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

const EXTREME_NUMBERS = [
  1e308,
  -1e308,
  -1,
  0,
  -(2 ** 63),
  2 ** 63,
  2 ** 64,
  2 ** 53 + 2,
  Number.MAX_SAFE_INTEGER,
  1e-300,
  0.5,
  -0.25,
  4e15,
  1e13,
  123_456_789_012,
];
const EXTREME_TIMES = [
  '+275760-09-13T00:00:00.000Z',
  '-271821-04-20T00:00:00.000Z',
  '1970-01-01T00:00:00.000Z',
  '1969-12-31T23:59:59.999Z',
  '9999-12-31T23:59:59.999Z',
  '2554-07-21T23:34:33.709Z',
  '2019-12-31T23:59:59.999Z',
  '2026-13-45T99:99:99.999Z',
  'yesterday',
  '',
  '1e308',
];
const ODD_VALUES: unknown[] = [null, true, false, 42, -7, 'x', '', [], {}, [1, 'a', null], { a: { b: [] } }];

/** a block of random printable text (and a little non-ASCII) that huge strings are cut from */
function textBlock(r: Rand): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ0123456789.,;:-_/\\"\n\t{}[]';
  let s = '';
  for (let i = 0; i < 65_536; i++) s += alphabet[Math.floor(r() * alphabet.length)];
  return s;
}

function hugeString(r: Rand, block: string): string {
  // mostly 16-256 KiB; one in ten 1-4 MiB (the 4 MB line of the report)
  const size = r() < 0.1 ? int(r, 1 << 20, 4 << 20) : int(r, 16 << 10, 256 << 10);
  const start = int(r, 0, 1000);
  let s = block.slice(start);
  while (s.length < size) s += block;
  s = s.slice(0, size);
  return r() < 0.2 ? `${s.slice(0, size >> 1)}é—😀${s.slice(size >> 1)}` : s;
}

type Path = Array<string | number>;

/** every path to a value inside `v` (objects and arrays included, the root excluded) */
function paths(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  if (v && typeof v === 'object') {
    for (const [k, c] of Object.entries(v)) {
      const p = [...at, Array.isArray(v) ? Number(k) : k];
      out.push(p);
      paths(c, p, out);
    }
  }
  return out;
}

function getAt(root: unknown, p: Path): unknown {
  let v = root as Record<string | number, unknown> | undefined;
  for (const k of p) v = v?.[k] as Record<string | number, unknown> | undefined;
  return v;
}

function setAt(root: unknown, p: Path, value: unknown, remove = false): void {
  const parent = getAt(root, p.slice(0, -1)) as Record<string | number, unknown> | undefined;
  if (!parent || typeof parent !== 'object') return;
  const k = p[p.length - 1] as string | number;
  if (remove && !Array.isArray(parent)) delete parent[k];
  else parent[k] = value;
}

const TIME_KEYS = new Set([
  'timestamp',
  'ts',
  'updatedAt',
  'startedAt',
  'endedAt',
  'createdAt',
  'recordTimestampMs',
  'durationMs',
  'timeUnixNano',
  'startTimeUnixNano',
  'endTimeUnixNano',
]);

/**
 * One structural mutation of a parsed value, in place: a number to an extreme, a time field to
 * an absurd one, a value of another type, a field removed, a string made huge.
 */
function mutateValue(r: Rand, v: unknown, block: string, hugeOdds: number): void {
  const all = paths(v);
  if (!all.length) return;
  const numbers = all.filter((p) => typeof getAt(v, p) === 'number');
  const times = all.filter((p) => TIME_KEYS.has(String(p[p.length - 1])));
  const strings = all.filter((p) => typeof getAt(v, p) === 'string');
  const x = r();
  if (x < hugeOdds && strings.length) {
    setAt(v, pick(r, strings), hugeString(r, block));
  } else if (x < 0.4 && numbers.length) {
    setAt(v, pick(r, numbers), pick(r, EXTREME_NUMBERS));
  } else if (x < 0.6 && times.length) {
    const p = pick(r, times);
    setAt(v, p, typeof getAt(v, p) === 'string' ? pick(r, EXTREME_TIMES) : pick(r, EXTREME_NUMBERS));
  } else if (x < 0.8) {
    setAt(v, pick(r, all), structuredClone(pick(r, ODD_VALUES)));
  } else if (x < 0.9) {
    setAt(v, pick(r, all), undefined, true);
  } else if (strings.length) {
    const p = pick(r, strings);
    setAt(v, p, `${String(getAt(v, p))}${pick(r, ['\u0000', '\u2028', '\ud800', 'é', '😀', '"', '\\'])}`);
  }
}

/** what a stored event may not carry; collects the figures the test prints */
class EventAudit {
  events = 0;
  maxTs = Number.NEGATIVE_INFINITY;
  minTs = Number.POSITIVE_INFINITY;
  outOfWindow = 0;
  maxTokens = 0;
  maxCost = 0;
  overCeiling = 0;
  badDurations = 0;
  maxString = 0;
  longStrings = 0;
  examples: string[] = [];

  constructor(readonly upper: number) {}

  private bad(what: string, e: PulseEvent): void {
    if (this.examples.length < 5)
      this.examples.push(`${what}: ${JSON.stringify({ ...e, text: undefined }).slice(0, 300)}`);
  }

  check(e: PulseEvent): void {
    this.events++;
    const ts = e.ts;
    if (ts > this.maxTs) this.maxTs = ts;
    if (ts < this.minTs) this.minTs = ts;
    if (!(typeof ts === 'number' && ts >= MIN_TS && ts <= this.upper)) {
      this.outOfWindow++;
      this.bad('ts', e);
    }
    if (e.type === 'session.seen' && e.updatedAt !== undefined) {
      if (!(e.updatedAt >= MIN_TS && e.updatedAt <= this.upper)) {
        this.outOfWindow++;
        this.bad('updatedAt', e);
      }
    }
    if (e.type === 'llm.tokens') {
      for (const n of [e.input, e.output, e.cacheRead, e.cacheWrite, e.reasoning]) {
        if (n > this.maxTokens) this.maxTokens = n;
        if (!(Number.isInteger(n) && n >= 0 && n <= MAX_TOKENS)) {
          this.overCeiling++;
          this.bad('tokens', e);
        }
      }
      if (e.costUsd > this.maxCost) this.maxCost = e.costUsd;
      if (!(e.costUsd >= 0 && e.costUsd <= MAX_COST)) {
        this.overCeiling++;
        this.bad('cost', e);
      }
    }
    const d =
      e.type === 'tool.output' || e.type === 'tool.error'
        ? e.durationMs
        : e.type === 'session.stuck'
          ? e.ageMs
          : undefined;
    if (d !== undefined && !(d >= 0 && d <= MAX_DURATION)) {
      this.badDurations++;
      this.bad('duration', e);
    }
    for (const v of Object.values(e)) {
      const n = typeof v === 'string' ? v.length : 0;
      if (n > this.maxString) this.maxString = n;
      if (n > MAX_STRING) this.longStrings++;
    }
  }

  figures(part: string): void {
    print(part, `stored events ${this.events}`);
    print(part, `events out of the time window ${this.outOfWindow}`);
    print(
      part,
      `time range ${fmtTime(this.minTs)} .. ${fmtTime(this.maxTs)} (max ts ${this.maxTs.toExponential(3)})`,
    );
    print(part, `max tokens in one event ${this.maxTokens.toExponential(3)}`);
    print(part, `max cost in one event $${this.maxCost.toExponential(3)}`);
    print(part, `events over a token/cost ceiling ${this.overCeiling}`);
    print(part, `out-of-bounds durations ${this.badDurations}`);
    print(part, `longest stored string ${this.maxString} chars (${this.longStrings} over ${MAX_STRING})`);
    for (const x of this.examples) print(part, `example ${x}`);
  }

  expectClean(): void {
    expect(this.outOfWindow, this.examples.join('\n')).toBe(0);
    expect(this.overCeiling, this.examples.join('\n')).toBe(0);
    expect(this.badDurations, this.examples.join('\n')).toBe(0);
    expect(this.longStrings).toBe(0);
  }
}

function fmtTime(ts: number): string {
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? String(ts) : d.toISOString();
}

interface Rig {
  store: EventStore;
  pipeline: Pipeline;
  sink: IngestSink;
  throws: { n: number };
  dbPath: string;
}

/** a real SQLite store and pipeline; the sink counts what the pipeline threw */
function rig(dir: string): Rig {
  const dbPath = join(dir, 'clawpulse.sqlite');
  const store = createSqliteStore(dbPath);
  const pipeline = createPipeline({ store, tracker: createSessionTracker(LIMITS), logger: silentLogger });
  const throws = { n: 0 };
  const sink: IngestSink = {
    ingest(events, offsets) {
      try {
        pipeline.ingest(events, offsets);
      } catch (err) {
        throws.n++;
        throw err;
      }
    },
  };
  return { store, pipeline, sink, throws, dbPath };
}

/** every stored event through the audit, the model's sessions too; the store closed */
function audit(part: string, r: Rig): { audit: EventAudit; storeBytes: number; badSessions: number } {
  r.store.flush();
  const a = new EventAudit(Date.now() + DAY);
  for (let after = 0; ; ) {
    const page = r.store.readAfter(after, 5000);
    if (!page.length) break;
    for (const s of page) a.check(s.event);
    after = (page[page.length - 1] as { seq: number }).seq;
  }
  let maxTotal = 0;
  let maxLast = 0;
  let badSessions = 0;
  for (const s of r.pipeline.tracker.all()) {
    maxTotal = Math.max(maxTotal, s.tokens.total);
    maxLast = Math.max(maxLast, s.lastEventAt);
    if (!(s.lastEventAt <= a.upper)) badSessions++;
  }
  print(part, `sessions ${r.pipeline.tracker.all().length}, max lastEventAt ${fmtTime(maxLast)}`);
  print(part, `max session token total ${maxTotal.toExponential(3)}`);
  print(part, `sessions with lastEventAt past now + 1 day ${badSessions}`);
  print(part, `pipeline throws ${r.throws.n}, listener errors ${r.pipeline.stats().listenerErrors}`);
  r.store.close();
  let storeBytes = 0;
  for (const f of [r.dbPath, `${r.dbPath}-wal`]) if (existsSync(f)) storeBytes += statSync(f).size;
  const db = new Database(r.dbPath, { readonly: true });
  const chunk = db
    .prepare('SELECT max(length(CAST(body AS BLOB))) AS max, count(*) AS n FROM chunks')
    .get() as {
    max: number | null;
    n: number;
  };
  db.close();
  print(part, `store chunks ${chunk.n}, largest ${((chunk.max ?? 0) / 1024).toFixed(0)} KiB`);
  return { audit: a, storeBytes, badSessions };
}

/** transcript lines of the real fixtures (test/fixtures and ../shared/fixtures), deduplicated */
function fixtureLines(): string[] {
  const dirs = [
    new URL('../fixtures/openclaw/', import.meta.url).pathname,
    new URL('../../../shared/fixtures/openclaw/', import.meta.url).pathname,
  ];
  const lines = new Set<string>();
  for (const root of dirs) {
    if (!existsSync(root)) continue;
    for (const v of readdirSync(root)) {
      const dir = join(root, v);
      for (const f of readdirSync(dir)) {
        if (!/^[0-9a-f-]{36}\.jsonl$/.test(f)) continue;
        for (const l of readFileSync(join(dir, f), 'utf8').split('\n')) if (l.trim()) lines.add(l);
      }
    }
  }
  return [...lines];
}

const SESSIONS = 20;
const sessionId = (s: number) => `f0220000-0000-4000-8000-${s.toString(16).padStart(12, '0')}`;

/** LINES fuzzed transcript lines in SESSIONS transcripts; returns the bytes written */
function writeFuzzedTranscripts(
  sessionsDir: string,
  r: Rand,
): { bytes: number; kinds: Record<string, number> } {
  const templates = fixtureLines().map((l) => JSON.parse(l) as Record<string, unknown>);
  const block = textBlock(r);
  const files: Buffer[][] = Array.from({ length: SESSIONS }, () => []);
  const kinds: Record<string, number> = {};
  const count = (k: string) => {
    kinds[k] = (kinds[k] ?? 0) + 1;
  };
  let bytes = 0;
  for (let i = 0; i < LINES; i++) {
    const s = i % SESSIONS;
    const t = structuredClone(pick(r, templates));
    // fresh entry ids so lines do not dedupe away (a mutation may still break them)
    if (typeof t.id === 'string') t.id = `${(i * 2654435761) >>> 0}`.padStart(10, '0');
    const x = r();
    let text: string;
    if (x < 0.08) {
      count('unchanged');
      text = JSON.stringify(t);
    } else if (x < 0.14) {
      count('cut short');
      const full = JSON.stringify(t);
      text = full.slice(0, int(r, 0, full.length - 1));
    } else if (x < 0.16) {
      count('raw bytes');
      text = pick(r, [
        '\xff\xfe{"type":"message"}',
        '{"type":"message","message":{"role":"user","content":"\ud800"}}',
        `${'['.repeat(20_000)}${']'.repeat(20_000)}`,
        '{"type":"message","message":{"role":"assistant","usage":{"input":1e999}}}',
        '{"type":"message","timestamp":"2026-11-21T14:46:59.349Z","message":{"role":"assistant","timestamp":-9223372036854775808,"usage":{"input":18446744073709551616,"output":-1,"cost":{"total":1e308}}}}',
        'null',
        '"just a string"',
        '',
      ]);
    } else {
      const n = int(r, 1, 3);
      for (let k = 0; k < n; k++) mutateValue(r, t, block, 0.002);
      count(`${n} mutation${n > 1 ? 's' : ''}`);
      text = JSON.stringify(t) ?? 'undefined';
    }
    const buf = text.startsWith('\xff')
      ? Buffer.from([0xff, 0xfe, ...Buffer.from(text.slice(2))])
      : Buffer.from(text);
    (files[s] as Buffer[]).push(buf, Buffer.from('\n'));
    bytes += buf.length + 1;
  }
  const index: Record<string, unknown> = {};
  for (let s = 0; s < SESSIONS; s++) {
    index[`agent:main:fuzz:${s}`] = { sessionId: sessionId(s), updatedAt: Date.now() };
    writeFileSync(join(sessionsDir, `${sessionId(s)}.jsonl`), Buffer.concat(files[s] as Buffer[]));
  }
  writeFileSync(join(sessionsDir, 'sessions.json'), JSON.stringify(index));
  return { bytes, kinds };
}

describe('fuzzed input through the real sources, pipeline and store', () => {
  it(`transcripts: ${LINES} mutated lines through the file source`, async () => {
    const r = prng(SEED);
    const root = tempDir('clawpulse-fuzz-files-');
    const stateDir = join(root, 'openclaw');
    const sessionsDir = join(stateDir, 'agents', 'main', 'sessions');
    mkdirSync(sessionsDir, { recursive: true });
    const t0 = Date.now();
    const input = writeFuzzedTranscripts(sessionsDir, r);
    print('transcripts', `seed ${SEED}, ${LINES} lines, ${(input.bytes / 1e6).toFixed(1)} MB written`);
    print('transcripts', `mutations ${JSON.stringify(input.kinds)}`);

    const rg = rig(root);
    const src = createFileSource({
      stateDir,
      sink: rg.sink,
      offsets: rg.store,
      logger: silentLogger,
      clock: systemClock,
      usePolling: true,
      pollIntervalMs: 60_000,
    });
    const t1 = Date.now();
    await src.start();
    await src.scanNow();
    const health = src.health() as ReturnType<typeof src.health> & { anomalies?: number };
    await src.stop();
    print('transcripts', `read in ${Date.now() - t1} ms (written in ${t1 - t0} ms)`);
    print(
      'transcripts',
      `malformed lines ${health.malformed}, anomalies counted ${health.anomalies ?? 'n/a'}`,
    );

    const { audit: a, storeBytes, badSessions } = audit('transcripts', rg);
    a.figures('transcripts');
    print(
      'transcripts',
      `store ${(storeBytes / 1e6).toFixed(1)} MB, ${(storeBytes / LINES).toFixed(0)} bytes per input line`,
    );
    print('transcripts', `input ${(input.bytes / LINES).toFixed(0)} bytes per line`);

    expect(rg.throws.n).toBe(0);
    expect(a.events).toBeGreaterThan(LINES / 4);
    a.expectClean();
    expect(badSessions).toBe(0);
    expect(health.anomalies).toBeGreaterThan(0);
    // every event is capped: a store of fuzzed lines stays near what a store of real lines takes
    // (~350 bytes per line here), not what the huge lines weighed (1,076 bytes per line uncapped)
    expect(storeBytes / LINES).toBeLessThan(512);
  });

  it(`OTLP: ${OTLP_BODIES} fuzzed bodies (JSON and protobuf) posted to the receiver`, async () => {
    const r = prng(SEED + 1);
    const root = tempDir('clawpulse-fuzz-otlp-');
    const rg = rig(root);
    const rx = createOtlpReceiver({
      sink: rg.sink,
      logger: silentLogger,
      maxBodyBytes: 8 << 20,
      clock: systemClock,
    });
    const server = serve({ fetch: rx.app.fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const port = (server.address() as AddressInfo).port;
    const block = textBlock(r);
    const statuses: Record<number, number> = {};
    let sent = 0;
    const t0 = Date.now();
    const one = async (i: number) => {
      const metrics = i % 2 === 0;
      const tpl = metrics ? otlpMetricsTemplate(i) : otlpTracesTemplate(i);
      const n = int(r, 1, 3);
      for (let k = 0; k < n; k++) mutateOtlp(r, tpl, block);
      const asProto = r() < 0.5;
      let body: Uint8Array | string;
      if (asProto) {
        try {
          body = metrics ? encodeMetricsProto(tpl as OtlpMetrics) : encodeTracesProto(tpl as OtlpTraces);
        } catch {
          body = metrics
            ? encodeMetricsProto(otlpMetricsTemplate(i))
            : encodeTracesProto(otlpTracesTemplate(i));
        }
        if (r() < 0.2) {
          const b = Buffer.from(body);
          for (let k = 0; k < int(r, 1, 4); k++) b[int(r, 0, b.length - 1)] = int(r, 0, 255);
          body = b.subarray(0, int(r, 1, b.length));
        }
      } else {
        body = JSON.stringify(tpl);
        if (r() < 0.05) body = body.slice(0, int(r, 0, body.length));
      }
      const res = await fetch(`http://127.0.0.1:${port}/v1/${metrics ? 'metrics' : 'traces'}`, {
        method: 'POST',
        headers: { 'content-type': asProto ? 'application/x-protobuf' : 'application/json' },
        body: typeof body === 'string' ? body : new Uint8Array(body),
      });
      await res.arrayBuffer();
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      sent++;
    };
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < OTLP_BODIES) await one(next++);
      }),
    );
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const st = rx.stats() as ReturnType<typeof rx.stats> & { anomalies?: number };
    print(
      'otlp',
      `seed ${SEED + 1}, ${sent} bodies in ${Date.now() - t0} ms, statuses ${JSON.stringify(statuses)}`,
    );
    print(
      'otlp',
      `events ${st.events}, rejected points/spans ${st.rejected}, anomalies counted ${st.anomalies ?? 'n/a'}`,
    );
    const { audit: a, storeBytes, badSessions } = audit('otlp', rg);
    a.figures('otlp');
    print(
      'otlp',
      `store ${(storeBytes / 1e6).toFixed(1)} MB, ${(storeBytes / OTLP_BODIES).toFixed(0)} bytes per body`,
    );

    expect(rg.throws.n).toBe(0);
    expect(Object.keys(statuses).every((s) => s === '200' || s === '400')).toBe(true);
    expect(statuses[200]).toBeGreaterThan(OTLP_BODIES / 4);
    a.expectClean();
    expect(badSessions).toBe(0);
    expect(st.anomalies).toBeGreaterThan(0);
  });

  it(`gateway: ${FRAMES} mutated frames over a real local WebSocket`, async () => {
    const r = prng(SEED + 2);
    const root = tempDir('clawpulse-fuzz-gw-');
    const rg = rig(root);
    const fixtures = [loadFixtureFrames('v2026.9.6'), loadFixtureFrames('v2026.7.35')];
    const block = textBlock(r);
    const frames: string[] = [];
    let raw = 0;
    for (let cycle = 0; frames.length < FRAMES; cycle++) {
      for (const fx of fixtures) {
        for (const f of fx.events) {
          if (frames.length >= FRAMES) break;
          const frame = structuredClone(f) as { payload?: Record<string, unknown> };
          // each cycle is new runs, so its facts are new rather than duplicates
          const p = frame.payload;
          if (p && typeof p.runId === 'string') p.runId = `${p.runId}:${cycle}`;
          if (p && typeof p.messageId === 'string') p.messageId = `${p.messageId}:${cycle}`;
          const x = r();
          if (x < 0.05) {
            raw++;
            const text = JSON.stringify(frame);
            frames.push(text.slice(0, int(r, 0, text.length - 1)));
            continue;
          }
          if (x > 0.1) {
            const target = p && r() < 0.9 ? p : frame;
            for (let k = int(r, 1, 3); k > 0; k--) mutateValue(r, target, block, 0.003);
          }
          frames.push(JSON.stringify(frame));
        }
      }
    }
    const fx = fixtures[0] as (typeof fixtures)[number];
    let done!: () => void;
    const allSent = new Promise<void>((resolve) => {
      done = resolve;
    });
    const g = await startFakeGateway({
      hello: fx.hello,
      subscribe: () => fx.subscribe,
      onLive: (c) => {
        let i = 0;
        // in slices, so the socket's buffer never holds the whole run
        const step = () => {
          for (let k = 0; k < 500 && i < frames.length; k++) c.sendRaw(frames[i++] as string);
          if (i < frames.length) setImmediate(step);
          else done();
        };
        step();
      },
    });
    const src = createGatewaySource({
      url: g.url,
      sink: rg.sink,
      offsets: rg.store,
      logger: silentLogger,
      clock: systemClock,
      stateDir: root,
    });
    const t0 = Date.now();
    await src.start();
    await allSent;
    // the handshake's frames (challenge, hello, subscribe) and every frame sent
    const want = frames.length + 3;
    const deadline = Date.now() + 120_000;
    while (src.stats().frames < want && Date.now() < deadline)
      await new Promise((res) => setTimeout(res, 50));
    const stats = src.stats();
    const health = src.health() as ReturnType<typeof src.health> & { anomalies?: number };
    await src.stop();
    await g.close();
    print('gateway', `seed ${SEED + 2}, ${frames.length} frames (${raw} cut short) in ${Date.now() - t0} ms`);
    print(
      'gateway',
      `frames received ${stats.frames}, malformed ${stats.malformed}, events ${stats.events}, anomalies counted ${health.anomalies ?? 'n/a'}`,
    );
    const { audit: a, storeBytes, badSessions } = audit('gateway', rg);
    a.figures('gateway');
    print(
      'gateway',
      `store ${(storeBytes / 1e6).toFixed(1)} MB, ${(storeBytes / FRAMES).toFixed(0)} bytes per frame`,
    );

    expect(stats.frames).toBe(want);
    expect(g.conns.length).toBe(1);
    expect(rg.throws.n).toBe(0);
    expect(stats.events).toBeGreaterThan(FRAMES / 10);
    a.expectClean();
    expect(badSessions).toBe(0);
    expect(health.anomalies).toBeGreaterThan(0);
  });
});

// ---- OTLP bodies ----

const attr = (key: string, value: unknown): KeyValue => ({
  key,
  value:
    typeof value === 'number'
      ? Number.isInteger(value)
        ? { intValue: String(value) }
        : { doubleValue: value }
      : { stringValue: String(value) },
});

const nowNs = () => `${BigInt(Date.now()) * 1_000_000n}`;

function otlpMetricsTemplate(i: number): OtlpMetrics {
  const key = `agent:main:otlp:${i % 50}`;
  const time = nowNs();
  const start = `${BigInt(Date.now() - 60_000) * 1_000_000n}`;
  const point = (token: string, v: number) => ({
    attributes: [
      attr('openclaw.token', token),
      attr('openclaw.sessionKey', key),
      attr('openclaw.model', 'fake'),
    ],
    startTimeUnixNano: start,
    timeUnixNano: time,
    asInt: String(v),
  });
  return {
    resourceMetrics: [
      {
        resource: { attributes: [attr('service.name', 'openclaw'), attr('openclaw.agent', 'main')] },
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'openclaw.tokens',
                sum: {
                  aggregationTemporality: 1,
                  dataPoints: [point('input', 100 + i), point('output', 20 + i), point('cache_read', 5)],
                },
              },
              {
                name: 'openclaw.cost.usd',
                sum: {
                  aggregationTemporality: 1,
                  dataPoints: [
                    {
                      attributes: [attr('openclaw.model', 'fake')],
                      timeUnixNano: time,
                      asDouble: 0.0012,
                    },
                  ],
                },
              },
              {
                name: 'openclaw.session.stuck_age_ms',
                gauge: {
                  dataPoints: [
                    { attributes: [attr('openclaw.sessionKey', key)], timeUnixNano: time, asInt: '120000' },
                  ],
                },
              },
              {
                name: 'openclaw.session.stuck_age_ms',
                histogram: {
                  aggregationTemporality: 1,
                  dataPoints: [
                    {
                      attributes: [attr('openclaw.sessionKey', key)],
                      timeUnixNano: time,
                      count: '2',
                      sum: 240000,
                      max: 130000,
                    },
                  ],
                },
              },
            ],
          },
        ],
      },
    ],
  };
}

function otlpTracesTemplate(i: number): OtlpTraces {
  const key = `agent:main:otlp:${i % 50}`;
  const t = BigInt(Date.now()) * 1_000_000n;
  const hex = (n: number, len: number) => (n >>> 0).toString(16).padStart(len, '0');
  const trace = `${hex(i, 8)}${'0'.repeat(24)}`;
  const span = (k: number, name: string, attrs: KeyValue[], status?: { code: number; message: string }) => ({
    traceId: trace,
    spanId: `${hex(i, 8)}${hex(k, 8)}`,
    name,
    startTimeUnixNano: `${t - 5_000_000_000n + BigInt(k) * 1_000_000n}`,
    endTimeUnixNano: `${t}`,
    attributes: [attr('openclaw.sessionKey', key), ...attrs],
    ...(status ? { status } : {}),
  });
  return {
    resourceSpans: [
      {
        resource: { attributes: [attr('service.name', 'openclaw')] },
        scopeSpans: [
          {
            spans: [
              span(1, 'openclaw.run', [attr('openclaw.runId', `run-${i}`)]),
              span(
                2,
                'openclaw.model.call',
                [attr('gen_ai.request.model', 'fake'), attr('openclaw.step', 1)],
                {
                  code: 2,
                  message: '529 overloaded',
                },
              ),
              span(3, 'openclaw.tool.execution', [
                attr('gen_ai.tool.name', 'exec'),
                attr('gen_ai.tool.call.id', `c${i}`),
              ]),
              span(4, 'openclaw.session.stuck', [
                attr('openclaw.state', 'processing'),
                attr('openclaw.ageMs', 90_000),
              ]),
            ],
          },
        ],
      },
    ],
  };
}

const OTLP_NUMBERS: unknown[] = [
  '18446744073709551616',
  '18446744073709551615',
  '9223372036854775807',
  '-9223372036854775808',
  '9007199254740993',
  '99999999999999999999999',
  '-1',
  '0',
  1e308,
  -1e308,
  -1,
  2 ** 64,
  1e30,
  0.5,
  'NaN',
  '1e3',
];
const OTLP_KEYS = new Set([
  'asInt',
  'asDouble',
  'intValue',
  'doubleValue',
  'timeUnixNano',
  'startTimeUnixNano',
  'endTimeUnixNano',
  'count',
  'sum',
  'max',
]);

function mutateOtlp(r: Rand, v: unknown, block: string): void {
  const numeric = paths(v).filter((p) => OTLP_KEYS.has(String(p[p.length - 1])));
  if (r() < 0.6 && numeric.length) {
    setAt(v, pick(r, numeric), pick(r, OTLP_NUMBERS));
    return;
  }
  mutateValue(r, v, block, 0.01);
}

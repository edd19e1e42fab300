/**
 * End-to-end ingest: transcript lines through parse → normalize → SQLite store (a real file,
 * WAL) → model, against a bare JSON.parse loop over the same lines in the same run.
 * Also the process RSS once 1,000 sessions are active in the model.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processLine } from '../src/ingest/files/line-processor.js';
import { silentLogger } from '../src/infra/logger.js';
import { createSessionTracker } from '../src/model/tracker.js';
import { createTranscriptNormalizer } from '../src/openclaw/normalize.js';
import { createPipeline } from '../src/pipeline.js';
import { createSqliteStore } from '../src/store/sqlite-store.js';

const FIXTURE = new URL('../test/fixtures/openclaw/v2026.7.35/daa6b28a-5388-4104-8e50-89a5a783e4c6.jsonl', import.meta.url);
const SESSIONS = 1000;
const TARGET_LINES = 200_000;

/** Real transcript lines, repeated per session with fresh entry ids so none dedupes away. */
function makeLines(): Array<{ session: number; buf: Buffer }> {
  const template = readFileSync(FIXTURE, 'utf8').trim().split('\n');
  const out: Array<{ session: number; buf: Buffer }> = [];
  let n = 0;
  for (let round = 0; out.length < TARGET_LINES; round++) {
    for (let s = 0; s < SESSIONS && out.length < TARGET_LINES; s++) {
      for (const line of template) {
        if (round > 0 && line.includes('"type":"session"')) continue;
        const id = (n++).toString(16).padStart(8, '0');
        out.push({ session: s, buf: Buffer.from(line.replace(/"id":"[0-9a-f]{8}"/, `"id":"${id}"`)) });
      }
    }
  }
  return out;
}

export async function run(): Promise<Record<string, number | string>> {
  const lines = makeLines();
  const totalBytes = lines.reduce((a, l) => a + l.buf.length, 0);

  // baseline: a bare JSON.parse loop over the same bytes
  let t0 = performance.now();
  let sink = 0;
  for (const l of lines) sink += (JSON.parse(l.buf.toString('utf8')) as { type: string }).type.length;
  const parseMs = performance.now() - t0;

  const dir = mkdtempSync(join(tmpdir(), 'clawpulse-bench-'));
  const store = createSqliteStore(join(dir, 'bench.sqlite'));
  const tracker = createSessionTracker({ maxStatusLines: 15, idleTimeoutMs: 60_000, maxSessionDurationMs: 1_800_000, stuckAfterMs: 300_000 });
  const pipeline = createPipeline({ store, tracker, logger: silentLogger, snapshotEveryMs: 1000 });
  const normalizers = Array.from({ length: SESSIONS }, (_, s) =>
    createTranscriptNormalizer({ sessionKey: `agent:main:bench:${s}`, agentId: 'main', sessionId: `s-${s}`, source: 'files' }),
  );

  // the file source hands the pipeline one batch per read; 100 lines is a typical read here
  const BATCH = 100;
  t0 = performance.now();
  let events = 0;
  let batch: import('../src/model/events.js').PulseEvent[] = [];
  let inBatch = 0;
  for (const l of lines) {
    const r = processLine(l.buf, normalizers[l.session] as ReturnType<typeof createTranscriptNormalizer>);
    if (r.events.length) batch.push(...r.events);
    if (++inBatch === BATCH) {
      events += batch.length;
      pipeline.ingest(batch, [{ key: `files:/bench/${l.session}`, value: { pos: inBatch } }]);
      batch = [];
      inBatch = 0;
    }
  }
  if (batch.length) pipeline.ingest(batch);
  events += batch.length;
  pipeline.flushSnapshots();
  const e2eMs = performance.now() - t0;

  globalThis.gc?.();
  const rss = process.memoryUsage().rss / 1024 / 1024;
  const active = tracker.all().filter((s) => s.status === 'active' || s.status === 'idle').length;
  const stored = store.countEvents();
  store.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    lines: lines.length,
    'input MB': totalBytes / 1024 / 1024,
    'events produced': events,
    'events stored': stored,
    'JSON.parse loop lines/s': lines.length / (parseMs / 1000),
    'end-to-end lines/s (parse+model+SQLite)': lines.length / (e2eMs / 1000),
    'ratio end-to-end / JSON.parse': parseMs / e2eMs,
    'sessions in model (active or idle)': active,
    'RSS MB with 1,000 sessions': rss,
    checksum: sink > 0 ? 'ok' : 'none',
  };
}

/** Test kit for the OTLP exporter's tests and bench: pipelines fed the recorded sessions, exporters, a clawpulse B. */
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { serve } from '@hono/node-server';
import type { ManualClock } from '../../infra/clock.js';
import { silentLogger } from '../../infra/logger.js';
import { readStateDirOnce } from '../../ingest/files/once.js';
import { createOtlpReceiver } from '../../ingest/otlp/otlp-app.js';
import { createSessionTracker } from '../../model/tracker.js';
import { createPipeline, type Pipeline } from '../../pipeline.js';
import { createSqliteStore } from '../../store/sqlite-store.js';
import type { Protocol } from './encode.js';
import { createOtlpExporter, type OtlpExporter, signalUrl } from './exporter.js';

const LIMITS = {
  maxStatusLines: 15,
  idleTimeoutMs: 60_000,
  maxSessionDurationMs: 1_800_000,
  stuckAfterMs: 300_000,
};
/**
 * Real recorded OpenClaw 2026.7.35 sessions: a turn with `exec`, one spawning a sub-agent
 * (test/fixtures), and errors (a 529, a retried 529, two failed tools: demo/recordings'
 * errors-and-retries, kept beside this test).
 */
const fixture = (rel: string) => new URL(rel, import.meta.url);
const RECORDINGS = [
  {
    dir: fixture('../../../test/fixtures/openclaw/v2026.7.35/'),
    only: /^(sessions\.json|[0-9a-f-]{36}\.jsonl)$/,
  },
  { dir: fixture('./testdata/errors-and-retries/') },
];
/** what the running test started: its afterEach calls `cleanUp()` */
const cleanup: Array<() => Promise<void> | void> = [];
export function onCleanUp(f: () => Promise<void> | void): void {
  cleanup.push(f);
}
export async function cleanUp(): Promise<void> {
  for (const f of cleanup.splice(0).reverse()) await f();
}

export function tmp(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otlp-rt-'));
  cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function makePipeline(clock: { now(): number }): Pipeline {
  const store = createSqliteStore(path.join(tmp(), 'store.sqlite'));
  cleanup.push(() => store.close());
  return createPipeline({
    store,
    tracker: createSessionTracker(LIMITS),
    logger: silentLogger,
    now: () => clock.now(),
  });
}

/** the recorded sessions as the file source reads them (a state dir per recording) */
export function recordedEvents() {
  return RECORDINGS.flatMap((rec) => {
    const dir = tmp();
    const sessions = path.join(dir, 'agents/main/sessions');
    fs.mkdirSync(sessions, { recursive: true });
    for (const f of fs.readdirSync(rec.dir)) {
      if (!rec.only || rec.only.test(f)) fs.copyFileSync(new URL(f, rec.dir), path.join(sessions, f));
    }
    return readStateDirOnce(dir);
  });
}

export async function startB(clock: ManualClock) {
  const pipeline = makePipeline(clock);
  const rx = createOtlpReceiver({ sink: pipeline, logger: silentLogger, maxBodyBytes: 8 << 20, clock });
  const { server, port } = await new Promise<{ server: ReturnType<typeof serve>; port: number }>(
    (resolve) => {
      const server = serve({ fetch: rx.app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
        resolve({ server, port: info.port }),
      );
    },
  );
  cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
  return { pipeline, rx, url: `http://127.0.0.1:${port}` };
}

export function exporterTo(
  url: string,
  clock: ManualClock,
  protocol: Protocol = 'http/protobuf',
  extra = {},
) {
  const target = (s: 'traces' | 'metrics' | 'logs') => ({
    url: signalUrl(url, s),
    headers: {},
    protocol,
    timeoutMs: 5000,
    compression: 'none' as const,
  });
  const ex = createOtlpExporter(
    {
      traces: target('traces'),
      metrics: target('metrics'),
      logs: target('logs'),
      host: 'test-host',
      holdMs: 1000,
      queue: { random: () => 0.5, baseDelayMs: 1 },
      ...extra,
    },
    { clock, logger: silentLogger },
  );
  cleanup.push(() => ex.stop());
  return ex;
}

export async function drained(ex: OtlpExporter, ms = 5000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const s = ex.stats();
    if ([s.traces, s.metrics, s.logs].every((q) => !q || q.queued === 0)) return;
    if (Date.now() - t0 > ms) throw new Error(`not drained: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Mattermost sink benchmark, real clock, real pipeline (SQLite in a temp dir, the real
 * tracker) and the strict fake Mattermost on 127.0.0.1 with its limiter on at the server's
 * defaults (10/s, burst 100):
 *
 * 1. burst: 1,000 events within one second on one session. Budget: at most
 *    3 + (1 per THROTTLE_MS) post requests, and the final text reaching the server within
 *    THROTTLE_MS + 50 ms of the last event.
 * 2. fan-out: 100 sessions at once, each with an event every 100 ms for 5 s. Budget: under
 *    10 requests/s to the server in every one-second window.
 *
 *   npx tsx -e "import('./bench/mattermost.bench.ts').then(m => m.run()).then(r => console.log(r))"
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { systemClock } from '../src/infra/clock.js';
import { silentLogger } from '../src/infra/logger.js';
import type { PulseEvent } from '../src/model/events.js';
import { ev, testLimits } from '../src/model/test-events.js';
import { createSessionTracker } from '../src/model/tracker.js';
import { createPipeline } from '../src/pipeline.js';
import { BUILTIN_TOOL_LABELS } from '../src/render/tool-labels.js';
import { createMattermostSink } from '../src/sinks/mattermost/sink.js';
import { createSqliteStore } from '../src/store/sqlite-store.js';
import { type FakeMattermost, startFakeMattermost } from '../src/test-support/fake-mattermost/server.js';

const THROTTLE_MS = 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isPostRequest = (r: FakeMattermost['log'][number]) => r.path.startsWith('/api/v4/posts');

async function world() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawpulse-mm-bench-'));
  const mm = await startFakeMattermost({ rateLimit: { perSec: 10, maxBurst: 100 } });
  const channel = mm.addChannel();
  const store = createSqliteStore(path.join(dir, 'db.sqlite'));
  const pipeline = createPipeline({ store, tracker: createSessionTracker(testLimits), logger: silentLogger });
  const sink = createMattermostSink({
    config: {
      url: mm.url,
      token: mm.token,
      throttleMs: THROTTLE_MS,
      maxActiveSessions: 20,
      maxMessageChars: 15_000,
      breakerThreshold: 5,
      breakerCooldownMs: 30_000,
      pluginEnabled: false,
    },
    pipeline,
    store,
    logger: silentLogger,
    clock: systemClock,
    toolLabels: BUILTIN_TOOL_LABELS,
  });
  await sink.start();
  const close = async () => {
    await sink.stop();
    store.close();
    await mm.close();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { mm, channel, pipeline, sink, close };
}

async function burst(): Promise<Record<string, number | string>> {
  const w = await world();
  const key = `agent:main:mattermost:channel:${w.channel}`;
  const before = w.mm.log.length;
  const t0 = Date.now();
  w.pipeline.ingest([ev({ type: 'agent.started', ts: t0, sessionKey: key, runId: 'r1' })]);
  let lastEventAt = 0;
  for (let i = 0; i < 1000; i++) {
    const due = t0 + i; // one event per ms: 1,000 in one second
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    const e: PulseEvent = ev({
      type: 'assistant.text',
      ts: Date.now(),
      sessionKey: key,
      runId: 'r1',
      text: `event ${i}`,
    });
    w.pipeline.ingest([e]);
    lastEventAt = Date.now();
  }
  const burstMs = lastEventAt - t0;
  await sleep(THROTTLE_MS + 500);
  const reqs = w.mm.log.slice(before).filter(isPostRequest);
  const final = reqs.find((r) => JSON.stringify(r.body ?? '').includes('event 999'));
  const budget = 3 + Math.ceil(burstMs / THROTTLE_MS);
  await w.close();
  return {
    'burst.events': 1001,
    'burst.duration_ms': burstMs,
    'burst.post_requests': reqs.length,
    'burst.request_budget': budget,
    'burst.within_budget': reqs.length <= budget ? 'yes' : 'NO',
    'burst.final_latency_ms': final ? final.at - lastEventAt : -1,
    'burst.final_latency_budget_ms': THROTTLE_MS + 50,
    'burst.final_within_budget': final && final.at - lastEventAt <= THROTTLE_MS + 50 ? 'yes' : 'NO',
  };
}

async function fanOut(): Promise<Record<string, number | string>> {
  const w = await world();
  const before = w.mm.log.length;
  const keys = Array.from({ length: 100 }, (_, i) => `agent:a${i}:mattermost:channel:${w.channel}`);
  const t0 = Date.now();
  w.pipeline.ingest(
    keys.map((k, i) => ev({ type: 'agent.started', ts: t0, sessionKey: k, agentId: `a${i}`, runId: 'r' })),
  );
  for (let tick = 1; tick <= 50; tick++) {
    const wait = t0 + tick * 100 - Date.now();
    if (wait > 0) await sleep(wait);
    w.pipeline.ingest(
      keys.map((k, i) =>
        ev({
          type: 'assistant.text',
          ts: Date.now(),
          sessionKey: k,
          agentId: `a${i}`,
          runId: 'r',
          text: `tick ${tick}`,
        }),
      ),
    );
  }
  const end = Date.now();
  const reqs = w.mm.log.slice(before).filter((r) => r.at <= end);
  let maxWindow = 0;
  for (const r of reqs)
    maxWindow = Math.max(maxWindow, reqs.filter((x) => x.at >= r.at && x.at < r.at + 1000).length);
  const health = w.sink.health();
  const limited = w.mm.log.filter((r) => r.status === 429).length;
  await w.close();
  const secs = (end - t0) / 1000;
  return {
    'fanout.sessions': 100,
    'fanout.events': 100 + 100 * 50,
    'fanout.duration_s': Number(secs.toFixed(2)),
    'fanout.requests': reqs.length,
    'fanout.requests_per_s_avg': Number((reqs.length / secs).toFixed(2)),
    'fanout.requests_max_1s_window': maxWindow,
    'fanout.under_10_per_s': maxWindow < 10 ? 'yes' : 'NO',
    'fanout.live_boxes': health.boxes.live,
    'fanout.waiting_sessions': health.boxes.waiting,
    'fanout.server_429s': limited,
  };
}

export async function run(): Promise<Record<string, number | string>> {
  return { ...(await burst()), ...(await fanOut()) };
}

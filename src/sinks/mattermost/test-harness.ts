/**
 * A real pipeline (SQLite store in a temp dir, the real tracker) + the fake Mattermost + a
 * sink, for the sink's tests and the benchmark. Not shipped code.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Clock } from '../../infra/clock.js';
import { silentLogger } from '../../infra/logger.js';
import type { PulseEvent } from '../../model/events.js';
import { type EventInput, ev, testLimits } from '../../model/test-events.js';
import { createSessionTracker } from '../../model/tracker.js';
import { createPipeline, type Pipeline, restoreModel } from '../../pipeline.js';
import { BUILTIN_TOOL_LABELS } from '../../render/tool-labels.js';
import type { EventStore } from '../../store/event-store.js';
import { createSqliteStore } from '../../store/sqlite-store.js';
import {
  type FakeMattermost,
  type FakeMattermostOptions,
  startFakeMattermost,
} from '../../test-support/fake-mattermost/server.js';
import { createMattermostSink, type MattermostConfig, type MattermostSink } from './sink.js';

type NoTs<T> = T extends unknown ? Omit<T, 'ts'> & { ts?: number } : never;
export type HarnessEvent = NoTs<EventInput>;

export interface Harness {
  dir: string;
  dbPath: string;
  store: EventStore;
  pipeline: Pipeline;
  mm: FakeMattermost;
  sink: MattermostSink;
  channel: string;
  config: MattermostConfig;
  /** ingests events, stamping ts from the clock when not given */
  push(...inputs: HarnessEvent[]): void;
  /** a new sink + pipeline over the same SQLite file (a daemon restart) */
  restart(): Promise<Harness>;
  /**
   * a kill -9: the store is closed with no stop, no flush, no snapshot; a new sink + pipeline
   * open the same file with `clock` (the old sink's timers stay on the old clock, never fired)
   */
  crash(clock: Clock): Promise<Harness>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  clock: Clock;
  config?: Partial<MattermostConfig>;
  fake?: FakeMattermostOptions;
  /** reuse a running fake (restart) */
  mm?: FakeMattermost;
  dir?: string;
  channel?: string;
  pluginCheckEveryMs?: number;
  stopTimeoutMs?: number;
  /** server-wide pace; high by default so tests that are not about it never wait on it */
  maxRequestsPerSec?: number;
  requestBurst?: number;
}

export async function createHarness(opts: HarnessOptions): Promise<Harness> {
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'clawpulse-mm-'));
  const dbPath = path.join(dir, 'clawpulse.sqlite');
  const mm = opts.mm ?? (await startFakeMattermost(opts.fake));
  const channel = mm.addChannel(opts.channel);
  const store = createSqliteStore(dbPath);
  const tracker = createSessionTracker(testLimits);
  restoreModel(store, tracker);
  const pipeline = createPipeline({
    store,
    tracker,
    logger: silentLogger,
    now: () => opts.clock.now(),
    snapshotEveryMs: 0,
  });
  const config: MattermostConfig = {
    url: mm.url,
    token: mm.token,
    defaultChannel: undefined,
    throttleMs: 500,
    maxActiveSessions: 20,
    maxMessageChars: 15_000,
    breakerThreshold: 5,
    breakerCooldownMs: 30_000,
    pluginEnabled: false,
    ...opts.config,
  };
  const sink = createMattermostSink({
    config,
    pipeline,
    store,
    logger: silentLogger,
    clock: opts.clock,
    toolLabels: BUILTIN_TOOL_LABELS,
    pluginCheckEveryMs: opts.pluginCheckEveryMs,
    stopTimeoutMs: opts.stopTimeoutMs ?? 1000,
    maxRequestsPerSec: opts.maxRequestsPerSec ?? 1000,
    requestBurst: opts.requestBurst ?? 100,
    modelLimits: testLimits,
  });
  let closed = false;
  const h: Harness = {
    dir,
    dbPath,
    store,
    pipeline,
    mm,
    sink,
    channel,
    config,
    push(...inputs) {
      const events: PulseEvent[] = inputs.map((i) =>
        ev({ ...i, ts: i.ts ?? opts.clock.now() } as EventInput),
      );
      pipeline.ingest(events);
    },
    async restart() {
      await sink.stop();
      pipeline.flushSnapshots();
      store.close();
      closed = true;
      return createHarness({ ...opts, mm, dir, channel, config });
    },
    async crash(next) {
      store.close();
      closed = true;
      return createHarness({ ...opts, clock: next, mm, dir, channel, config });
    },
    async close() {
      if (!closed) {
        await sink.stop();
        store.close();
        closed = true;
      }
      await mm.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}

/** waits for I/O (HTTP round trips to the fake), never for a throttle: time only moves via the clock */
export async function waitFor(cond: () => boolean, what = 'condition', timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** lets in-flight HTTP round trips land: waits until the fake has answered everything it got */
export async function settle(mm: FakeMattermost): Promise<void> {
  await new Promise((r) => setTimeout(r, 20));
  await waitFor(() => mm.log.every((r) => r.status !== 0), 'fake to answer');
  await new Promise((r) => setTimeout(r, 20));
}

/** waits until n boxes exist on the fake AND the sink has seen the create answers */
export async function waitForBoxes(h: Harness, n: number): Promise<void> {
  await waitFor(() => h.mm.livePosts().length === n && h.sink.health().counters.creates >= n, `${n} box(es)`);
}

/**
 * Test kit for the alert rules and engine: a real pipeline (SQLite store in memory, the real
 * SessionTracker) on a ManualClock, an engine subscribed to it, and a destination that records
 * what it was sent. Time moves only with `advance` (which also runs the daemon's tick).
 */
import type { LifecycleEvent } from '../dispatch/lifecycle.js';
import { ManualClock } from '../infra/clock.js';
import { silentLogger } from '../infra/logger.js';
import { type EventInput, ev, testLimits } from '../model/test-events.js';
import type { SessionTracker } from '../model/tracker.js';
import { createSessionTracker } from '../model/tracker.js';
import { createPipeline, type Pipeline } from '../pipeline.js';
import type { SinkHealth } from '../server/health.js';
import type { AlertStore } from '../store/alert-store.js';
import { createSqliteStore, type SqliteStore } from '../store/sqlite-store.js';
import type { Alert, AlertDestination } from './alert.js';
import { type AlertEngine, createAlertEngine } from './engine.js';
import type { Rule } from './rules/rule.js';

/** an event as tests write it: ts defaults to the clock's now */
export type KitEvent = EventInput extends infer U
  ? U extends unknown
    ? Omit<U, 'ts'> & { ts?: number }
    : never
  : never;

export const T0 = Date.parse('2026-12-07T10:00:00.000Z');

export interface RecordingDestination extends AlertDestination {
  sent: Alert[];
}

export function recordingDestination(name = 'recorder'): RecordingDestination {
  const sent: Alert[] = [];
  return {
    name,
    sent,
    send: async (a) => {
      sent.push(structuredClone(a));
    },
    health: (): SinkHealth => ({
      id: name,
      kind: name,
      breaker: 'closed',
      requests: sent.length,
      failures: 0,
    }),
  };
}

export interface AlertHarness {
  clock: ManualClock;
  store: SqliteStore;
  alerts: AlertStore;
  pipeline: Pipeline;
  tracker: SessionTracker;
  engine: AlertEngine;
  dest: RecordingDestination;
  /** ingests events at the clock's time (ts defaults to now) */
  ingest(...events: KitEvent[]): void;
  /** moves time and runs the tick as the daemon does */
  advance(ms: number): void;
  lifecycle(e: Omit<LifecycleEvent, 'ts' | 'host'> & { ts?: number }): void;
  /** what the destination got: `firing:stuck:<key>`-like lines, in order */
  log(): string[];
  close(): void;
}

export function alertHarness(
  rules: (h: { tracker: SessionTracker; store: SqliteStore; clock: ManualClock }) => Rule[],
  opts: { store?: SqliteStore; start?: number } = {},
): AlertHarness {
  const clock = new ManualClock(opts.start ?? T0);
  const store = opts.store ?? createSqliteStore(':memory:');
  const tracker = createSessionTracker(testLimits);
  const pipeline = createPipeline({ store, tracker, logger: silentLogger, now: () => clock.now() });
  const dest = recordingDestination();
  const engine = createAlertEngine({
    rules: rules({ tracker, store, clock }),
    store: store.alerts(),
    destinations: () => [dest],
    clock,
    logger: silentLogger,
  });
  pipeline.subscribe((u) => engine.update(u));
  return {
    clock,
    store,
    alerts: store.alerts(),
    pipeline,
    tracker,
    engine,
    dest,
    ingest: (...events) => {
      pipeline.ingest(events.map((e) => ev({ ts: clock.now(), ...e } as EventInput)));
    },
    advance(ms) {
      clock.advance(ms);
      pipeline.tick(clock.now());
      engine.tick(clock.now());
    },
    lifecycle: (e) => engine.lifecycle({ ts: clock.now(), host: 'h', ...e }),
    log: () => dest.sent.map((a) => `${a.state}:${a.key}`),
    close: () => store.close(),
  };
}

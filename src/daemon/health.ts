/**
 * The daemon's /health report: sources (state, lag), sinks (breaker), store, sessions by
 * status, plus the pipeline's own counters (a store that refuses writes shows here).
 */

import type { SourceArbiter } from '../ingest/arbiter.js';
import type { Source, SourceHealth } from '../ingest/source.js';
import type { SessionTracker } from '../model/tracker.js';
import type { Pipeline, PipelineStats } from '../pipeline.js';
import {
  buildHealthReport,
  type HealthReport,
  type MetricsInput,
  type SinkHealth,
} from '../server/health.js';
import type { EventStore } from '../store/event-store.js';
import { VERSION } from '../version.js';
import type { DaemonDispatch } from './dispatch.js';

export interface DaemonHealth extends HealthReport {
  pipeline: PipelineStats & { droppedByArbiter: number };
  /**
   * the live model in memory: sessions held whole, those kept as briefs (finished and quiet,
   * their detail in the store), and the process's memory in MB
   */
  model: {
    whole: number;
    briefs: number;
    rssMb: number;
    heapUsedMb: number;
    /** what V8 holds for the heap (used or not) and memory outside it (Buffers, SQLite's own) */
    heapTotalMb: number;
    externalMb: number;
  };
  /** labels followed, retries, deliveries (dispatch) */
  dispatch?: ReturnType<DaemonDispatch['stats']>;
}

export function buildHealth(parts: {
  sources: readonly Source[];
  pipeline: Pipeline;
  store: EventStore;
  outputs?: { sinks(): SinkHealth[]; receivers(): SourceHealth[] };
  arbiter: SourceArbiter;
  dispatch?: Pick<DaemonDispatch, 'stats' | 'sinks' | 'metrics'>;
  startedAt: number;
  now: number;
}): DaemonHealth {
  const report = buildHealthReport({
    startedAt: parts.startedAt,
    now: parts.now,
    version: VERSION,
    sources: [...parts.sources.map((s) => s.health()), ...(parts.outputs?.receivers() ?? [])],
    sinks: [...(parts.outputs?.sinks() ?? []), ...(parts.dispatch?.sinks() ?? [])],
    store: parts.store,
    tracker: parts.pipeline.tracker,
  });
  const pipeline = { ...parts.pipeline.stats(), droppedByArbiter: parts.arbiter.stats().dropped };
  // a store that refuses writes, or whose file is gone, replaced or read-only, is an outage of
  // history even while the live view works
  const storeTrouble = pipeline.storeError || report.store.error;
  const status = storeTrouble && report.status === 'ok' ? 'degraded' : report.status;
  return {
    ...report,
    status,
    pipeline,
    model: modelHealth(parts.pipeline.tracker),
    ...(parts.dispatch ? { dispatch: parts.dispatch.stats() } : {}),
  };
}

/** sessions whole and as briefs, and the process's memory */
export function modelHealth(tracker: Pick<SessionTracker, 'size' | 'briefCount'>): DaemonHealth['model'] {
  const briefs = tracker.briefCount();
  const mem = process.memoryUsage();
  return {
    whole: tracker.size() - briefs,
    briefs,
    rssMb: Math.round(mem.rss / 1048576),
    heapUsedMb: Math.round(mem.heapUsed / 1048576),
    heapTotalMb: Math.round(mem.heapTotal / 1048576),
    externalMb: Math.round(mem.external / 1048576),
  };
}

export function metricsFrom(h: DaemonHealth, extra?: () => string): MetricsInput {
  return {
    pipeline: h.pipeline,
    sources: h.sources,
    sinks: h.sinks,
    sessions: h.sessions,
    store: h.store,
    ...(h.dispatch ? { dispatch: h.dispatch } : {}),
    ...(extra ? { extra: extra() } : {}),
  };
}

/**
 * What /health and /metrics report. The daemon owns the parts (sources, sinks, store), so it
 * passes functions that collect these; the server only formats them.
 */

import type { SourceHealth } from '../ingest/source.js';
import type { SessionStatus } from '../model/session.js';
import type { SessionTracker } from '../model/tracker.js';
import type { EventStore } from '../store/event-store.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface SinkHealth {
  id: string;
  /** e.g. 'mattermost', 'webhook', 'otlp' */
  kind: string;
  breaker: BreakerState;
  /** requests sent to the outside service (attempts, retries included) */
  requests: number;
  failures: number;
  /** items waiting to be sent */
  queued?: number;
  /** the last failure and when (ms), kept after recovery: what is wrong now goes in detail */
  lastError?: string;
  lastErrorAt?: number;
  lastSuccessAt?: number;
  /** what else the sink reports about itself (mode, boxes, why it is disabled ...) */
  detail?: Record<string, unknown>;
}

export type SessionCounts = Record<SessionStatus, number>;

export interface HealthReport {
  /** 'ok': all live; 'degraded': a source down or blind (`problem`) or a breaker open; 'down': nothing ingests */
  status: 'ok' | 'degraded' | 'down';
  version?: string;
  uptimeMs: number;
  sources: SourceHealth[];
  sinks: SinkHealth[];
  store: ReturnType<EventStore['stats']>;
  sessions: SessionCounts;
}

export interface MetricsInput {
  pipeline: { ingested: number; duplicates: number; batches: number; listenerErrors: number };
  sources: SourceHealth[];
  sinks: SinkHealth[];
  sessions: SessionCounts;
  store?: ReturnType<EventStore['stats']>;
  /** dispatch counters (labels followed, retries, deliveries, verify runs) */
  dispatch?: {
    labels: number;
    running: number;
    retries: number;
    retryFailures: number;
    deliveries: number;
    deliveryFailures: number;
    verifies: number;
  };
  /** more lines in the exposition format, appended as they are (the lifecycle outputs') */
  extra?: string;
}

export const SESSION_STATUSES: readonly SessionStatus[] = [
  'active',
  'idle',
  'stuck',
  'error',
  'done',
  'interrupted',
];

export function countSessions(tracker: Pick<SessionTracker, 'briefs'>): SessionCounts {
  const out = Object.fromEntries(SESSION_STATUSES.map((s) => [s, 0])) as SessionCounts;
  // briefs: the finished sessions kept as briefs count too
  for (const s of tracker.briefs()) out[s.status] = (out[s.status] ?? 0) + 1;
  return out;
}

/** Builds a HealthReport from the parts; the daemon may call this from its `health()` function. */
export function buildHealthReport(parts: {
  startedAt: number;
  now: number;
  version?: string;
  sources: SourceHealth[];
  sinks: SinkHealth[];
  store: Pick<EventStore, 'stats'>;
  tracker: Pick<SessionTracker, 'briefs'>;
}): HealthReport {
  const live = parts.sources.filter((s) => s.state === 'live' || s.state === 'standby');
  // a source up but blind (its state dir missing) is as bad as one down
  const down = parts.sources.filter((s) => s.state === 'down' || (s.problem && s.state !== 'stopped'));
  const open = parts.sinks.filter((s) => s.breaker !== 'closed');
  const status: HealthReport['status'] =
    parts.sources.length > 0 && live.length === 0 && down.length > 0
      ? 'down'
      : down.length || open.length
        ? 'degraded'
        : 'ok';
  return {
    status,
    version: parts.version,
    uptimeMs: Math.max(0, parts.now - parts.startedAt),
    sources: parts.sources,
    sinks: parts.sinks,
    // which engine holds history (and, on a shared store, under which host id)
    store: { engine: 'sqlite', ...parts.store.stats() },
    sessions: countSessions(parts.tracker),
  };
}

/**
 * How queue-backed sinks report: a row in the daemon's /health `sinks` shape, and Prometheus
 * lines for the event counts, to append to /metrics. Requests, request failures and the
 * breaker state already come out of /metrics once the health rows are among the daemon's
 * sinks (clawpulse_sink_*); the lines here add what only a queue knows.
 */
import type { SinkHealth } from '../server/health.js';
import type { DeliveryStats } from './delivery-queue.js';

export interface SinkStatsRow {
  id: string;
  kind: string;
  stats: DeliveryStats;
}

function esc(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export function renderLifecycleMetrics(rows: readonly SinkStatsRow[]): string {
  if (rows.length === 0) return '';
  const l = (r: SinkStatsRow, extra = '') => `{sink="${esc(r.id)}",kind="${esc(r.kind)}"${extra}}`;
  const out = [
    '# HELP clawpulse_lifecycle_events_total Lifecycle events by outcome: sent, failed (refused or tries exhausted), dropped (queue full or unsent at stop).',
    '# TYPE clawpulse_lifecycle_events_total counter',
  ];
  for (const r of rows)
    for (const outcome of ['sent', 'failed', 'dropped'] as const)
      out.push(`clawpulse_lifecycle_events_total${l(r, `,outcome="${outcome}"`)} ${r.stats[outcome]}`);
  out.push(
    '# HELP clawpulse_lifecycle_retries_total Times a lifecycle batch was scheduled to be sent again.',
    '# TYPE clawpulse_lifecycle_retries_total counter',
    ...rows.map((r) => `clawpulse_lifecycle_retries_total${l(r)} ${r.stats.retries}`),
    '# HELP clawpulse_lifecycle_queued Lifecycle events waiting to be delivered (in flight included).',
    '# TYPE clawpulse_lifecycle_queued gauge',
    ...rows.map((r) => `clawpulse_lifecycle_queued${l(r)} ${r.stats.queued}`),
  );
  return `${out.join('\n')}\n`;
}

/** A queue-backed sink in the daemon's /health shape (the event counts go in `detail`). */
export function queueSinkHealth(
  id: string,
  kind: string,
  s: DeliveryStats,
  detail: Record<string, unknown> = {},
): SinkHealth {
  return {
    id,
    kind,
    breaker: s.breaker,
    requests: s.requests,
    failures: s.requestFailures,
    queued: s.queued,
    ...(s.lastError ? { lastError: s.lastError } : {}),
    ...(s.lastSuccessAt !== undefined ? { lastSuccessAt: s.lastSuccessAt } : {}),
    detail: {
      ...detail,
      sent: s.sent,
      failed: s.failed,
      dropped: s.dropped,
      retries: s.retries,
      ...(s.nextAttemptAt !== undefined ? { nextAttemptAt: s.nextAttemptAt } : {}),
    },
  };
}

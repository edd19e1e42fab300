/**
 * Prometheus text exposition (format 0.0.4) of the daemon's counters. Label values are
 * escaped; ids come from config/paths, never secrets.
 */

import type { AgentModelUsage } from '../store/usage-store.js';
import type { BreakerState, MetricsInput } from './health.js';
import type { SseStats } from './sse-hub.js';

const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

function esc(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labels(l: Record<string, string>): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${esc(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

/**
 * `usage`: the store's all-time usage per agent and model (`src/store/usage-store.ts`), as
 * clawpulse_usage_* counters; unlike clawpulse_tokens_total & co. (since the daemon started) they
 * survive a restart.
 */
export function renderMetrics(m: MetricsInput, sse: SseStats, usage?: readonly AgentModelUsage[]): string {
  const out: string[] = [];
  const metric = (
    name: string,
    type: 'counter' | 'gauge',
    help: string,
    rows: Array<[Record<string, string>, number]>,
  ) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [l, v] of rows) out.push(`${name}${labels(l)} ${Number.isFinite(v) ? v : 0}`);
  };
  metric('clawpulse_events_ingested_total', 'counter', 'Events stored by the pipeline.', [
    [{}, m.pipeline.ingested],
  ]);
  metric('clawpulse_events_duplicate_total', 'counter', 'Events dropped as duplicates (same dedupeKey).', [
    [{}, m.pipeline.duplicates],
  ]);
  metric('clawpulse_ingest_batches_total', 'counter', 'Batches handed to the pipeline.', [
    [{}, m.pipeline.batches],
  ]);
  metric('clawpulse_listener_errors_total', 'counter', 'Pipeline listeners that threw.', [
    [{}, m.pipeline.listenerErrors],
  ]);
  metric(
    'clawpulse_source_lag_seconds',
    'gauge',
    'How far behind its newest input a source is.',
    m.sources.map((s) => [{ source: s.id, kind: s.kind }, s.lagMs / 1000]),
  );
  metric(
    'clawpulse_source_up',
    'gauge',
    '1 when the source is live (or a healthy standby).',
    m.sources.map((s) => [
      { source: s.id, kind: s.kind, state: s.state },
      s.state === 'live' || s.state === 'standby' ? 1 : 0,
    ]),
  );
  metric(
    'clawpulse_source_malformed_total',
    'counter',
    'Input lines/frames/rows a source could not understand.',
    m.sources.map((s) => [{ source: s.id, kind: s.kind }, s.malformed]),
  );
  metric(
    'clawpulse_source_anomalies_total',
    'counter',
    'Numbers out of bounds (times, token counts, costs, durations) a source replaced or dropped.',
    m.sources.map((s) => [{ source: s.id, kind: s.kind }, s.anomalies ?? 0]),
  );
  metric(
    'clawpulse_sessions',
    'gauge',
    'Sessions by status.',
    Object.entries(m.sessions).map(([status, n]) => [{ status }, n]),
  );
  metric(
    'clawpulse_sink_requests_total',
    'counter',
    'Requests sent by a sink.',
    m.sinks.map((s) => [{ sink: s.id, kind: s.kind }, s.requests]),
  );
  metric(
    'clawpulse_sink_failures_total',
    'counter',
    'Failed requests of a sink.',
    m.sinks.map((s) => [{ sink: s.id, kind: s.kind }, s.failures]),
  );
  metric(
    'clawpulse_sink_breaker_state',
    'gauge',
    'Circuit breaker state: 0 closed, 1 half-open, 2 open.',
    m.sinks.map((s) => [{ sink: s.id, kind: s.kind }, BREAKER_VALUE[s.breaker] ?? 0]),
  );
  metric('clawpulse_sse_clients', 'gauge', 'Connected dashboard stream clients.', [[{}, sse.clients]]);
  metric('clawpulse_sse_connections_total', 'counter', 'Stream connections accepted.', [[{}, sse.accepted]]);
  metric('clawpulse_sse_rejected_total', 'counter', 'Stream connections refused at the client cap.', [
    [{}, sse.rejected],
  ]);
  metric(
    'clawpulse_sse_dropped_slow_total',
    'counter',
    'Stream clients closed for reading nothing for the stall limit (60 s) while data waited.',
    [[{}, sse.droppedSlow]],
  );
  metric('clawpulse_sse_clients_behind', 'gauge', 'Stream clients catching up from the store.', [
    [{}, sse.behind],
  ]);
  metric('clawpulse_sse_queued_bytes', 'gauge', 'Bytes handed to stream clients and not yet sent.', [
    [{}, sse.queuedBytes],
  ]);
  metric('clawpulse_sse_cache_bytes', 'gauge', 'Encoded events the stream clients share.', [
    [{}, sse.cacheBytes],
  ]);
  metric('clawpulse_sse_store_reads_total', 'counter', 'Store reads for the stream clients.', [
    [{}, sse.storeReads],
  ]);
  if (m.store) {
    metric('clawpulse_store_events', 'gauge', 'Events in the store.', [[{}, m.store.events]]);
    metric('clawpulse_store_bytes', 'gauge', 'Size of the store file.', [[{}, m.store.bytes]]);
  }
  if (m.dispatch) {
    const d = m.dispatch;
    metric('clawpulse_dispatch_labels', 'gauge', 'Dispatch labels with something still to happen.', [
      [{}, d.labels],
    ]);
    metric('clawpulse_dispatch_running', 'gauge', 'Dispatch labels whose run is going.', [[{}, d.running]]);
    metric('clawpulse_dispatch_retries_total', 'counter', 'Overload (529) retries sent.', [[{}, d.retries]]);
    metric('clawpulse_dispatch_retry_failures_total', 'counter', 'Retries that could not be sent.', [
      [{}, d.retryFailures],
    ]);
    metric('clawpulse_dispatch_deliveries_total', 'counter', 'Final replies delivered to a chat.', [
      [{}, d.deliveries],
    ]);
    metric('clawpulse_dispatch_delivery_failures_total', 'counter', 'Delivery attempts that failed.', [
      [{}, d.deliveryFailures],
    ]);
    metric('clawpulse_dispatch_verifies_total', 'counter', 'Verify commands run.', [[{}, d.verifies]]);
  }
  if (usage) {
    const am = (u: AgentModelUsage) => ({ agent: u.agent, model: u.model });
    const kinds = ['input', 'output', 'cacheRead', 'cacheWrite', 'reasoning'] as const;
    const KIND = {
      input: 'input',
      output: 'output',
      cacheRead: 'cache_read',
      cacheWrite: 'cache_write',
      reasoning: 'reasoning',
    };
    metric(
      'clawpulse_usage_tokens_total',
      'counter',
      'Tokens stored, by agent, model and kind (input, output, cache_read, cache_write, reasoning).',
      usage.flatMap((u) =>
        kinds.map((k): [Record<string, string>, number] => [{ ...am(u), kind: KIND[k] }, u[k]]),
      ),
    );
    metric(
      'clawpulse_usage_cost_usd_total',
      'counter',
      'Cost stored in US dollars, by agent and model (estimated cost included).',
      usage.map((u) => [am(u), Number(u.costUsd.toFixed(9))]),
    );
    metric(
      'clawpulse_usage_estimated_cost_usd_total',
      'counter',
      'The part of the cost clawpulse estimated from its price table (the source gave none).',
      usage.map((u) => [am(u), Number(u.estimatedCostUsd.toFixed(9))]),
    );
    metric(
      'clawpulse_usage_runs_total',
      'counter',
      'Runs started, by agent and model.',
      usage.map((u) => [am(u), u.runs]),
    );
    metric(
      'clawpulse_usage_tool_calls_total',
      'counter',
      'Tool calls, by agent and model.',
      usage.map((u) => [am(u), u.toolCalls]),
    );
    metric(
      'clawpulse_usage_errors_total',
      'counter',
      'Model errors and failed runs, by agent and model.',
      usage.map((u) => [am(u), u.errors]),
    );
  }
  const extra = m.extra?.trim();
  return `${out.join('\n')}\n${extra ? `${extra}\n` : ''}`;
}

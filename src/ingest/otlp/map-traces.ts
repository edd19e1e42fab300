/**
 * OTLP spans from OpenClaw's diagnostics-otel plugin (2026.7+) → PulseEvents.
 *
 *  - `openclaw.run`            → agent.started (span start) + agent.finished (span end; status
 *                                 ERROR → outcome error with the status message)
 *  - `openclaw.model.call`     → agent.step_started (+ llm.error when the status is ERROR)
 *  - `openclaw.tool.execution` → tool.call + tool.output / tool.error with durationMs
 *  - `openclaw.session.stuck`  → session.stuck
 *
 * Spans are exported when they end, so start and end events arrive together. The run id is
 * OpenClaw's own when an attribute carries it, else the trace id (a run and its model/tool
 * spans share one trace). Dedupe keys come from trace + span ids, stable across re-sends.
 */
import type { PulseEvent } from '../../model/events.js';
import { type Attrs, flatten, nsToMs, num, str, who } from './attrs.js';
import type { OtlpSpan, OtlpTraces } from './proto.js';

export interface TracesMapResult {
  events: PulseEvent[];
  /** spans that could not be used (no ids, no time) */
  rejected: number;
}

const STATUS_ERROR = new Set<unknown>([2, 'STATUS_CODE_ERROR']);
const RUN_ID_ATTRS = ['openclaw.runId', 'openclaw.run.id', 'openclaw.run_id'];
const HTTP_STATUS_ATTRS = [
  'http.response.status_code',
  'http.status_code',
  'openclaw.http.status',
  'openclaw.status',
  'error.status',
];
const RETRYABLE = (s: number | undefined) => s === undefined || s === 408 || s === 429 || s >= 500;

export function mapTraces(req: OtlpTraces, now: number): TracesMapResult {
  const events: PulseEvent[] = [];
  let rejected = 0;
  for (const rs of req.resourceSpans ?? []) {
    const res = flatten(rs?.resource?.attributes);
    for (const ss of rs?.scopeSpans ?? []) {
      for (const sp of ss?.spans ?? []) {
        if (!sp || typeof sp.name !== 'string' || !sp.spanId) {
          rejected++;
          continue;
        }
        const out = mapSpan(sp, flatten(sp.attributes, { ...res }), now);
        if (out === undefined) rejected++;
        else events.push(...out);
      }
    }
  }
  return { events, rejected };
}

function mapSpan(sp: OtlpSpan, a: Attrs, now: number): PulseEvent[] | undefined {
  const start = nsToMs(sp.startTimeUnixNano);
  const end = nsToMs(sp.endTimeUnixNano) ?? start;
  if (start === undefined && end === undefined) return undefined;
  const t0 = start ?? end ?? now;
  const t1 = end ?? t0;
  const w = who(a);
  const base = (ts: number, what: string) => ({
    ts,
    source: 'otlp' as const,
    sessionKey: w.sessionKey,
    agentId: w.agentId,
    dedupeKey: `otlp/${sp.traceId ?? ''}/${sp.spanId}/${what}`,
  });
  const runId = str(a, ...RUN_ID_ATTRS) ?? (sp.traceId || (sp.spanId as string));
  const failed = STATUS_ERROR.has(sp.status?.code);
  const errText = sp.status?.message || str(a, 'error.message', 'exception.message', 'error.type') || 'error';

  switch (sp.name) {
    case 'openclaw.run': {
      const outcomeAttr = str(a, 'openclaw.outcome', 'openclaw.run.outcome');
      const aborted = outcomeAttr === 'aborted' || outcomeAttr === 'cancelled';
      const finished: PulseEvent = {
        type: 'agent.finished',
        ...base(t1, 'agent.finished'),
        runId,
        outcome: failed ? 'error' : aborted ? 'aborted' : 'ok',
      };
      if (failed) finished.error = errText;
      return [{ type: 'agent.started', ...base(t0, 'agent.started'), runId }, finished];
    }
    case 'openclaw.model.call': {
      const step: PulseEvent = { type: 'agent.step_started', ...base(t0, 'agent.step_started'), runId };
      const model = str(a, 'gen_ai.request.model', 'openclaw.model', 'gen_ai.response.model');
      const provider = str(a, 'gen_ai.system', 'gen_ai.provider.name', 'openclaw.provider');
      if (model) step.model = model;
      if (provider) step.provider = provider;
      const stepNo = num(a, 'openclaw.step', 'openclaw.model_call.index');
      if (stepNo !== undefined) step.step = stepNo;
      if (!failed) return [step];
      const status = num(a, ...HTTP_STATUS_ATTRS);
      const err: PulseEvent = {
        type: 'llm.error',
        ...base(t1, 'llm.error'),
        runId,
        message: errText,
        retryable: RETRYABLE(status),
      };
      if (status !== undefined) err.status = status;
      return [step, err];
    }
    case 'openclaw.tool.execution': {
      const callId = str(a, 'gen_ai.tool.call.id', 'openclaw.tool.call.id') ?? (sp.spanId as string);
      const name = str(a, 'gen_ai.tool.name', 'openclaw.tool.name', 'openclaw.tool') ?? 'tool';
      const durationMs = Math.max(0, t1 - t0);
      const call: PulseEvent = { type: 'tool.call', ...base(t0, 'tool.call'), runId, callId, name };
      const end: PulseEvent = failed
        ? { type: 'tool.error', ...base(t1, 'tool.error'), runId, callId, name, error: errText, durationMs }
        : { type: 'tool.output', ...base(t1, 'tool.output'), runId, callId, name, durationMs };
      return [call, end];
    }
    case 'openclaw.session.stuck': {
      const ev: PulseEvent = {
        type: 'session.stuck',
        ...base(t1, 'session.stuck'),
        reason: 'reported stuck by OpenClaw',
      };
      const age = num(a, 'openclaw.session.stuck_age_ms', 'openclaw.ageMs', 'openclaw.stuck_age_ms');
      if (age !== undefined) ev.ageMs = age;
      return [ev];
    }
    default:
      return []; // other spans (webhooks, queue, exec ...) are not in the catalog
  }
}

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
/** openclaw.outcome values (run/tool/harness spans) */
const FAILED_OUTCOMES = new Set(['error', 'failed', 'failure', 'timeout', 'timed_out']);
const ABORTED_OUTCOMES = new Set(['aborted', 'cancelled', 'canceled', 'killed', 'interrupted']);

/** OpenClaw classifies provider failures (openclaw.errorCategory) rather than export a status */
function statusOfCategory(c: string | undefined): number | undefined {
  if (!c) return undefined;
  const k = c.toLowerCase();
  if (/^\d{3}$/.test(k)) return Number(k);
  if (k.includes('overload')) return 529;
  if (k.includes('rate')) return 429;
  if (k.includes('auth')) return 401;
  return undefined;
}

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
  const outcome = str(a, 'openclaw.outcome')?.toLowerCase();
  const aborted = outcome !== undefined && ABORTED_OUTCOMES.has(outcome);
  const failed = STATUS_ERROR.has(sp.status?.code) || (outcome !== undefined && FAILED_OUTCOMES.has(outcome));
  const category = str(
    a,
    'openclaw.errorCategory',
    'openclaw.failureKind',
    'error.type',
    'openclaw.errorCode',
  );
  const errText =
    sp.status?.message || str(a, 'error.message', 'exception.message') || category || outcome || 'error';

  switch (sp.name) {
    case 'openclaw.run': {
      const finished: PulseEvent = {
        type: 'agent.finished',
        ...base(t1, 'agent.finished'),
        runId,
        outcome: aborted ? 'aborted' : failed ? 'error' : 'ok',
      };
      if (failed && !aborted) finished.error = errText;
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
      const status = num(a, ...HTTP_STATUS_ATTRS) ?? statusOfCategory(category);
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
      const name = str(a, 'gen_ai.tool.name', 'openclaw.toolName', 'openclaw.tool.name') ?? 'tool';
      const denied = str(a, 'openclaw.deniedReason');
      const blocked = outcome === 'blocked' || denied !== undefined;
      const durationMs = Math.max(0, t1 - t0);
      const call: PulseEvent = { type: 'tool.call', ...base(t0, 'tool.call'), runId, callId, name };
      if (!failed && !blocked) {
        return [call, { type: 'tool.output', ...base(t1, 'tool.output'), runId, callId, name, durationMs }];
      }
      const error = blocked ? `blocked${denied ? `: ${denied}` : ''}` : errText;
      return [
        call,
        { type: 'tool.error', ...base(t1, 'tool.error'), runId, callId, name, error, durationMs },
      ];
    }
    case 'openclaw.session.stuck': {
      const state = str(a, 'openclaw.state');
      const ev: PulseEvent = {
        type: 'session.stuck',
        ...base(t1, 'session.stuck'),
        reason: state ? `reported stuck by OpenClaw (${state})` : 'reported stuck by OpenClaw',
      };
      const age = num(a, 'openclaw.ageMs', 'openclaw.session.stuck_age_ms', 'openclaw.stuck_age_ms');
      if (age !== undefined) ev.ageMs = age;
      return [ev];
    }
    default:
      return []; // other spans (webhooks, queue, exec ...) are not in the catalog
  }
}

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
 * A request's events are handed on in time order (a run span carries its end, its children
 * come before it in the request).
 *
 * What clawpulse's own exporter (src/sinks/otlp/) adds, so one clawpulse rebuilds another's
 * model: token usage and cost on model calls (`gen_ai.usage.*`, `openclaw.cost.usd`,
 * `openclaw.usage.*`) → llm.tokens; `openclaw.error.retryable`; a tool's `openclaw.tool.args`
 * and `openclaw.tool.duration_ms`; the spawn of a sub-agent (`openclaw.subagent.child_key` on
 * the tool call with `openclaw.subagent.label`, `openclaw.session.parent_key` on the child's
 * run) → subagent.spawned; and
 * snapshots of open spans (`openclaw.span.state` in_progress / unfinished) → only their start,
 * keyed by the final span's id (`openclaw.span.final_id`) so the final span does not repeat it.
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
const bool = (a: Attrs, k: string): boolean | undefined =>
  typeof a[k] === 'boolean' ? (a[k] as boolean) : undefined;

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
  // stable: equal times keep the request's order
  events.sort((x, y) => x.ts - y.ts);
  return { events, rejected };
}

function mapSpan(sp: OtlpSpan, a: Attrs, now: number): PulseEvent[] | undefined {
  const start = nsToMs(sp.startTimeUnixNano);
  const end = nsToMs(sp.endTimeUnixNano) ?? start;
  if (start === undefined && end === undefined) return undefined;
  const t0 = start ?? end ?? now;
  const t1 = end ?? t0;
  const w = who(a);
  const state = str(a, 'openclaw.span.state');
  const open = state === 'in_progress' || state === 'unfinished';
  const spanKey = (open && str(a, 'openclaw.span.final_id')) || sp.spanId;
  const base = (ts: number, what: string) => ({
    ts,
    source: 'otlp' as const,
    sessionKey: w.sessionKey,
    agentId: w.agentId,
    dedupeKey: `otlp/${sp.traceId ?? ''}/${spanKey}/${what}`,
  });
  const parentKey = str(a, 'openclaw.session.parent_key');
  const childKey = str(a, 'openclaw.subagent.child_key');
  const spawn = (parent: string, child: string, ts: number, runId?: string): PulseEvent => {
    const e: PulseEvent = {
      type: 'subagent.spawned',
      ts,
      source: 'otlp',
      sessionKey: parent,
      agentId: w.agentId,
      dedupeKey: `otlp/spawn/${child}`,
      parentKey: parent,
      childKey: child,
    };
    const label = str(a, child === w.sessionKey ? 'openclaw.session.label' : 'openclaw.subagent.label');
    if (label) e.label = label;
    if (runId) e.runId = runId;
    return e;
  };
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
      const started: PulseEvent = { type: 'agent.started', ...base(t0, 'agent.started'), runId };
      const spawned = parentKey ? [spawn(parentKey, w.sessionKey, t0)] : [];
      if (open) return [...spawned, started];
      const finished: PulseEvent = {
        type: 'agent.finished',
        ...base(t1, 'agent.finished'),
        runId,
        outcome: aborted ? 'aborted' : failed ? 'error' : 'ok',
      };
      if (failed && !aborted) finished.error = errText;
      return [...spawned, started, finished];
    }
    case 'openclaw.model.call': {
      const step: PulseEvent = { type: 'agent.step_started', ...base(t0, 'agent.step_started'), runId };
      const model = str(a, 'gen_ai.request.model', 'openclaw.model', 'gen_ai.response.model');
      const provider = str(a, 'gen_ai.system', 'gen_ai.provider.name', 'openclaw.provider');
      if (model) step.model = model;
      if (provider) step.provider = provider;
      const stepNo = num(a, 'openclaw.step', 'openclaw.model_call.index');
      if (stepNo !== undefined) step.step = stepNo;
      if (open) return [step];
      const out: PulseEvent[] = [step];
      const input = num(a, 'gen_ai.usage.input_tokens');
      const output = num(a, 'gen_ai.usage.output_tokens');
      const cost = num(a, 'openclaw.cost.usd');
      if (input !== undefined || output !== undefined || cost !== undefined) {
        const tokens: PulseEvent = {
          type: 'llm.tokens',
          ...base(t1, 'llm.tokens'),
          runId,
          input: input ?? 0,
          output: output ?? 0,
          cacheRead: num(a, 'openclaw.usage.cache_read_tokens', 'gen_ai.usage.cache_read.input_tokens') ?? 0,
          cacheWrite:
            num(a, 'openclaw.usage.cache_write_tokens', 'gen_ai.usage.cache_creation.input_tokens') ?? 0,
          reasoning: num(a, 'openclaw.usage.reasoning_tokens', 'gen_ai.usage.reasoning.output_tokens') ?? 0,
          costUsd: cost ?? 0,
        };
        if (model) tokens.model = model;
        if (provider) tokens.provider = provider;
        out.push(tokens);
      }
      if (!failed) return out;
      const status = num(a, ...HTTP_STATUS_ATTRS) ?? statusOfCategory(category);
      const err: PulseEvent = {
        type: 'llm.error',
        ...base(t1, 'llm.error'),
        runId,
        message: errText,
        retryable: bool(a, 'openclaw.error.retryable') ?? RETRYABLE(status),
      };
      if (status !== undefined) err.status = status;
      out.push(err);
      return out;
    }
    case 'openclaw.tool.execution': {
      const callId = str(a, 'gen_ai.tool.call.id', 'openclaw.tool.call.id') ?? (sp.spanId as string);
      const name = str(a, 'gen_ai.tool.name', 'openclaw.toolName', 'openclaw.tool.name') ?? 'tool';
      const denied = str(a, 'openclaw.deniedReason');
      const blocked = outcome === 'blocked' || denied !== undefined;
      const durationMs = num(a, 'openclaw.tool.duration_ms') ?? Math.max(0, t1 - t0);
      const call: PulseEvent = { type: 'tool.call', ...base(t0, 'tool.call'), runId, callId, name };
      const args = str(a, 'openclaw.tool.args');
      if (args !== undefined) call.args = args;
      if (open) return [call];
      const spawned = childKey ? [spawn(w.sessionKey, childKey, t1, runId)] : [];
      if (!failed && !blocked) {
        return [
          call,
          { type: 'tool.output', ...base(t1, 'tool.output'), runId, callId, name, durationMs },
          ...spawned,
        ];
      }
      const error = blocked ? `blocked${denied ? `: ${denied}` : ''}` : errText;
      return [
        call,
        { type: 'tool.error', ...base(t1, 'tool.error'), runId, callId, name, error, durationMs },
        ...spawned,
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

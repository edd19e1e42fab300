/**
 * Turns the event stream into spans: one trace per session turn (run), a span for the run,
 * each model call and each tool call; a sub-agent's runs are child spans of the tool call that
 * spawned it (in the parent's trace). Pure bookkeeping: no clock, no I/O; the exporter calls
 * `apply` for stored events, `collect(now)` for the spans that ended, `progress(now)` for
 * snapshots of what is still open.
 *
 *  - A model call starts at `agent.step_started` and ends when its tokens or its error arrive,
 *    when the next one starts or when the run ends (whatever comes first): transcripts write a
 *    model call's result once it is done, so its span is short there.
 *  - A tool call left open when its run ends is exported as `unfinished` (the receiver reads
 *    only its start: the run's end closes it, as in clawpulse's own model).
 *  - A sub-agent run whose spawning tool call is not known yet (a backlog read in file order
 *    shows the child first) is held up to `holdMs`, then exported as its own trace.
 */
import type { PulseEvent } from '../../model/events.js';
import type { SessionState } from '../../model/session.js';
import { spanIdOf, traceIdOf } from './ids.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_EXCEPTION_MESSAGE,
  ATTR_EXCEPTION_TYPE,
  ATTR_GEN_AI_AGENT_ID,
  ATTR_GEN_AI_AGENT_NAME,
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  OC,
  OP_CHAT,
  OP_EXECUTE_TOOL,
  OP_INVOKE_AGENT,
} from './semconv.js';

export type Attrs = Record<string, string | number | boolean>;

export interface SpanEventRec {
  name: string;
  ts: number;
  attrs: Attrs;
}

export interface SpanRec {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: 'openclaw.run' | 'openclaw.model.call' | 'openclaw.tool.execution';
  kind: 'internal' | 'client';
  start: number;
  end: number;
  attrs: Attrs;
  error?: string;
  events: SpanEventRec[];
  links: Array<{ traceId: string; spanId: string; attrs: Attrs }>;
}

interface Tokens {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  reasoning: number;
  costUsd: number;
}

interface LlmErr {
  message: string;
  status?: number;
  retryable: boolean;
  ts: number;
}

interface Step {
  n?: number;
  start: number;
  end?: number;
  model?: string;
  provider?: string;
  tokens?: Tokens;
  error?: LlmErr;
  spanId: string;
  exported: boolean;
}

interface Tool {
  callId: string;
  name: string;
  args?: string;
  start: number;
  end?: number;
  durationMs?: number;
  error?: string;
  childKey?: string;
  spanId: string;
  exported: boolean;
  progressN: number;
}

interface Run {
  id: string;
  sess: Sess;
  start: number;
  end?: number;
  outcome?: 'ok' | 'error' | 'aborted';
  error?: string;
  steps: Step[];
  tools: Map<string, Tool>;
  spanId: string;
  exported: boolean;
  progressN: number;
  /** `collect` time the run was first asked for while its parent was unknown */
  heldSince?: number;
  /** the trace it went out in (fixed once exported) */
  ctx?: Ctx;
}

interface Sess {
  key: string;
  agentId: string;
  sessionId?: string;
  channel?: string;
  label?: string;
  parentKey?: string;
  model?: string;
  provider?: string;
  stuck?: string;
  runs: Map<string, Run>;
  lastRunId?: string;
  /** synthetic spans (tokens/errors with no run to hold them) */
  loose: number;
}

interface Ctx {
  traceId: string;
  parentSpanId?: string;
}

export interface SpanBookOptions {
  /** how long a sub-agent run waits for its spawning tool call before going out alone */
  holdMs: number;
  /** sessions kept (oldest dropped): bounds memory on a daemon following thousands */
  maxSessions?: number;
}

const SPAWN_TOOL = /spawn|subagent/i;
const CHILD_KEY = /"?child_?[sS]ession_?[kK]ey"?\s*[:=]\s*"([^"]+)"/;

export class SpanBook {
  private readonly sessions = new Map<string, Sess>();
  /** child session key → where it was spawned (a run, and the tool call when known) */
  private readonly spawns = new Map<string, { run: Run; tool?: Tool }>();
  /** finished spans waiting for collect(): synthetic ones are built at once */
  private readonly ready: SpanRec[] = [];
  private readonly dirty = new Set<Run>();
  private readonly maxSessions: number;

  constructor(private readonly opts: SpanBookOptions) {
    this.maxSessions = opts.maxSessions ?? 20_000;
  }

  /** sessions and open runs known (for /health detail) */
  size(): { sessions: number; openRuns: number } {
    let openRuns = 0;
    for (const s of this.sessions.values())
      for (const r of s.runs.values()) if (r.end === undefined) openRuns++;
    return { sessions: this.sessions.size, openRuns };
  }

  private sess(key: string, agentId: string): Sess {
    let s = this.sessions.get(key);
    if (!s) {
      s = { key, agentId, runs: new Map(), loose: 0 };
      this.sessions.set(key, s);
      if (this.sessions.size > this.maxSessions) {
        for (const [k, old] of this.sessions) {
          if ([...old.runs.values()].some((r) => r.end === undefined)) continue;
          this.sessions.delete(k);
          break;
        }
      }
    }
    return s;
  }

  private run(s: Sess, runId: string, ts: number): Run {
    let r = s.runs.get(runId);
    if (!r) {
      r = {
        id: runId,
        sess: s,
        start: ts,
        steps: [],
        tools: new Map(),
        spanId: spanIdOf(s.key, runId),
        exported: false,
        progressN: 0,
      };
      s.runs.set(runId, r);
    }
    if (ts < r.start) r.start = ts;
    s.lastRunId = runId;
    this.dirty.add(r);
    return r;
  }

  /** the run an event without a run id belongs to: the session's current one, if still open */
  private runOf(s: Sess, runId: string | undefined, ts: number): Run | undefined {
    if (runId !== undefined) {
      const r = s.runs.get(runId);
      if (r?.exported) return undefined;
      return r ?? this.run(s, runId, ts);
    }
    const last = s.lastRunId !== undefined ? s.runs.get(s.lastRunId) : undefined;
    return last && !last.exported ? last : undefined;
  }

  /** the session's model rows (status, channel, label) as the tracker has them */
  observe(state: SessionState): void {
    const s = this.sessions.get(state.key);
    if (!s) return;
    if (state.channel?.provider) s.channel = state.channel.provider;
    if (state.label) s.label = state.label;
    if (state.parentKey) s.parentKey = state.parentKey;
    if (state.sessionId) s.sessionId = state.sessionId;
    s.stuck = state.status === 'stuck' ? (state.note ?? 'stuck') : undefined;
  }

  apply(e: PulseEvent): void {
    const s = this.sess(e.sessionKey, e.agentId);
    switch (e.type) {
      case 'session.seen':
        if (e.sessionId) s.sessionId = e.sessionId;
        if (e.channel?.provider) s.channel = e.channel.provider;
        if (e.label) s.label = e.label;
        if (e.parentKey) s.parentKey = e.parentKey;
        if (e.model) s.model = e.model;
        if (e.provider) s.provider = e.provider;
        return;
      case 'agent.started':
        this.run(s, e.runId, e.ts);
        return;
      case 'agent.finished': {
        const r = s.runs.get(e.runId) ?? this.run(s, e.runId, e.ts);
        if (r.exported) return;
        r.end = Math.max(r.start, e.ts);
        r.outcome = e.outcome;
        if (e.error) r.error = e.error;
        this.dirty.add(r);
        return;
      }
      case 'agent.step_started': {
        if (e.model) s.model = e.model;
        if (e.provider) s.provider = e.provider;
        const r = this.runOf(s, e.runId, e.ts);
        if (!r) return;
        const prev = r.steps[r.steps.length - 1];
        if (prev && prev.end === undefined) prev.end = Math.max(prev.start, e.ts);
        const n = e.step ?? r.steps.length + 1;
        r.steps.push({
          n,
          start: e.ts,
          model: e.model ?? s.model,
          provider: e.provider ?? s.provider,
          spanId: spanIdOf(s.key, r.id, 'model', String(r.steps.length + 1)),
          exported: false,
        });
        this.dirty.add(r);
        return;
      }
      case 'llm.tokens': {
        if (e.model) s.model = e.model;
        if (e.provider) s.provider = e.provider;
        const step = this.openStep(s, e.runId, e.ts);
        const t: Tokens = step?.tokens ?? {
          input: 0,
          output: 0,
          cacheRead: 0,
          cacheWrite: 0,
          reasoning: 0,
          costUsd: 0,
        };
        t.input += e.input;
        t.output += e.output;
        t.cacheRead += e.cacheRead;
        t.cacheWrite += e.cacheWrite;
        t.reasoning += e.reasoning ?? 0;
        t.costUsd += e.costUsd;
        if (step) {
          step.tokens = t;
          if (e.model) step.model = e.model;
          if (step.end === undefined) step.end = Math.max(step.start, e.ts);
        } else this.loose(s, e.runId, e.ts, { tokens: t, model: e.model, provider: e.provider });
        return;
      }
      case 'llm.error': {
        const err: LlmErr = { message: e.message, retryable: e.retryable, ts: e.ts };
        if (e.status !== undefined) err.status = e.status;
        const step = this.openStep(s, e.runId, e.ts);
        if (step && !step.error) {
          step.error = err;
          if (step.end === undefined) step.end = Math.max(step.start, e.ts);
        } else this.loose(s, e.runId, e.ts, { error: err });
        return;
      }
      case 'tool.call': {
        const r = this.runOf(s, e.runId, e.ts);
        if (!r || r.tools.has(e.callId)) return;
        const t: Tool = {
          callId: e.callId,
          name: e.name,
          start: e.ts,
          spanId: spanIdOf(s.key, r.id, e.callId),
          exported: false,
          progressN: 0,
        };
        if (e.args !== undefined) t.args = e.args;
        r.tools.set(e.callId, t);
        return;
      }
      case 'tool.output':
      case 'tool.error': {
        const r = this.runOf(s, e.runId, e.ts);
        if (!r) return;
        let t = r.tools.get(e.callId);
        if (!t) {
          t = {
            callId: e.callId,
            name: e.name,
            start: e.ts - (e.durationMs ?? 0),
            spanId: spanIdOf(s.key, r.id, e.callId),
            exported: false,
            progressN: 0,
          };
          r.tools.set(e.callId, t);
        }
        if (t.end !== undefined) return;
        t.end = Math.max(t.start, e.ts);
        t.durationMs = e.durationMs ?? t.end - t.start;
        if (e.type === 'tool.error') t.error = e.error;
        else if (e.output && SPAWN_TOOL.test(e.name) && !t.childKey) {
          // sessions_spawn answers with the child's key; the spawn event may carry no run id
          const child = CHILD_KEY.exec(e.output)?.[1];
          if (child && !child.includes('*')) this.spawned(r, t, child);
        }
        this.dirty.add(r);
        return;
      }
      case 'subagent.spawned': {
        const child = this.sess(e.childKey, e.agentId);
        child.parentKey ??= e.parentKey;
        if (e.label) child.label ??= e.label;
        const parent = this.sessions.get(e.parentKey);
        const r = e.runId !== undefined ? parent?.runs.get(e.runId) : undefined;
        if (!r) return;
        const tools = [...r.tools.values()].filter((t) => t.start <= e.ts);
        const tool =
          tools.reverse().find((t) => SPAWN_TOOL.test(t.name) && !t.childKey) ??
          tools.find((t) => !t.childKey);
        if (!this.spawns.has(e.childKey)) this.spawned(r, tool, e.childKey);
        return;
      }
      case 'session.stuck':
        s.stuck = e.reason ?? 'stuck';
        return;
      default:
        return;
    }
  }

  private spawned(r: Run, tool: Tool | undefined, childKey: string): void {
    if (tool) tool.childKey = childKey;
    this.spawns.set(childKey, tool ? { run: r, tool } : { run: r });
    if (this.spawns.size > this.maxSessions) {
      const oldest = this.spawns.keys().next().value;
      if (oldest !== undefined) this.spawns.delete(oldest);
    }
  }

  /** the model call tokens or an error belong to: the run's last one, while not exported */
  private openStep(s: Sess, runId: string | undefined, ts: number): Step | undefined {
    const r = this.runOf(s, runId, ts);
    const step = r?.steps[r.steps.length - 1];
    return step && !step.exported ? step : undefined;
  }

  /** a model call span for tokens or an error that no open model call holds */
  private loose(s: Sess, runId: string | undefined, ts: number, what: Partial<Step>): void {
    const rid = runId ?? s.lastRunId ?? 'session';
    const r = s.runs.get(rid);
    const n = ++s.loose;
    const step: Step = {
      start: ts,
      end: ts,
      spanId: spanIdOf(s.key, rid, 'loose', String(ts), String(n)),
      exported: false,
      model: what.model ?? s.model,
      provider: what.provider ?? s.provider,
      ...what,
    };
    const ctx = r?.ctx ?? { traceId: traceIdOf(s.key, rid) };
    const parent = r ? r.spanId : undefined;
    this.ready.push(this.stepSpan(s, rid, step, ctx, parent));
  }

  /** where a run's spans go: its own trace, or under the tool call that spawned its session */
  private resolve(r: Run, now: number): Ctx | undefined {
    if (r.ctx) return r.ctx;
    const s = r.sess;
    const own: Ctx = { traceId: traceIdOf(s.key, r.id) };
    if (!s.parentKey) return own;
    const at = this.spawns.get(s.key) ?? this.guessSpawn(s, r);
    if (at) {
      const pctx = this.resolve(at.run, now);
      if (pctx) return { traceId: pctx.traceId, parentSpanId: at.tool?.spanId ?? at.run.spanId };
    }
    r.heldSince ??= now;
    return now - r.heldSince >= this.opts.holdMs ? own : undefined;
  }

  /**
   * the parent's spawn tool call that most likely started this child: the last one that began
   * before the child's run and names no other known child (a spawn event without a run id, an
   * answer whose key was cut)
   */
  private guessSpawn(s: Sess, r: Run): { run: Run; tool?: Tool } | undefined {
    const parent = s.parentKey ? this.sessions.get(s.parentKey) : undefined;
    if (!parent) return undefined;
    let best: { run: Run; tool: Tool } | undefined;
    for (const pr of parent.runs.values()) {
      for (const t of pr.tools.values()) {
        if (!SPAWN_TOOL.test(t.name) || t.start > r.start) continue;
        if (t.childKey && t.childKey !== s.key && this.sessions.has(t.childKey)) continue;
        if (!best || t.start > best.tool.start) best = { run: pr, tool: t };
      }
    }
    if (best) this.spawned(best.run, best.tool, s.key);
    return best;
  }

  /** spans that ended since the last call, children before their run */
  collect(now: number): SpanRec[] {
    const out = this.ready.splice(0);
    const runs = [...this.dirty].sort((a, b) => a.start - b.start);
    for (const r of runs) {
      if (r.exported) {
        this.dirty.delete(r);
        continue;
      }
      const ctx = this.resolve(r, now);
      if (!ctx) continue;
      this.dirty.delete(r);
      const s = r.sess;
      const kids: SpanRec[] = [];
      if (r.end !== undefined) {
        for (const st of r.steps) if (st.end === undefined) st.end = Math.max(st.start, r.end);
        for (const t of r.tools.values()) {
          if (t.end === undefined && !t.exported) {
            kids.push(this.toolSpan(s, r, t, ctx, r.end, 'unfinished'));
            t.exported = true;
          }
        }
      }
      for (const st of r.steps) {
        if (st.end === undefined || st.exported) continue;
        kids.push(this.stepSpan(s, r.id, st, ctx, r.spanId));
        st.exported = true;
      }
      for (const t of r.tools.values()) {
        if (t.end === undefined || t.exported) continue;
        kids.push(this.toolSpan(s, r, t, ctx, t.end));
        t.exported = true;
      }
      kids.sort((a, b) => a.end - b.end);
      out.push(...kids);
      if (r.end !== undefined) {
        r.ctx = ctx;
        out.push(this.runSpan(r, ctx, r.end));
        r.exported = true;
        if (s.lastRunId === r.id) s.lastRunId = undefined;
        // kept (a few per session) so later stray events of the run make no second run span
        if (s.runs.size > 8) {
          for (const [k, old] of s.runs) {
            if (s.runs.size <= 8) break;
            if (old.exported) s.runs.delete(k);
          }
        }
      }
    }
    return out;
  }

  /** snapshots of the runs and tool calls still open, as of `now` */
  progress(now: number): SpanRec[] {
    const out: SpanRec[] = [];
    for (const s of this.sessions.values()) {
      for (const r of s.runs.values()) {
        if (r.end !== undefined || r.exported) continue;
        const ctx = this.resolve(r, now);
        if (!ctx) continue;
        r.progressN++;
        out.push(this.snapshot(this.runSpan(r, ctx, now), r.progressN, s));
        for (const t of r.tools.values()) {
          if (t.end !== undefined || t.exported) continue;
          t.progressN++;
          out.push(this.snapshot(this.toolSpan(s, r, t, ctx, now), t.progressN, s));
        }
      }
    }
    return out;
  }

  /** a copy of a span as an in-progress snapshot: its own id, linked to the final span */
  private snapshot(final: SpanRec, n: number, s: Sess): SpanRec {
    const spanId = spanIdOf(final.spanId, 'in_progress');
    const span: SpanRec = {
      ...final,
      spanId,
      attrs: {
        ...final.attrs,
        [OC.spanState]: 'in_progress',
        [OC.finalSpanId]: final.spanId,
        [OC.inProgressMs]: final.end - final.start,
        [OC.inProgressExports]: n,
      },
      links: [{ traceId: final.traceId, spanId: final.spanId, attrs: { 'openclaw.link': 'final' } }],
      events: [...final.events],
    };
    if (s.stuck) {
      span.attrs[OC.stuck] = true;
      span.attrs[OC.stuckReason] = s.stuck;
      span.events.push({
        name: 'openclaw.session.stuck',
        ts: final.end,
        attrs: { [OC.stuckReason]: s.stuck },
      });
    }
    return span;
  }

  private common(s: Sess, runId: string): Attrs {
    const a: Attrs = {
      [OC.sessionKey]: s.key,
      [OC.agent]: s.agentId,
      [OC.runId]: runId,
      [ATTR_GEN_AI_AGENT_ID]: s.agentId,
      [ATTR_GEN_AI_CONVERSATION_ID]: s.sessionId ?? s.key,
    };
    if (s.channel) a[OC.channel] = s.channel;
    return a;
  }

  private runSpan(r: Run, ctx: Ctx, end: number): SpanRec {
    const s = r.sess;
    const a = this.common(s, r.id);
    a[ATTR_GEN_AI_OPERATION_NAME] = OP_INVOKE_AGENT;
    if (s.label) {
      a[OC.label] = s.label;
      a[ATTR_GEN_AI_AGENT_NAME] = s.label;
    }
    if (s.parentKey) a[OC.parentKey] = s.parentKey;
    if (s.model) a[ATTR_GEN_AI_REQUEST_MODEL] = s.model;
    if (s.provider) a[ATTR_GEN_AI_PROVIDER_NAME] = s.provider;
    if (r.outcome) a[OC.outcome] = r.outcome;
    const span: SpanRec = {
      traceId: ctx.traceId,
      spanId: r.spanId,
      name: 'openclaw.run',
      kind: 'internal',
      start: r.start,
      end,
      attrs: a,
      events: [],
      links: [],
    };
    if (ctx.parentSpanId) span.parentSpanId = ctx.parentSpanId;
    if (r.outcome === 'error') {
      const msg = r.error || 'run failed';
      span.error = msg;
      a[ATTR_ERROR_TYPE] = 'run_failed';
      span.events.push(exception(end, 'RunError', msg));
    }
    if (r.progressN > 0) {
      const pid = spanIdOf(r.spanId, 'in_progress');
      span.links.push({ traceId: ctx.traceId, spanId: pid, attrs: { 'openclaw.link': 'in_progress' } });
      a[OC.inProgressExports] = r.progressN;
    }
    return span;
  }

  private stepSpan(s: Sess, runId: string, st: Step, ctx: Ctx, parent: string | undefined): SpanRec {
    const a = this.common(s, runId);
    a[ATTR_GEN_AI_OPERATION_NAME] = OP_CHAT;
    if (st.model) a[ATTR_GEN_AI_REQUEST_MODEL] = st.model;
    if (st.provider) a[ATTR_GEN_AI_PROVIDER_NAME] = st.provider;
    if (st.n !== undefined) a[OC.step] = st.n;
    const t = st.tokens;
    if (t) {
      a[ATTR_GEN_AI_USAGE_INPUT_TOKENS] = t.input;
      a[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS] = t.output;
      a[ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = t.cacheRead;
      a[ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = t.cacheWrite;
      a[ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = t.reasoning;
      a[OC.cacheRead] = t.cacheRead;
      a[OC.cacheWrite] = t.cacheWrite;
      a[OC.reasoning] = t.reasoning;
      a[OC.costUsd] = t.costUsd;
    }
    const span: SpanRec = {
      traceId: ctx.traceId,
      spanId: st.spanId,
      name: 'openclaw.model.call',
      kind: 'client',
      start: st.start,
      end: st.end ?? st.start,
      attrs: a,
      events: [],
      links: [],
    };
    if (parent) span.parentSpanId = parent;
    const err = st.error;
    if (err) {
      span.error = err.message;
      a[ATTR_ERROR_TYPE] = err.status !== undefined ? String(err.status) : '_OTHER';
      if (err.status !== undefined) a[ATTR_HTTP_RESPONSE_STATUS_CODE] = err.status;
      a[OC.retryable] = err.retryable;
      span.events.push(exception(err.ts, err.status === 529 ? 'Overloaded' : 'ModelError', err.message));
    }
    return span;
  }

  private toolSpan(s: Sess, r: Run, t: Tool, ctx: Ctx, end: number, state?: 'unfinished'): SpanRec {
    const a = this.common(s, r.id);
    a[ATTR_GEN_AI_OPERATION_NAME] = OP_EXECUTE_TOOL;
    a[ATTR_GEN_AI_TOOL_NAME] = t.name;
    a[ATTR_GEN_AI_TOOL_CALL_ID] = t.callId;
    if (t.args !== undefined) a[OC.toolArgs] = t.args;
    if (t.durationMs !== undefined && t.end !== undefined) a[OC.toolDurationMs] = t.durationMs;
    if (t.childKey) {
      a[OC.childKey] = t.childKey;
      const label = this.sessions.get(t.childKey)?.label;
      if (label) a[OC.childLabel] = label;
    }
    const span: SpanRec = {
      traceId: ctx.traceId,
      spanId: t.spanId,
      parentSpanId: r.spanId,
      name: 'openclaw.tool.execution',
      kind: 'internal',
      start: t.start,
      end: Math.max(t.start, end),
      attrs: a,
      events: [],
      links: [],
    };
    if (state) {
      a[OC.spanState] = state;
      a[OC.finalSpanId] = t.spanId;
      span.error = 'no result (its run ended first)';
    } else if (t.error !== undefined) {
      span.error = t.error;
      a[ATTR_ERROR_TYPE] = 'tool_error';
      span.events.push(exception(end, 'ToolError', t.error));
    }
    if (t.progressN > 0 && !state) {
      span.links.push({
        traceId: ctx.traceId,
        spanId: spanIdOf(t.spanId, 'in_progress'),
        attrs: { 'openclaw.link': 'in_progress' },
      });
      a[OC.inProgressExports] = t.progressN;
    }
    return span;
  }
}

function exception(ts: number, type: string, message: string): SpanEventRec {
  return { name: 'exception', ts, attrs: { [ATTR_EXCEPTION_TYPE]: type, [ATTR_EXCEPTION_MESSAGE]: message } };
}

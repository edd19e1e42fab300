/**
 * Transcript lines → PulseEvents. Stateful (runs and open tool calls span lines) but pure: it is
 * fed parsed line objects in file order, so the file source and the SQLite source (which stores
 * the same line objects) share it and produce identical dedupe keys for the same line.
 *
 * Runs: transcripts carry no run id (2026.9 adds `__openclaw.runId`, used when present). A run
 * starts at a real user message, or at an assistant message that follows a terminal one
 * (stop/error/aborted: a retry, a sub-agent completion turn). The derived run id is built from
 * the entry id of the line that started it, so it is the same after a restart or a rewrite.
 *
 * Speed: this runs for every transcript line, next to a JSON.parse of it. A line is read in
 * place (no typed copy: `lineError` rejects what parseTranscriptLine rejects, and each field is
 * read with the reader that copy is made with), and events are whole object literals.
 */
import type {
  AgentFinishedEvent,
  AgentStepStartedEvent,
  LlmErrorEvent,
  LlmTokensEvent,
  PulseEvent,
  RunOutcome,
  SourceKind,
  SubagentSpawnedEvent,
  ToolErrorEvent,
  ToolOutputEvent,
} from '../model/events.js';
import { blockSuffix, CALL_SUFFIXES, sessionTag, TEXT_SUFFIXES } from './event-keys.js';
import { parseIsoTime } from './iso-time.js';
import { MAX_PENDING, type PendingCall, PendingCalls } from './pending-calls.js';
import { spawnDedupeKey } from './sessions-json.js';
import {
  classifyLlmError,
  extractChildSessionKey,
  summarizeOutput,
  summarizeToolArgs,
  toolResultFailed,
  unwrapToolCall,
} from './summarize.js';
import {
  type ContentBlock,
  contentText,
  INTERNAL_CONTEXT_PREFIX,
  isObj,
  isUsableBlock,
  lineError,
  num,
  type Obj,
  openclawRunId,
  str,
  type TranscriptEntry,
} from './transcript.js';

/** what survives a restart (the file source saves it with its offset) */
export interface NormalizerState {
  runId?: string;
  runOpen: boolean;
  step: number;
  /** open tool calls: [runId, callId, name, ts, label?] */
  pending: Array<[string, string, string, number, string?]>;
  lastTs?: number;
}

export interface NormalizerOptions {
  sessionKey: string;
  agentId: string;
  sessionId: string;
  source: SourceKind;
  initial?: NormalizerState;
}

export interface TranscriptNormalizer {
  /** one raw (JSON-decoded) line; `error` set when the line is malformed (no events then) */
  push(raw: unknown): { events: PulseEvent[]; error?: string };
  pushEntry(entry: TranscriptEntry): PulseEvent[];
  state(): NormalizerState;
  /** the session key became known later (sessions.json written after the transcript) */
  setSessionKey(sessionKey: string, agentId?: string): void;
}

/*
 * Events are object literals with every field in catalog order (type, ts, source, sessionKey,
 * agentId, dedupeKey, then their own): they are JSON-stringified into the store, so the order is
 * part of the output. A spread of a shared base built each event field by field, several times
 * slower. Optional fields that are nearly always there (a step's model, a call's args, a
 * result's output) get a literal with them: a field added afterwards lands in a separate
 * property array (measured: ~0.1 µs a line).
 */
export function createTranscriptNormalizer(opts: NormalizerOptions): TranscriptNormalizer {
  let { sessionKey, agentId } = opts;
  const { sessionId, source } = opts;
  const init = opts.initial;
  let runId = init?.runId;
  let runOpen = init?.runOpen ?? false;
  let step = init?.step ?? 0;
  let lastTs = init?.lastTs;
  const pending = new PendingCalls();
  for (const [r, c, name, ts, label] of init?.pending ?? []) {
    pending.set(label ? { runId: r, callId: c, name, ts, label } : { runId: r, callId: c, name, ts });
  }

  // the line being normalized: its entry id, and `${sessionId}/${entryId}` for its keys
  const sessionPrefix = `${sessionId}/`;
  const tag = sessionTag(sessionId);
  let entryId = '';
  let keyPrefix = '';

  function entryTs(timestamp: string | undefined, msgTs?: number): number {
    let t = msgTs;
    if (t === undefined && timestamp) {
      const p = parseIsoTime(timestamp);
      if (Number.isFinite(p)) t = p;
    }
    if (t === undefined) t = lastTs ?? 0;
    lastTs = t;
    return t;
  }

  function startRun(id: string, ts: number, out: PulseEvent[]): void {
    runId = id;
    runOpen = true;
    step = 0;
    const dedupeKey = `${keyPrefix}/agent.started/0`;
    out.push({ type: 'agent.started', ts, source, sessionKey, agentId, dedupeKey, runId: id });
  }

  function onUser(m: Obj, ts: number, out: PulseEvent[]): void {
    const text = contentText(m.content);
    if (text.trimStart().startsWith(INTERNAL_CONTEXT_PREFIX)) return;
    const idemKey = str(m.idempotencyKey);
    const idem = idemKey && /^(.+):user$/.exec(idemKey)?.[1];
    startRun(openclawRunId(m.__openclaw) ?? idem ?? `${tag}:r:${entryId}`, ts, out);
  }

  function onAssistant(m: Obj, ts: number, out: PulseEvent[]): void {
    const native = openclawRunId(m.__openclaw);
    if (native && native !== runId) startRun(native, ts, out);
    else if (!runOpen || !runId) startRun(`${tag}:r:${entryId}`, ts, out);
    const run = runId as string;
    const model = str(m.model);
    const provider = str(m.provider);
    step++;
    const dedupeKey = `${keyPrefix}/agent.step_started/0`;
    const type = 'agent.step_started';
    out.push(
      model && provider
        ? { type, ts, source, sessionKey, agentId, dedupeKey, runId: run, step, model, provider }
        : withModel<AgentStepStartedEvent>(
            { type, ts, source, sessionKey, agentId, dedupeKey, runId: run, step },
            model,
            provider,
          ),
    );

    // blocks are numbered as the parsed content has them: without the unusable ones
    const c = m.content;
    if (Array.isArray(c)) {
      let i = 0;
      for (const b of c) if (isUsableBlock(b)) onBlock(b, i++, run, ts, out);
    } else if (typeof c === 'string') onBlock({ type: 'text', text: c }, 0, run, ts, out);

    if (isObj(m.usage)) onUsage(m, run, ts, out);

    const stop = m.stopReason;
    const errorMessage = str(m.errorMessage);
    if (stop === 'error') out.push(llmError(ts, run, errorMessage ?? 'model call failed'));
    if (stop === 'stop' || stop === 'error' || stop === 'aborted') {
      const outcome: RunOutcome = stop === 'stop' ? 'ok' : stop === 'error' ? 'error' : 'aborted';
      const dedupeKey = `${keyPrefix}/agent.finished/0`;
      const fin: AgentFinishedEvent = {
        type: 'agent.finished',
        ts,
        source,
        sessionKey,
        agentId,
        dedupeKey,
        runId: run,
        outcome,
      };
      if (outcome !== 'ok' && errorMessage) fin.error = errorMessage;
      out.push(fin);
      runOpen = false;
    }
  }

  /** one usable content block of an assistant message: text and tool calls make events */
  function onBlock(b: ContentBlock, i: number, run: string, ts: number, out: PulseEvent[]): void {
    if (b.type === 'text') {
      const text = (b as { text: string }).text;
      if (text.trim()) {
        const dedupeKey = keyPrefix + blockSuffix(TEXT_SUFFIXES, 'assistant.text', i);
        out.push({ type: 'assistant.text', ts, source, sessionKey, agentId, dedupeKey, runId: run, text });
      }
    } else if (b.type === 'toolCall') {
      const tc = b as { id: string; name: string; arguments?: unknown };
      const inner = unwrapToolCall(tc.name, tc.arguments);
      const dedupeKey = keyPrefix + blockSuffix(CALL_SUFFIXES, 'tool.call', i);
      const type = 'tool.call';
      const callId = tc.id;
      const name = inner.name;
      const args = summarizeToolArgs(name, inner.args);
      out.push(
        args
          ? { type, ts, source, sessionKey, agentId, dedupeKey, runId: run, callId, name, args }
          : { type, ts, source, sessionKey, agentId, dedupeKey, runId: run, callId, name },
      );
      const label = name === 'sessions_spawn' ? labelOf(inner.args) : undefined;
      remember(label ? { runId: run, callId, name, ts, label } : { runId: run, callId, name, ts });
    }
  }

  /** llm.tokens of a message with a usage object, unless every count is zero */
  function onUsage(m: Obj, run: string, ts: number, out: PulseEvent[]): void {
    const u = m.usage as Obj;
    const input = num(u.input) ?? 0;
    const output = num(u.output) ?? 0;
    const cacheRead = num(u.cacheRead) ?? 0;
    const cacheWrite = num(u.cacheWrite) ?? 0;
    const costUsd = (isObj(u.cost) ? num(u.cost.total) : undefined) ?? 0;
    if (!(input || output || cacheRead || cacheWrite || costUsd)) return;
    const dedupeKey = `${keyPrefix}/llm.tokens/0`;
    const ev: LlmTokensEvent = {
      type: 'llm.tokens',
      ts,
      source,
      sessionKey,
      agentId,
      dedupeKey,
      runId: run,
      input,
      output,
      cacheRead,
      cacheWrite,
      costUsd,
      reasoning: 0,
    };
    out.push(withModel(ev, str(m.model), str(m.provider)));
  }

  /** llm.error: `status` (when one can be read) comes between `message` and `retryable` */
  function llmError(ts: number, run: string | undefined, message: string): LlmErrorEvent {
    const dedupeKey = `${keyPrefix}/llm.error/0`;
    const ev = { type: 'llm.error', ts, source, sessionKey, agentId, dedupeKey } as LlmErrorEvent;
    if (run) ev.runId = run;
    ev.message = message;
    const info = classifyLlmError(message);
    if (info.status !== undefined) ev.status = info.status;
    ev.retryable = info.retryable;
    return ev;
  }

  function onToolResult(m: Obj, ts: number, out: PulseEvent[]): void {
    const callId = m.toolCallId as string;
    const toolName = str(m.toolName);
    let call = runId ? pending.get(runId, callId) : undefined;
    if (!call) call = pending.lastWithCallId(callId);
    if (call) pending.delete(call.runId, callId);
    const run = call?.runId ?? runId ?? `${tag}:r:orphan`;
    const name = call?.name ?? toolName ?? 'unknown';
    const details = m.details && typeof m.details === 'object' ? (m.details as Obj) : undefined;
    const text = contentText(m.content);
    const timestamp = num(m.timestamp);
    let durationMs = typeof details?.durationMs === 'number' ? details.durationMs : undefined;
    if (durationMs === undefined && call && timestamp !== undefined)
      durationMs = Math.max(0, timestamp - call.ts);
    if (toolResultFailed(m.isError, details)) {
      const detailErr = typeof details?.error === 'string' ? details.error : undefined;
      const error = summarizeOutput(detailErr ?? text) ?? 'tool failed';
      const dedupeKey = `${keyPrefix}/tool.error/0`;
      // durationMs, when known, comes before error
      const ev = { type: 'tool.error', ts, source, sessionKey, agentId, dedupeKey } as ToolErrorEvent;
      ev.runId = run;
      ev.callId = callId;
      ev.name = name;
      if (durationMs !== undefined) ev.durationMs = durationMs;
      ev.error = error;
      out.push(ev);
      return;
    }
    const output = summarizeOutput(text);
    const dedupeKey = `${keyPrefix}/tool.output/0`;
    const type = 'tool.output';
    if (durationMs !== undefined && output) {
      out.push({
        type,
        ts,
        source,
        sessionKey,
        agentId,
        dedupeKey,
        runId: run,
        callId,
        name,
        durationMs,
        output,
      });
    } else {
      const ev: ToolOutputEvent = {
        type,
        ts,
        source,
        sessionKey,
        agentId,
        dedupeKey,
        runId: run,
        callId,
        name,
      };
      if (durationMs !== undefined) ev.durationMs = durationMs;
      if (output) ev.output = output;
      out.push(ev);
    }
    if (name === 'sessions_spawn' || toolName === 'sessions_spawn') {
      const childKey = extractChildSessionKey(m.details, text);
      if (childKey) {
        const sp: SubagentSpawnedEvent = {
          type: 'subagent.spawned',
          ts,
          source,
          sessionKey,
          agentId,
          dedupeKey: spawnDedupeKey(sessionKey, childKey),
          parentKey: sessionKey,
          childKey,
          runId: run,
        };
        if (call?.label) sp.label = call.label;
        out.push(sp);
      }
    }
  }

  function onCustom(e: Obj, ts: number, out: PulseEvent[]): void {
    if (e.customType !== 'openclaw:prompt-error') return;
    const data = (e.data && typeof e.data === 'object' ? e.data : {}) as Obj;
    const message = typeof data.error === 'string' ? data.error : 'prompt failed';
    const run = runId ?? (typeof data.runId === 'string' ? data.runId : undefined);
    out.push(llmError(ts, run, message));
    if (runOpen && runId) {
      const dedupeKey = `${keyPrefix}/agent.finished/0`;
      out.push({
        type: 'agent.finished',
        ts,
        source,
        sessionKey,
        agentId,
        dedupeKey,
        runId,
        outcome: 'error',
        error: message,
      });
      runOpen = false;
    }
  }

  function remember(p: PendingCall): void {
    pending.set(p);
    // calls whose result never came (crash, abort) must not accumulate forever
    pending.keepNewest(MAX_PENDING);
  }

  /** a line that passed lineError (or a parsed entry: it passes too and reads the same) */
  function normalizeLine(v: Obj): PulseEvent[] {
    const out: PulseEvent[] = [];
    const type = v.type as string;
    const timestamp = str(v.timestamp);
    entryId = str(v.id) ?? (type === 'session' ? 'header' : `noid-${timestamp ?? lastTs ?? 0}`);
    keyPrefix = sessionPrefix + entryId;
    switch (type) {
      case 'message': {
        const m = v.message as Obj;
        const ts = entryTs(timestamp, num(m.timestamp));
        const role = m.role;
        if (role === 'user') onUser(m, ts, out);
        else if (role === 'assistant') onAssistant(m, ts, out);
        else if (role === 'toolResult' && typeof m.toolCallId === 'string') onToolResult(m, ts, out);
        break;
      }
      case 'compaction': {
        const ts = entryTs(timestamp);
        const dedupeKey = `${keyPrefix}/session.compacted/0`;
        out.push({ type: 'session.compacted', ts, source, sessionKey, agentId, dedupeKey, mode: 'append' });
        break;
      }
      case 'reset': {
        const ts = entryTs(timestamp);
        const dedupeKey = `${keyPrefix}/session.reset/0`;
        out.push({ type: 'session.reset', ts, source, sessionKey, agentId, dedupeKey, sessionId });
        break;
      }
      case 'custom':
        onCustom(v, entryTs(timestamp), out);
        break;
      case 'session': {
        // the header's working directory: usage reports group sessions by it (`repo`)
        const ts = entryTs(timestamp);
        const cwd = str(v.cwd);
        if (cwd) {
          const dedupeKey = `${keyPrefix}/session.seen/cwd`;
          out.push({ type: 'session.seen', ts, source, sessionKey, agentId, dedupeKey, sessionId, cwd });
        }
        break;
      }
      default:
        entryTs(timestamp);
    }
    return out;
  }

  return {
    push(raw) {
      const error = lineError(raw);
      if (error !== undefined) return { events: [], error };
      return { events: normalizeLine(raw as Obj) };
    },
    pushEntry: (entry) => normalizeLine(entry as unknown as Obj),
    state() {
      const st: NormalizerState = {
        runOpen,
        step,
        pending: pending.calls.map((p) =>
          p.label ? [p.runId, p.callId, p.name, p.ts, p.label] : [p.runId, p.callId, p.name, p.ts],
        ),
      };
      if (runId !== undefined) st.runId = runId;
      if (lastTs !== undefined) st.lastTs = lastTs;
      return st;
    },
    setSessionKey(k, a) {
      sessionKey = k;
      if (a) agentId = a;
    },
  };
}

/** model and provider when set (added after the literal: they come last) */
function withModel<T extends { model?: string; provider?: string }>(
  ev: T,
  model: string | undefined,
  provider: string | undefined,
): T {
  if (model) ev.model = model;
  if (provider) ev.provider = provider;
  return ev;
}

function labelOf(args: unknown): string | undefined {
  if (!args || typeof args !== 'object') return undefined;
  const l = (args as { label?: unknown }).label;
  return typeof l === 'string' && l ? l : undefined;
}

/**
 * Transcript lines → PulseEvents. Stateful (runs and open tool calls span lines) but pure: it is
 * fed parsed line objects in file order, so the file source and the SQLite source (which stores
 * the same line objects) share it and produce identical dedupe keys for the same line.
 *
 * Runs: transcripts carry no run id (2026.9 adds `__openclaw.runId`, used when present). A run
 * starts at a real user message, or at an assistant message that follows a terminal one
 * (stop/error/aborted: a retry, a sub-agent completion turn). The derived run id is built from
 * the entry id of the line that started it, so it is the same after a restart or a rewrite.
 */
import type { AgentFinishedEvent, PulseEvent, RunOutcome, SourceKind } from '../model/events.js';
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
  type AssistantMessage,
  type CustomEntry,
  contentText,
  INTERNAL_CONTEXT_PREFIX,
  isAssistant,
  isToolResult,
  isUser,
  parseTranscriptLine,
  type ToolResultMessage,
  type TranscriptEntry,
  type UserMessage,
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

const MAX_PENDING = 256;
const TERMINAL = new Set(['stop', 'error', 'aborted']);

export function createTranscriptNormalizer(opts: NormalizerOptions): TranscriptNormalizer {
  let { sessionKey, agentId } = opts;
  const { sessionId, source } = opts;
  const init = opts.initial;
  let runId = init?.runId;
  let runOpen = init?.runOpen ?? false;
  let step = init?.step ?? 0;
  let lastTs = init?.lastTs;
  const pending = new Map<
    string,
    { runId: string; callId: string; name: string; ts: number; label?: string }
  >();
  for (const [r, c, name, ts, label] of init?.pending ?? []) {
    pending.set(
      `${r}\n${c}`,
      label ? { runId: r, callId: c, name, ts, label } : { runId: r, callId: c, name, ts },
    );
  }

  const base = (ts: number, dedupeKey: string) => ({ ts, source, sessionKey, agentId, dedupeKey });
  const key = (entryId: string, type: string, idx = 0) => `${sessionId}/${entryId}/${type}/${idx}`;

  function entryTs(entry: { timestamp?: string }, msgTs?: number): number {
    let t = msgTs;
    if (t === undefined && entry.timestamp) {
      const p = Date.parse(entry.timestamp);
      if (Number.isFinite(p)) t = p;
    }
    if (t === undefined) t = lastTs ?? 0;
    lastTs = t;
    return t;
  }

  function startRun(id: string, entryId: string, ts: number, out: PulseEvent[]): void {
    runId = id;
    runOpen = true;
    step = 0;
    out.push({ type: 'agent.started', ...base(ts, key(entryId, 'agent.started')), runId: id });
  }

  function onUser(m: UserMessage, entryId: string, ts: number, out: PulseEvent[]): void {
    const text = contentText(m.content);
    if (text.trimStart().startsWith(INTERNAL_CONTEXT_PREFIX)) return;
    const idem = m.idempotencyKey && /^(.+):user$/.exec(m.idempotencyKey)?.[1];
    startRun(m.__openclaw?.runId ?? idem ?? `${sessionId}:r:${entryId}`, entryId, ts, out);
  }

  function onAssistant(m: AssistantMessage, entryId: string, ts: number, out: PulseEvent[]): void {
    const native = m.__openclaw?.runId;
    if (native && native !== runId) startRun(native, entryId, ts, out);
    else if (!runOpen || !runId) startRun(`${sessionId}:r:${entryId}`, entryId, ts, out);
    const run = runId as string;
    step++;
    const stepEv: PulseEvent = {
      type: 'agent.step_started',
      ...base(ts, key(entryId, 'agent.step_started')),
      runId: run,
      step,
    };
    if (m.model) stepEv.model = m.model;
    if (m.provider) stepEv.provider = m.provider;
    out.push(stepEv);

    const blocks = Array.isArray(m.content)
      ? m.content
      : typeof m.content === 'string'
        ? [{ type: 'text', text: m.content }]
        : [];
    blocks.forEach((b, i) => {
      if (b.type === 'text') {
        const text = (b as { text?: unknown }).text;
        if (typeof text === 'string' && text.trim()) {
          out.push({
            type: 'assistant.text',
            ...base(ts, key(entryId, 'assistant.text', i)),
            runId: run,
            text,
          });
        }
      } else if (b.type === 'toolCall') {
        const tc = b as { id?: unknown; name?: unknown; arguments?: unknown };
        if (typeof tc.id !== 'string' || typeof tc.name !== 'string') return;
        const inner = unwrapToolCall(tc.name, tc.arguments);
        const ev: PulseEvent = {
          type: 'tool.call',
          ...base(ts, key(entryId, 'tool.call', i)),
          runId: run,
          callId: tc.id,
          name: inner.name,
        };
        const args = summarizeToolArgs(inner.name, inner.args);
        if (args) ev.args = args;
        out.push(ev);
        const label = inner.name === 'sessions_spawn' ? labelOf(inner.args) : undefined;
        remember({ runId: run, callId: tc.id, name: inner.name, ts, ...(label ? { label } : {}) });
      }
    });

    const u = m.usage;
    if (u) {
      const tokens = {
        input: u.input ?? 0,
        output: u.output ?? 0,
        cacheRead: u.cacheRead ?? 0,
        cacheWrite: u.cacheWrite ?? 0,
        costUsd: u.cost?.total ?? 0,
      };
      if (tokens.input || tokens.output || tokens.cacheRead || tokens.cacheWrite || tokens.costUsd) {
        const ev: PulseEvent = {
          type: 'llm.tokens',
          ...base(ts, key(entryId, 'llm.tokens')),
          runId: run,
          ...tokens,
          reasoning: 0,
        };
        if (m.model) ev.model = m.model;
        if (m.provider) ev.provider = m.provider;
        out.push(ev);
      }
    }

    const stop = m.stopReason;
    if (stop === 'error') {
      const message = m.errorMessage ?? 'model call failed';
      out.push({
        type: 'llm.error',
        ...base(ts, key(entryId, 'llm.error')),
        runId: run,
        message,
        ...classifyLlmError(message),
      });
    }
    if (stop && TERMINAL.has(stop)) {
      const outcome: RunOutcome = stop === 'stop' ? 'ok' : stop === 'error' ? 'error' : 'aborted';
      const fin: AgentFinishedEvent = {
        type: 'agent.finished',
        ...base(ts, key(entryId, 'agent.finished')),
        runId: run,
        outcome,
      };
      if (outcome !== 'ok' && m.errorMessage) fin.error = m.errorMessage;
      out.push(fin);
      runOpen = false;
    }
  }

  function onToolResult(m: ToolResultMessage, entryId: string, ts: number, out: PulseEvent[]): void {
    const callId = m.toolCallId;
    let call = runId ? pending.get(`${runId}\n${callId}`) : undefined;
    if (!call) for (const p of pending.values()) if (p.callId === callId) call = p;
    if (call) pending.delete(`${call.runId}\n${callId}`);
    const run = call?.runId ?? runId ?? `${sessionId}:r:orphan`;
    const name = call?.name ?? unwrapToolCall(m.toolName ?? 'unknown', undefined).name;
    const details =
      m.details && typeof m.details === 'object' ? (m.details as Record<string, unknown>) : undefined;
    const text = contentText(m.content);
    const isErr = toolResultFailed(m.isError, details);
    let durationMs = typeof details?.durationMs === 'number' ? details.durationMs : undefined;
    if (durationMs === undefined && call && m.timestamp !== undefined)
      durationMs = Math.max(0, m.timestamp - call.ts);
    const common = { runId: run, callId, name, ...(durationMs !== undefined ? { durationMs } : {}) };
    if (isErr) {
      const detailErr = typeof details?.error === 'string' ? details.error : undefined;
      const error = summarizeOutput(detailErr ?? text) ?? 'tool failed';
      out.push({ type: 'tool.error', ...base(ts, key(entryId, 'tool.error')), ...common, error });
      return;
    }
    const output = summarizeOutput(text);
    out.push({
      type: 'tool.output',
      ...base(ts, key(entryId, 'tool.output')),
      ...common,
      ...(output ? { output } : {}),
    });
    if (name === 'sessions_spawn' || m.toolName === 'sessions_spawn') {
      const childKey = extractChildSessionKey(m.details, text);
      if (childKey) {
        out.push({
          type: 'subagent.spawned',
          ...base(ts, spawnDedupeKey(sessionKey, childKey)),
          parentKey: sessionKey,
          childKey,
          runId: run,
          ...(call?.label ? { label: call.label } : {}),
        });
      }
    }
  }

  function onCustom(e: CustomEntry, entryId: string, ts: number, out: PulseEvent[]): void {
    if (e.customType !== 'openclaw:prompt-error') return;
    const data = (e.data && typeof e.data === 'object' ? e.data : {}) as Record<string, unknown>;
    const message = typeof data.error === 'string' ? data.error : 'prompt failed';
    const run = runId ?? (typeof data.runId === 'string' ? data.runId : undefined);
    out.push({
      type: 'llm.error',
      ...base(ts, key(entryId, 'llm.error')),
      ...(run ? { runId: run } : {}),
      message,
      ...classifyLlmError(message),
    });
    if (runOpen && runId) {
      out.push({
        type: 'agent.finished',
        ...base(ts, key(entryId, 'agent.finished')),
        runId,
        outcome: 'error',
        error: message,
      });
      runOpen = false;
    }
  }

  function remember(p: { runId: string; callId: string; name: string; ts: number; label?: string }): void {
    pending.set(`${p.runId}\n${p.callId}`, p);
    // calls whose result never came (crash, abort) must not accumulate forever
    while (pending.size > MAX_PENDING) {
      const oldest = pending.keys().next().value;
      if (oldest === undefined) break;
      pending.delete(oldest);
    }
  }

  function pushEntry(entry: TranscriptEntry): PulseEvent[] {
    const out: PulseEvent[] = [];
    const entryId =
      entry.id ?? (entry.type === 'session' ? 'header' : `noid-${entry.timestamp ?? lastTs ?? 0}`);
    switch (entry.type) {
      case 'message': {
        const m = entry.message;
        const ts = entryTs(entry, m.timestamp);
        if (isUser(m)) onUser(m, entryId, ts, out);
        else if (isAssistant(m)) onAssistant(m, entryId, ts, out);
        else if (isToolResult(m)) onToolResult(m, entryId, ts, out);
        break;
      }
      case 'compaction':
        out.push({
          type: 'session.compacted',
          ...base(entryTs(entry), key(entryId, 'session.compacted')),
          mode: 'append',
        });
        break;
      case 'reset':
        out.push({
          type: 'session.reset',
          ...base(entryTs(entry), key(entryId, 'session.reset')),
          sessionId,
        });
        break;
      case 'custom':
        onCustom(entry, entryId, entryTs(entry), out);
        break;
      default:
        entryTs(entry);
    }
    return out;
  }

  return {
    push(raw) {
      const r = parseTranscriptLine(raw);
      if (!r.ok) return { events: [], error: r.error };
      return { events: pushEntry(r.entry) };
    },
    pushEntry,
    state() {
      const st: NormalizerState = {
        runOpen,
        step,
        pending: [...pending.values()].map((p) =>
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

function labelOf(args: unknown): string | undefined {
  if (!args || typeof args !== 'object') return undefined;
  const l = (args as { label?: unknown }).label;
  return typeof l === 'string' && l ? l : undefined;
}

/**
 * Shared state of the gateway frame mappers: what is known per run (which session it belongs
 * to, buffered assistant text, whether the persisted `session.message` already gave us its
 * text/usage) and a bounded memory of emitted dedupeKeys, so a fact seen twice on the wire
 * (the `agent` item stream and `session.tool` both report every tool) is emitted once.
 *
 * dedupeKeys are built only from ids the gateway itself assigned (runId, per-run seq,
 * toolCallId, transcript message id), so a reconnect, a backfill from chat.history and a
 * daemon restart all produce the same keys.
 */
import type { PulseEvent } from '../../model/events.js';
import { parseSessionKey } from '../session-key.js';
import { cutToMax } from '../summarize.js';
import { isObj, num, type Obj, str } from './frames.js';

export interface RunState {
  runId: string;
  sessionKey: string;
  agentId: string;
  steps: number;
  /** assistant stream text per item (cumulative; the last one is the whole item) */
  assistant: Map<string, string>;
  /** the persisted assistant message of this run carried text / usage: the authoritative copy */
  textFromMessages: boolean;
  usageFromMessages: boolean;
  textEmitted: boolean;
  llmErrorEmitted: boolean;
  /** tool_call wrapper call ids → the inner tool's name (2026.9 compact tool surface) */
  wrappers: Map<string, { inner?: string; args?: unknown }>;
  /** callId → start info, for durations and labels */
  tools: Map<string, { name: string; ts: number; args?: unknown }>;
}

export interface MapperState {
  runs: Map<string, RunState>;
  /** sessionKey → the run most recently started there (for messages that do not name their run) */
  currentRun: Map<string, string>;
  /** sessionKey → current OpenClaw sessionId (transcript id), from rows and messages */
  sessionIds: Map<string, string>;
  /** sessionKey → last session.seen key emitted (skip identical snapshots) */
  lastSeen: Map<string, string>;
  emitted: Map<string, true>;
  agentOfKey: Map<string, string>;
  out: PulseEvent[];
  maxRuns: number;
  maxKeys: number;
  counters: { unmapped: number; duplicatesDropped: number };
}

export function createMapperState(o: { maxRuns?: number; maxKeys?: number } = {}): MapperState {
  return {
    runs: new Map(),
    currentRun: new Map(),
    sessionIds: new Map(),
    lastSeen: new Map(),
    emitted: new Map(),
    agentOfKey: new Map(),
    out: [],
    maxRuns: o.maxRuns ?? 2000,
    maxKeys: o.maxKeys ?? 50_000,
    counters: { unmapped: 0, duplicatesDropped: 0 },
  };
}

/** Emits unless an event with the same dedupeKey went out recently. */
export function emit(st: MapperState, e: PulseEvent): void {
  if (st.emitted.has(e.dedupeKey)) {
    st.counters.duplicatesDropped++;
    return;
  }
  st.emitted.set(e.dedupeKey, true);
  if (st.emitted.size > st.maxKeys) {
    const oldest = st.emitted.keys().next().value;
    if (oldest !== undefined) st.emitted.delete(oldest);
  }
  st.out.push(e);
}

export function wasEmitted(st: MapperState, key: string): boolean {
  return st.emitted.has(key);
}

export function agentIdOf(st: MapperState, sessionKey: string, explicit?: unknown): string {
  const a = str(explicit);
  if (a) return a;
  let cached = st.agentOfKey.get(sessionKey);
  if (cached === undefined) {
    cached = parseSessionKey(sessionKey).agentId ?? 'main';
    if (st.agentOfKey.size > 10_000) st.agentOfKey.clear();
    st.agentOfKey.set(sessionKey, cached);
  }
  return cached;
}

export function getRun(st: MapperState, runId: string, sessionKey: string, agentId: string): RunState {
  let r = st.runs.get(runId);
  if (!r) {
    r = {
      runId,
      sessionKey,
      agentId,
      steps: 0,
      assistant: new Map(),
      textFromMessages: false,
      usageFromMessages: false,
      textEmitted: false,
      llmErrorEmitted: false,
      wrappers: new Map(),
      tools: new Map(),
    };
    st.runs.set(runId, r);
    if (st.runs.size > st.maxRuns) {
      const oldest = st.runs.keys().next().value;
      if (oldest !== undefined) st.runs.delete(oldest);
    }
  }
  return r;
}

export const keys = {
  run: (runId: string, what: string) => `gw/${runId}/${what}`,
  tool: (sessionKey: string, runId: string, callId: string, phase: 'call' | 'result') =>
    `gw/tool/${sessionKey}/${runId}/${callId}/${phase}`,
  /**
   * Facts of a persisted message. With the sessionId known this is exactly the key the
   * transcript normalizer (src/openclaw/normalize.ts) gives the same entry, so the files/sqlite
   * sources and the gateway never count one model call's tokens twice.
   */
  msg: (sessionId: string | undefined, sessionKey: string, msgId: string, type: string, idx = 0) =>
    sessionId ? `${sessionId}/${msgId}/${type}/${idx}` : `gw/msg/${sessionKey}/${msgId}/${type}/${idx}`,
};

export function noteSessionId(st: MapperState, sessionKey: string, sessionId: unknown): void {
  if (typeof sessionId !== 'string' || !sessionId) return;
  if (st.sessionIds.get(sessionKey) === sessionId) return;
  if (st.sessionIds.size > 20_000) st.sessionIds.clear();
  st.sessionIds.set(sessionKey, sessionId);
}

/** a short human summary of tool arguments: the command, the path, the label; never the payload */
export function summarizeArgs(name: string, args: unknown, fallback?: string): string | undefined {
  if (isObj(args)) {
    const a = args as Obj;
    const pick =
      str(a.command) ??
      str(a.cmd) ??
      (name === 'sessions_spawn' ? (str(a.label) ?? str(a.task)) : undefined) ??
      str(a.path) ??
      str(a.file_path) ??
      str(a.filePath) ??
      str(a.url) ??
      str(a.query) ??
      str(a.pattern);
    if (pick) return cutToMax(pick, 160);
    const json = safeJson(a);
    if (json && json !== '{}') return cutToMax(json, 160);
  } else if (typeof args === 'string' && args) {
    return cutToMax(args, 160);
  }
  return fallback ? cutToMax(fallback, 160) : undefined;
}

/** the text of a tool result (`{content:[{type:"text",text}]}`) or a plain string */
export function resultText(result: unknown): string | undefined {
  if (typeof result === 'string') return result || undefined;
  if (!isObj(result)) return undefined;
  if (Array.isArray(result.content)) {
    const parts: string[] = [];
    for (const b of result.content)
      if (isObj(b) && b.type === 'text' && typeof b.text === 'string') parts.push(b.text);
    if (parts.length) return parts.join('\n');
  }
  return str(result.text);
}

/** the text blocks of an assistant message's content */
export function messageText(content: unknown): string | undefined {
  if (typeof content === 'string') return content.trim() || undefined;
  if (!Array.isArray(content)) return undefined;
  const parts: string[] = [];
  for (const b of content)
    if (isObj(b) && b.type === 'text' && typeof b.text === 'string' && b.text.trim())
      parts.push(b.text.trim());
  return parts.length ? parts.join('\n') : undefined;
}

function safeJson(v: unknown): string | undefined {
  try {
    return JSON.stringify(v);
  } catch {
    return undefined;
  }
}

export function tsOf(...candidates: unknown[]): number | undefined {
  for (const c of candidates) {
    const n = num(c);
    if (n !== undefined) return n;
  }
  return undefined;
}

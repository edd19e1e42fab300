/**
 * Tool calls as the gateway reports them, twice: in the `agent` event `item` stream
 * (`kind:"tool"`, phase start/update/end, a human `meta`/`title` but no args) and in the
 * `session.tool` event (phase start/update/result with args and result). Both go through the
 * same two functions with the same dedupeKeys, so whichever arrives first wins.
 *
 * 2026.9's compact tool surface calls most tools through a `tool_call {id, args}` wrapper; the
 * inner tool then reports its own events (its toolCallId is `tool_search_code:<outer>:<name>:n`
 * and session.tool names `parentToolCallId`). We show the inner tool and hide the wrapper,
 * except when the wrapper itself fails (then its error is shown under the inner tool's name).
 */
import { spawnDedupeKey } from '../sessions-json.js';
import { cutToMax, toolResultFailed } from '../summarize.js';
import { isObj, num, type Obj, str } from './frames.js';
import {
  emit,
  keys,
  type MapperState,
  type RunState,
  resultText,
  summarizeArgs,
  wasEmitted,
} from './map-state.js';

export interface ToolCtx {
  st: MapperState;
  run: RunState;
  ts: number;
}

const WRAPPER = 'tool_call';

export function toolStart(c: ToolCtx, callId: string, name: string, args: unknown, meta?: string): void {
  const { st, run, ts } = c;
  if (name === WRAPPER) {
    const a = isObj(args) ? args : undefined;
    const prev = run.wrappers.get(callId);
    run.wrappers.set(callId, { inner: str(a?.id) ?? prev?.inner, args: a?.args ?? prev?.args });
    return;
  }
  const known = run.tools.get(callId);
  if (!known || (args !== undefined && known.args === undefined))
    run.tools.set(callId, { name, ts: known?.ts ?? ts, args: args ?? known?.args });
  const key = keys.tool(run.sessionKey, run.runId, callId, 'call');
  if (wasEmitted(st, key)) return;
  const summary = summarizeArgs(name, args, meta);
  emit(st, {
    type: 'tool.call',
    ts,
    source: 'gateway',
    sessionKey: run.sessionKey,
    agentId: run.agentId,
    dedupeKey: key,
    runId: run.runId,
    callId,
    name,
    ...(summary ? { args: summary } : {}),
  });
}

export interface ToolResultInfo {
  isError: boolean;
  result?: unknown;
  meta?: string;
  error?: string;
  durationMs?: number;
}

export function toolResult(c: ToolCtx, callId: string, name: string, r: ToolResultInfo): void {
  const { run } = c;
  if (name === WRAPPER) {
    if (!r.isError) return;
    const w = run.wrappers.get(callId);
    const inner = w?.inner ?? WRAPPER;
    toolStart(c, callId, inner, w?.args);
    emitResult(c, callId, inner, r);
    return;
  }
  const started = run.tools.get(callId);
  // connected mid-run: make sure the call exists before its result (same key: no duplicate)
  if (!started) toolStart(c, callId, name, undefined, r.meta);
  emitResult(c, callId, name, r);
  if (name === 'sessions_spawn' && !r.isError) spawned(c, callId, r.result, r.meta);
}

function emitResult(c: ToolCtx, callId: string, name: string, r: ToolResultInfo): void {
  const { st, run, ts } = c;
  const key = keys.tool(run.sessionKey, run.runId, callId, 'result');
  if (wasEmitted(st, key)) return;
  const started = run.tools.get(callId);
  const durationMs = r.durationMs ?? (started ? Math.max(0, ts - started.ts) : undefined);
  const text = resultText(r.result) ?? r.error;
  const base = {
    ts,
    source: 'gateway' as const,
    sessionKey: run.sessionKey,
    agentId: run.agentId,
    dedupeKey: key,
    runId: run.runId,
    callId,
    name,
    ...(durationMs !== undefined ? { durationMs } : {}),
  };
  if (r.isError) {
    emit(st, { ...base, type: 'tool.error', error: cutToMax(text ?? r.meta ?? 'tool failed', 500) });
  } else {
    const output = text ?? r.meta;
    emit(st, { ...base, type: 'tool.output', ...(output ? { output: cutToMax(output, 500) } : {}) });
  }
}

/** `sessions_spawn` accepted: `{status:"accepted", childSessionKey, runId, ...}` in details or the text */
function spawned(c: ToolCtx, callId: string, result: unknown, meta?: string): void {
  const { st, run, ts } = c;
  let info: Obj | undefined = isObj(result) && isObj(result.details) ? result.details : undefined;
  if (!info?.childSessionKey) {
    const text = resultText(result);
    if (text) {
      try {
        const parsed: unknown = JSON.parse(text);
        if (isObj(parsed)) info = parsed;
      } catch {
        const m = /"childSessionKey"\s*:\s*"([^"]+)"/.exec(text);
        if (m?.[1]) info = { childSessionKey: m[1] };
      }
    }
  }
  const childKey = str(info?.childSessionKey);
  // a key OpenClaw's redaction masked (`…-b2***`) names no session
  if (!childKey || childKey.includes('*')) return;
  const args = run.tools.get(callId)?.args;
  const label = (isObj(args) ? str(args.label) : undefined) ?? meta;
  const childRun = str(info?.runId);
  emit(st, {
    type: 'subagent.spawned',
    ts,
    source: 'gateway',
    sessionKey: run.sessionKey,
    agentId: run.agentId,
    dedupeKey: spawnDedupeKey(run.sessionKey, childKey),
    parentKey: run.sessionKey,
    childKey,
    ...(label ? { label } : {}),
    ...(childRun ? { runId: childRun } : {}),
  });
}

/** `agent` event, stream "item": tool items only (command items repeat the tool item in 2026.7) */
export function mapToolItem(c: ToolCtx, data: Obj): void {
  if (data.kind !== 'tool') return;
  const callId = str(data.toolCallId);
  const name = str(data.name);
  if (!callId || !name) return;
  const meta = str(data.meta) ?? str(data.title);
  if (data.phase === 'start') {
    toolStart(c, callId, name, undefined, meta);
  } else if (data.phase === 'end') {
    const status = str(data.status) ?? 'completed';
    const isError = /fail|error|cancel|abort|denied|timeout/i.test(status);
    const started = num(data.startedAt);
    const ended = num(data.endedAt);
    const info: ToolResultInfo = { isError };
    if (meta) info.meta = meta;
    const summary = str(data.summary) ?? str(data.error);
    if (summary) info.result = summary;
    if (started !== undefined && ended !== undefined) info.durationMs = Math.max(0, ended - started);
    toolResult(c, callId, name, info);
  }
}

/** `session.tool` event data: {phase, name, toolCallId, parentToolCallId?, args?, meta?, isError?, result?} */
export function mapSessionTool(c: ToolCtx, data: Obj): void {
  const callId = str(data.toolCallId);
  const name = str(data.name);
  if (!callId || !name) return;
  const parent = str(data.parentToolCallId);
  if (parent && !c.run.wrappers.has(parent)) c.run.wrappers.set(parent, { inner: name, args: data.args });
  if (data.phase === 'start') {
    toolStart(c, callId, name, data.args, str(data.meta));
  } else if (data.phase === 'result' || data.phase === 'end') {
    const details = isObj(data.result) && isObj(data.result.details) ? data.result.details : undefined;
    const info: ToolResultInfo = { isError: toolResultFailed(data.isError, details) };
    if (data.result !== undefined) info.result = data.result;
    const meta = str(data.meta);
    if (meta) info.meta = meta;
    const d = num(details?.durationMs);
    if (d !== undefined) info.durationMs = d;
    toolResult(c, callId, name, info);
  }
}

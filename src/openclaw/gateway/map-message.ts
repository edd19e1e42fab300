/**
 * Persisted transcript messages as the gateway shows them: live in `session.message`
 * (`{sessionKey, agentId, message, messageId, messageSeq, ...row}`) and in `chat.history`
 * results. The message's `__openclaw.id` is the transcript entry id (8-hex in 2026.7, uuid in
 * 2026.9), so keys built from it are the same live, in a backfill and after a restart.
 *
 * An assistant message is one model call: its `usage` is the one token count we trust (the
 * `agent` usage stream carries only output tokens, chat events none), and its text blocks are
 * the narration line. Tool calls/results are taken from messages only in a backfill: live, the
 * `session.tool`/item events already reported them with their run id.
 */
import type { LlmTokensEvent } from '../../model/events.js';
import { toolResultFailed } from '../summarize.js';
import { isObj, num, type Obj, str } from './frames.js';
import { emitLlmError } from './map-agent.js';
import { agentIdOf, emit, getRun, keys, type MapperState, type RunState } from './map-state.js';
import { toolResult, toolStart } from './map-tools.js';

export interface MessageOptions {
  /** map toolCall blocks and toolResult messages too (backfill from chat.history) */
  tools: boolean;
  /** for history: callId → run id of the assistant message that made the call */
  callRuns?: Map<string, string>;
  messageId?: string;
}

export function mapMessage(
  st: MapperState,
  sessionKey: string,
  agentIdHint: unknown,
  msg: Obj,
  now: number,
  o: MessageOptions,
): void {
  const meta = isObj(msg.__openclaw) ? msg.__openclaw : {};
  const role = str(msg.role);
  const ts = num(msg.timestamp) ?? num(meta.recordTimestampMs) ?? now;
  const msgId = str(meta.id) ?? o.messageId ?? str(msg.id) ?? `${role ?? 'msg'}@${ts}`;
  const agentId = agentIdOf(st, sessionKey, agentIdHint);
  const runId = str(meta.runId) ?? str(msg.runId) ?? st.currentRun.get(sessionKey);
  const runOf = (id: string | undefined): RunState =>
    getRun(st, id ?? `unknown:${sessionKey}`, sessionKey, agentId);

  if (role === 'assistant') {
    const run = runOf(runId);
    const usage = isObj(msg.usage) ? msg.usage : undefined;
    if (
      usage &&
      (num(usage.input) ||
        num(usage.output) ||
        num(usage.cacheRead) ||
        num(usage.cacheWrite) ||
        (isObj(usage.cost) && num(usage.cost.total)))
    ) {
      run.usageFromMessages = true;
      emit(
        st,
        tokensEvent(
          sessionKey,
          agentId,
          keys.msg(st.sessionIds.get(sessionKey), sessionKey, msgId, 'llm.tokens'),
          ts,
          usage,
          run.runId,
          str(msg.model),
          str(msg.provider),
        ),
      );
    }
    const sessionId = st.sessionIds.get(sessionKey);
    let text = false;
    const blocks =
      typeof msg.content === 'string'
        ? [{ type: 'text', text: msg.content }]
        : Array.isArray(msg.content)
          ? msg.content
          : [];
    blocks.forEach((b: unknown, i: number) => {
      if (!isObj(b) || b.type !== 'text' || typeof b.text !== 'string' || !b.text.trim()) return;
      text = true;
      run.textFromMessages = true;
      emit(st, {
        type: 'assistant.text',
        ts,
        source: 'gateway',
        sessionKey,
        agentId,
        dedupeKey: keys.msg(sessionId, sessionKey, msgId, 'assistant.text', i),
        ...(run.runId.startsWith('unknown:') ? {} : { runId: run.runId }),
        text: b.text.trim(),
      });
    });
    const err = str(msg.errorMessage);
    if (err && (msg.stopReason === 'error' || !text)) emitLlmError(st, run, ts, err, str(msg.errorKind));
    if (o.tools && Array.isArray(msg.content)) {
      for (const b of msg.content) {
        if (!isObj(b) || b.type !== 'toolCall') continue;
        const callId = str(b.id);
        const name = str(b.name);
        if (!callId || !name) continue;
        o.callRuns?.set(callId, run.runId);
        toolStart({ st, run, ts }, callId, name, b.arguments);
      }
    }
    return;
  }
  if (!o.tools) return;
  if (role === 'toolResult') {
    const callId = str(msg.toolCallId);
    const name = str(msg.toolName);
    if (!callId || !name) return;
    const run = runOf(o.callRuns?.get(callId) ?? runId);
    toolResult({ st, run, ts }, callId, name, {
      isError: toolResultFailed(msg.isError, msg.details),
      result: { content: msg.content, details: msg.details },
    });
    return;
  }
  // 2026.9 nested tool calls (tool_call → inner tool) are persisted as one custom message
  if (role === 'custom' && Array.isArray(msg.content)) {
    for (const b of msg.content) {
      if (!isObj(b)) continue;
      const bRun = runOf(str(b.runId) ?? runId);
      const bts = num(b.timestamp) ?? ts;
      if (b.type === 'toolCall' && str(b.id) && str(b.name)) {
        toolStart({ st, run: bRun, ts: bts }, str(b.id) as string, str(b.name) as string, b.arguments);
      } else if (
        (b.type === 'toolResult' || b.role === 'toolResult') &&
        str(b.toolCallId) &&
        str(b.toolName)
      ) {
        toolResult({ st, run: bRun, ts: bts }, str(b.toolCallId) as string, str(b.toolName) as string, {
          isError: toolResultFailed(b.isError, b.details),
          result: { content: b.content, details: b.details },
        });
      }
    }
  }
}

function tokensEvent(
  sessionKey: string,
  agentId: string,
  dedupeKey: string,
  ts: number,
  u: Obj,
  runId: string,
  model?: string,
  provider?: string,
): LlmTokensEvent {
  const cost = isObj(u.cost) ? u.cost : undefined;
  const costUsd =
    num(cost?.total) ??
    (cost
      ? (num(cost.input) ?? 0) +
        (num(cost.output) ?? 0) +
        (num(cost.cacheRead) ?? 0) +
        (num(cost.cacheWrite) ?? 0)
      : 0);
  const e: LlmTokensEvent = {
    type: 'llm.tokens',
    ts,
    source: 'gateway',
    sessionKey,
    agentId,
    dedupeKey,
    input: num(u.input) ?? num(u.inputTokens) ?? 0,
    output: num(u.output) ?? num(u.outputTokens) ?? 0,
    cacheRead: num(u.cacheRead) ?? num(u.cacheReadTokens) ?? 0,
    cacheWrite: num(u.cacheWrite) ?? num(u.cacheWriteTokens) ?? 0,
    reasoning: num(u.reasoning) ?? num(u.reasoningTokens) ?? 0,
    costUsd,
  };
  if (!runId.startsWith('unknown:')) e.runId = runId;
  if (model) e.model = model;
  if (provider) e.provider = provider;
  return e;
}

/** chat `final` usage: only used when no persisted assistant message of the run carried usage */
export function chatUsageEvent(
  run: RunState,
  usage: Obj,
  ts: number,
  seq: number | undefined,
): LlmTokensEvent {
  return tokensEvent(
    run.sessionKey,
    run.agentId,
    keys.run(run.runId, `chat-usage/${seq ?? 'final'}`),
    ts,
    usage,
    run.runId,
  );
}

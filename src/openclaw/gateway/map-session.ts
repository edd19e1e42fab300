/**
 * Session-level gateway events:
 *   sessions.changed (2026.7+) `{sessionKey, agentId, reason|phase, ts, session:{row}, ...row}` and the
 *     rows of sessions.subscribe / sessions.list → session.seen (+ subagent.spawned for a row with
 *     spawnedBy: the child links to its parent even when the spawn tool result was missed)
 *   task  `{action, task:{kind, status, sessionKey, childSessionKey, runId, ...}}` → subagent.finished
 *     when a sub-agent task reaches a final status; everything else about tasks is ignored
 *   chat  `{runId, sessionKey, seq, state: delta|final|aborted|error, message?, usage?, errorMessage?, errorKind?}`
 *     final → the run's text if nothing else gave it; error → llm.error
 */
import type { RunOutcome, SessionSeenEvent } from '../../model/events.js';
import { channelOf, spawnDedupeKey } from '../sessions-json.js';
import { isObj, num, type Obj, str } from './frames.js';
import { emitLlmError } from './map-agent.js';
import { chatUsageEvent } from './map-message.js';
import { agentIdOf, emit, getRun, keys, type MapperState, messageText, noteSessionId } from './map-state.js';

/** One session row (sessions.changed payload, or a sessions.list row) → session.seen. */
export function mapSessionRow(st: MapperState, raw: Obj, now: number): void {
  // sessions.changed (2026.9) repeats the row under `session`; read fields from either without
  // copying the (large) row
  const inner = isObj(raw.session) ? raw.session : undefined;
  const get = inner ? (k: string): unknown => inner[k] ?? raw[k] : (k: string): unknown => raw[k];
  const sessionKey = str(raw.sessionKey) ?? str(get('key'));
  if (!sessionKey) {
    st.counters.unmapped++;
    return;
  }
  const agentId = agentIdOf(st, sessionKey, get('agentId'));
  const updatedAt = num(get('updatedAt'));
  const parentKey = str(get('spawnedBy')) ?? str(get('parentSessionKey'));
  const label = str(get('label'));
  const status = str(get('status'));
  const sessionId = str(get('sessionId'));
  noteSessionId(st, sessionKey, sessionId);
  const seenKey = `gw/seen/${sessionKey}/${sessionId ?? ''}/${updatedAt ?? ''}/${status ?? ''}/${parentKey ?? ''}/${label ?? ''}`;
  const ts = num(raw.ts) ?? updatedAt ?? now;
  if (st.lastSeen.get(sessionKey) !== seenKey) {
    st.lastSeen.set(sessionKey, seenKey);
    if (st.lastSeen.size > 20_000) st.lastSeen.delete(st.lastSeen.keys().next().value as string);
    const e: SessionSeenEvent = {
      type: 'session.seen',
      ts,
      source: 'gateway',
      sessionKey,
      agentId,
      dedupeKey: seenKey,
    };
    if (sessionId) e.sessionId = sessionId;
    if (label) e.label = label;
    const displayName = str(get('displayName')) ?? str(get('derivedTitle'));
    if (displayName) e.displayName = displayName;
    if (parentKey) e.parentKey = parentKey;
    const depth = num(get('spawnDepth'));
    if (depth !== undefined) e.spawnDepth = depth;
    const channel = channelOf(sessionKey, inner ? channelFields(get) : raw);
    if (channel) e.channel = channel;
    if (updatedAt !== undefined) e.updatedAt = updatedAt;
    const model = str(get('model'));
    if (model) e.model = model;
    const provider = str(get('modelProvider'));
    if (provider) e.provider = provider;
    if (status) e.rowStatus = status;
    emit(st, e);
  }
  if (parentKey) {
    emit(st, {
      type: 'subagent.spawned',
      ts: num(get('startedAt')) ?? num(get('createdAt')) ?? ts,
      source: 'gateway',
      sessionKey: parentKey,
      agentId: agentIdOf(st, parentKey),
      dedupeKey: spawnDedupeKey(parentKey, sessionKey),
      parentKey,
      childKey: sessionKey,
      ...(label ? { label } : {}),
    });
  }
}

const CHANNEL_FIELDS = [
  'origin',
  'deliveryContext',
  'route',
  'delivery',
  'lastChannel',
  'channel',
  'lastTo',
  'lastThreadId',
  'lastAccountId',
  'chatType',
  'accountId',
];

/** the row fields channelOf reads, merged from the nested and flat copies */
function channelFields(get: (k: string) => unknown): Obj {
  const o: Obj = {};
  for (const k of CHANNEL_FIELDS) {
    const v = get(k);
    if (v !== undefined && v !== null) o[k] = v;
  }
  return o;
}

const TASK_OUTCOME: Record<string, RunOutcome> = {
  completed: 'ok',
  succeeded: 'ok',
  done: 'ok',
  failed: 'error',
  error: 'error',
  timeout: 'error',
  timed_out: 'error',
  killed: 'aborted',
  cancelled: 'aborted',
  canceled: 'aborted',
  aborted: 'aborted',
};

export function mapTask(st: MapperState, p: Obj, now: number): void {
  const task = isObj(p.task) ? p.task : undefined;
  if (task?.kind !== 'subagent') return;
  const outcome = TASK_OUTCOME[str(task.status) ?? ''];
  const childKey = str(task.childSessionKey);
  const parentKey = str(task.ownerKey) ?? str(task.sessionKey);
  if (!outcome || !childKey || !parentKey || childKey === parentKey) return;
  emit(st, {
    type: 'subagent.finished',
    ts: num(task.endedAt) ?? num(task.updatedAt) ?? now,
    source: 'gateway',
    sessionKey: parentKey,
    agentId: agentIdOf(st, parentKey, task.agentId),
    dedupeKey: `gw/subagent-done/${childKey}/${str(task.runId) ?? str(task.id) ?? ''}`,
    parentKey,
    childKey,
    outcome,
  });
}

export function mapChat(st: MapperState, p: Obj, now: number): void {
  const runId = str(p.runId);
  const sessionKey = str(p.sessionKey);
  const state = str(p.state);
  if (!runId || !sessionKey || (state !== 'final' && state !== 'error')) return;
  const run = getRun(st, runId, sessionKey, agentIdOf(st, sessionKey, p.agentId));
  const msg = isObj(p.message) ? p.message : undefined;
  const ts = num(msg?.timestamp) ?? num(p.ts) ?? now;
  const seq = num(p.seq);
  if (state === 'error') {
    emitLlmError(st, run, ts, str(p.errorMessage) ?? 'model call failed', str(p.errorKind));
    return;
  }
  if (isObj(p.usage) && !run.usageFromMessages) emit(st, chatUsageEvent(run, p.usage, ts, seq));
  if (run.textFromMessages || run.textEmitted) return;
  const text = messageText(msg?.content);
  if (!text) return;
  run.textEmitted = true;
  run.assistant.clear();
  emit(st, {
    type: 'assistant.text',
    ts,
    source: 'gateway',
    sessionKey,
    agentId: run.agentId,
    dedupeKey: keys.run(runId, 'text/final'),
    runId,
    text,
  });
}

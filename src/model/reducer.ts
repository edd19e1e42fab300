/**
 * The pure reducer: one PulseEvent in, the keys of the sessions it changed out. It mutates
 * `state` in place (ingest must keep up with 100k+ events/s) but reads no clock, file or
 * network: time comes only from event `ts` here and from `tick(now)` in stuck.ts.
 */
import type {
  AgentFinishedEvent,
  PulseEvent,
  SubagentFinishedEvent,
  SubagentSpawnedEvent,
  ToolErrorEvent,
  ToolOutputEvent,
} from './events.js';
import type { SessionState, SessionStatus, ToolCallState, TrackerLimits } from './session.js';
import { sessionSeen } from './session-seen.js';
import {
  activate,
  addError,
  agentIdFromKey,
  closeRunningTools,
  ensureSession,
  findTool,
  indexTool,
  linkChild,
  pushLine,
  type SessionIndex,
  setStatus,
  type TrackerState,
  trimTools,
  unstick,
} from './state.js';
import { narrationLine } from './text.js';

export { REACTIVATE_GRACE_MS, RUNNING_ROW_GRACE_MS } from './session-seen.js';
export type { TrackerState } from './state.js';
export { createTrackerState } from './state.js';

const num = (x: unknown): number => (typeof x === 'number' && Number.isFinite(x) ? x : 0);

/** what an event that changed nothing returns (frozen: shared by every such call) */
const NOTHING: readonly string[] = Object.freeze([]);

export function reduce(state: TrackerState, event: PulseEvent, limits: TrackerLimits): readonly string[] {
  const e = event;
  if (!e) return NOTHING;
  const key = e.sessionKey;
  if (typeof key !== 'string' || !key || !wellFormed(e)) return NOTHING;
  const ts = num(e.ts);
  if (e.type === 'session.seen') {
    const changed: string[] = [];
    sessionSeen(state, e, ts, changed, limits);
    return changed;
  }
  let ix = state.indexes.get(key);
  // the keys that changed when the session is the only one: its shared frozen `[key]` (most
  // events allocate no result), but a new session may first adopt children that waited for
  // it, and their keys come before its own
  let own: readonly string[];
  if (ix) own = ix.own;
  else {
    const changed: string[] = [];
    ix = ensureSession(state, key, e.agentId, ts, changed, limits);
    if (e.gateway !== undefined) ix.session.gateway = e.gateway;
    if (e.host !== undefined) ix.session.host = e.host;
    changed.push(key);
    own = changed;
  }
  const s = ix.session;
  // session.stuck is a verdict about silence, not activity: it must not reset the silence clock
  if (e.type !== 'session.stuck' && e.type !== 'session.note' && ts > s.lastEventAt) s.lastEventAt = ts;
  // sources replaying history (sessions.json before its transcript) deliver older facts later
  if (ts < s.startedAt && ts > 0) s.startedAt = ts;

  switch (e.type) {
    case 'agent.started': {
      if (e.runId === s.stoppedRunId) return own;
      if (s.currentRunId === e.runId && s.runOpen) {
        unstick(state, s);
        return own;
      }
      // a session known only from its spawn/row (nothing done yet): its activation starts
      // with its first run, as OpenClaw's own runtimeMs counts it
      if (
        s.runs === 0 &&
        s.status === 'active' &&
        !s.tools.length &&
        !s.lines.some((l) => l.kind !== 'subagent')
      ) {
        s.activeSince = ts;
      }
      // runs of one session are serialised (one lane per session): a new run means the
      // earlier ones are over, even if their end never reached us
      if (s.runOpen && s.currentRunId !== undefined) {
        closeRunningTools(state, s, s.currentRunId, 'error', ts, 'no result (a new run started)');
      }
      s.runs++;
      s.currentRunId = e.runId;
      s.runOpen = true;
      activate(state, s, ts);
      return own;
    }
    case 'agent.finished':
      agentFinished(state, s, e, ts);
      return own;
    case 'agent.step_started': {
      if (e.model) s.model = e.model;
      if (e.provider) s.provider = e.provider;
      if (isStoppedRun(s, e.runId)) return own;
      resume(state, s, e.runId, ts);
      return own;
    }
    case 'assistant.text': {
      if (isStoppedRun(s, e.runId)) return own;
      resume(state, s, e.runId, ts);
      const text = narrationLine(e.text);
      if (text) pushLine(s, { kind: 'text', text, ts }, limits.maxStatusLines);
      return own;
    }
    case 'tool.call': {
      if (findTool(ix, e.runId, e.callId)) return NOTHING; // duplicate sighting: nothing changed
      if (isStoppedRun(s, e.runId)) return own;
      resume(state, s, e.runId, ts);
      const t: ToolCallState = {
        callId: e.callId,
        runId: e.runId,
        name: e.name,
        status: 'running',
        startedAt: ts,
      };
      if (e.args !== undefined) t.args = e.args;
      indexTool(ix, t);
      s.tools.push(t);
      ix.open++;
      pushLine(s, { kind: 'tool', callId: e.callId, runId: e.runId, ts }, limits.maxStatusLines);
      trimTools(state, s);
      return own;
    }
    case 'tool.output':
    case 'tool.error':
      return toolDone(state, ix, e, ts, own, limits);
    case 'subagent.spawned': {
      const changed = [...own];
      const parent = e.parentKey === s.key ? s : state.sessions.get(e.parentKey);
      if (parent && !isStoppedRun(parent, e.runId)) resume(state, parent, e.runId, ts);
      else unstick(state, s);
      const child = childOf(state, e, ts, changed, limits);
      if (e.label && !child.label) child.label = e.label;
      linkChild(state, child, e.parentKey, ts, changed, limits);
      return changed;
    }
    case 'subagent.finished': {
      const changed = [...own];
      subagentFinished(state, s, e, ts, changed, limits);
      return changed;
    }
    case 'llm.tokens': {
      unstick(state, s);
      const t = s.tokens;
      const input = num(e.input);
      const output = num(e.output);
      const cacheRead = num(e.cacheRead);
      const cacheWrite = num(e.cacheWrite);
      const reasoning = num(e.reasoning);
      t.input += input;
      t.output += output;
      t.cacheRead += cacheRead;
      t.cacheWrite += cacheWrite;
      t.reasoning += reasoning;
      t.total += input + output + cacheRead + cacheWrite + reasoning;
      s.costUsd += num(e.costUsd);
      if (e.costEstimated && num(e.costUsd) > 0) s.costEstimated = true;
      if (e.model) s.model = e.model;
      if (e.provider) s.provider = e.provider;
      return own;
    }
    case 'llm.error': {
      unstick(state, s);
      const err: SessionState['errors'][number] = { ts, message: String(e.message ?? 'model error') };
      if (e.status !== undefined) err.status = e.status;
      err.retryable = e.retryable;
      const runId = e.runId ?? s.currentRunId;
      if (runId !== undefined) err.runId = runId;
      // agent.finished may have recorded this failure first (gateway order): complete that entry
      const same = s.errors.find(
        (x) => x.runId === runId && x.status === undefined && sameFailure(x.message, err.message),
      );
      if (same) Object.assign(same, { status: err.status, retryable: err.retryable, message: err.message });
      else addError(s, err);
      return own;
    }
    case 'session.compacted': {
      unstick(state, s);
      s.compactions++;
      if (e.mode === 'rewrite') {
        pushLine(s, { kind: 'system', text: '[session compacted - continuing]', ts }, limits.maxStatusLines);
      }
      return own;
    }
    case 'session.reset': {
      unstick(state, s);
      if (e.sessionId) s.sessionId = e.sessionId;
      s.lines = [];
      return own;
    }
    case 'session.stuck': {
      if (s.status !== 'active' && s.status !== 'stuck') return NOTHING;
      setStatus(state, s, 'stuck');
      s.note = e.reason || `no activity for ${fmtAge(e.ageMs)}`;
      return own;
    }
    case 'session.note': {
      if (e.label) s.label = e.label;
      if (e.text) pushLine(s, { kind: 'system', text: e.text, ts }, limits.maxStatusLines);
      return own;
    }
    default:
      // an event type this build does not know: counted by the caller, never fatal
      return NOTHING;
  }
}

const isStr = (x: unknown): x is string => typeof x === 'string' && x.length > 0;

/** the fields each type cannot do without (ingest validates; this keeps a bad one harmless) */
function wellFormed(e: PulseEvent): boolean {
  switch (e.type) {
    case 'agent.started':
    case 'agent.finished':
      return isStr(e.runId);
    case 'tool.call':
    case 'tool.output':
    case 'tool.error':
      return isStr(e.runId) && isStr(e.callId) && typeof e.name === 'string';
    case 'subagent.spawned':
    case 'subagent.finished':
      return isStr(e.parentKey) && isStr(e.childKey);
    default:
      return true;
  }
}

function fmtAge(ms: number | undefined): string {
  const sec = Math.floor(num(ms) / 1000);
  return sec >= 60 ? `${Math.floor(sec / 60)}m${String(sec % 60).padStart(2, '0')}s` : `${sec}s`;
}

/**
 * Activity that may start a new turn. Late events of the run that already finished (another
 * source lagging behind the gateway's agent.finished) still add their lines but do not start
 * a new turn: a new turn is a new run.
 */
function resume(state: TrackerState, s: SessionState, runId: string | undefined, ts: number): void {
  if (runId !== undefined && runId === s.currentRunId && !s.runOpen && s.lastOutcome !== undefined) {
    unstick(state, s);
    return;
  }
  // history from before the end (a source reading back, a row-derived spawn) is no new turn
  if (s.endedAt !== undefined && ts <= s.endedAt && s.status !== 'active' && s.status !== 'stuck') return;
  activate(state, s, ts);
}

/** one failure told twice (the run's end and the model error) often differs only by a prefix */
function sameFailure(a: string, b: string): boolean {
  return a === b || a.includes(b) || b.includes(a);
}

/** events of the run stopped at the max duration (no runId = the current run) stay quiet */
function isStoppedRun(s: SessionState, runId: string | undefined): boolean {
  return s.stoppedRunId !== undefined && (runId ?? s.currentRunId) === s.stoppedRunId;
}

function agentFinished(state: TrackerState, s: SessionState, e: AgentFinishedEvent, ts: number): void {
  const failed = e.outcome === 'error';
  if (failed) {
    const message = e.error || 'run failed';
    // llm.error usually reported the same failure a moment earlier: keep one entry
    const dup = s.errors.some((x) => x.runId === e.runId && sameFailure(x.message, message));
    if (!dup) addError(s, { ts, message, runId: e.runId });
  }
  const toolStatus = e.outcome === 'ok' ? 'ok' : 'error';
  closeRunningTools(state, s, e.runId, toolStatus, ts, e.outcome === 'aborted' ? 'aborted' : e.error);
  if (e.runId === s.stoppedRunId) return;
  // a second sighting of a run already finished, or an older run ending while a newer one runs
  if (e.runId === s.currentRunId && !s.runOpen && s.lastOutcome !== undefined) return;
  if (s.runOpen && s.currentRunId !== undefined && e.runId !== s.currentRunId) return;
  s.currentRunId = e.runId;
  s.runOpen = false;
  s.lastOutcome = e.outcome;
  s.endedAt = ts;
  const next: SessionStatus = e.outcome === 'ok' ? 'idle' : e.outcome === 'error' ? 'error' : 'interrupted';
  s.note = e.outcome === 'aborted' ? 'run aborted' : undefined;
  setStatus(state, s, next);
}

function toolDone(
  state: TrackerState,
  ix: SessionIndex,
  e: ToolOutputEvent | ToolErrorEvent,
  ts: number,
  own: readonly string[],
  limits: TrackerLimits,
): readonly string[] {
  const s = ix.session;
  unstick(state, s);
  const status = e.type === 'tool.output' ? 'ok' : 'error';
  let t = findTool(ix, e.runId, e.callId);
  const correcting = t !== undefined && t.status !== 'running' && state.inferredTools.has(t);
  // closed by its own output already: a duplicate sighting
  if (t && t.status !== 'running' && !correcting) return NOTHING;
  if (t && correcting) {
    // its run ended (or a new one began) before its output arrived from a slower source
    state.inferredTools.delete(t);
    t.status = status;
    t.durationMs = e.durationMs !== undefined ? num(e.durationMs) : Math.max(0, ts - t.startedAt);
    if (e.type === 'tool.error') t.error = String(e.error ?? 'error');
    else t.error = undefined;
    return own;
  }
  if (!t) {
    // the call happened before we were watching: show it, already finished
    if (isStoppedRun(s, e.runId)) return own;
    const dur = e.durationMs !== undefined ? num(e.durationMs) : 0;
    t = { callId: e.callId, runId: e.runId, name: e.name, status: 'running', startedAt: ts - dur };
    indexTool(ix, t);
    s.tools.push(t);
    ix.open++;
    pushLine(s, { kind: 'tool', callId: e.callId, runId: e.runId, ts }, limits.maxStatusLines);
  }
  t.status = status;
  t.endedAt = ts;
  t.durationMs = e.durationMs !== undefined ? num(e.durationMs) : Math.max(0, ts - t.startedAt);
  if (e.type === 'tool.error') t.error = String(e.error ?? 'error');
  ix.open = Math.max(0, ix.open - 1);
  return own;
}

/** the child session a spawn or finish event names (created when first heard of); it changes */
function childOf(
  state: TrackerState,
  e: SubagentSpawnedEvent | SubagentFinishedEvent,
  ts: number,
  changed: string[],
  limits: TrackerLimits,
): SessionState {
  const child = ensureSession(
    state,
    e.childKey,
    agentIdFromKey(e.childKey) ?? e.agentId,
    ts,
    changed,
    limits,
  ).session;
  // a sub-agent lives where its parent does (its key is scoped the same way by the source)
  if (e.gateway !== undefined) child.gateway ??= e.gateway;
  if (e.host !== undefined) child.host ??= e.host;
  changed.push(child.key);
  return child;
}

function subagentFinished(
  state: TrackerState,
  s: SessionState,
  e: SubagentFinishedEvent,
  ts: number,
  changed: string[],
  limits: TrackerLimits,
): void {
  unstick(state, s);
  const child = childOf(state, e, ts, changed, limits);
  // the finish is no spawn point: link only a child not linked yet
  if (!child.parentKey) linkChild(state, child, e.parentKey, ts, changed, limits);
  if (child.status !== 'active' && child.status !== 'idle' && child.status !== 'stuck') return;
  const next: SessionStatus =
    e.outcome === 'error' ? 'error' : e.outcome === 'aborted' ? 'interrupted' : 'done';
  child.runOpen = false;
  // an idle child already has its end (its run's finish); otherwise it ends now
  if (child.status !== 'idle' || child.endedAt === undefined) child.endedAt = Math.max(ts, child.startedAt);
  setStatus(state, child, next);
}

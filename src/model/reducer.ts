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
  linkChild,
  pushLine,
  setStatus,
  type TrackerState,
  toolKey,
  trimTools,
  unstick,
} from './state.js';
import { narrationLine } from './text.js';

export { REACTIVATE_GRACE_MS, RUNNING_ROW_GRACE_MS } from './session-seen.js';
export type { TrackerState } from './state.js';
export { createTrackerState } from './state.js';

const num = (x: unknown): number => (typeof x === 'number' && Number.isFinite(x) ? x : 0);

export function reduce(state: TrackerState, event: PulseEvent, limits: TrackerLimits): string[] {
  const e = event;
  if (!e || typeof e.sessionKey !== 'string' || !e.sessionKey || !wellFormed(e)) return [];
  const ts = num(e.ts);
  const changed: string[] = [];
  if (e.type === 'session.seen') {
    sessionSeen(state, e, ts, changed, limits);
    return changed;
  }
  const s = ensureSession(state, e.sessionKey, e.agentId, ts, changed, limits);
  changed.push(s.key);
  // session.stuck is a verdict about silence, not activity: it must not reset the silence clock
  if (e.type !== 'session.stuck' && ts > s.lastEventAt) s.lastEventAt = ts;
  // sources replaying history (sessions.json before its transcript) deliver older facts later
  if (ts < s.startedAt && ts > 0) s.startedAt = ts;

  switch (e.type) {
    case 'agent.started': {
      if (e.runId === s.stoppedRunId) return changed;
      if (s.currentRunId === e.runId && s.runOpen) {
        unstick(state, s);
        return changed;
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
      return changed;
    }
    case 'agent.finished':
      agentFinished(state, s, e, ts);
      return changed;
    case 'agent.step_started': {
      if (e.model) s.model = e.model;
      if (e.provider) s.provider = e.provider;
      if (isStoppedRun(s, e.runId)) return changed;
      resume(state, s, e.runId, ts);
      return changed;
    }
    case 'assistant.text': {
      if (isStoppedRun(s, e.runId)) return changed;
      resume(state, s, e.runId, ts);
      const text = narrationLine(e.text);
      if (text) pushLine(s, { kind: 'text', text, ts }, limits.maxStatusLines);
      return changed;
    }
    case 'tool.call': {
      const idx = state.toolIndex.get(s.key);
      const k = toolKey(e.runId, e.callId);
      if (!idx || idx.has(k)) return []; // duplicate sighting: nothing changed
      if (isStoppedRun(s, e.runId)) return changed;
      resume(state, s, e.runId, ts);
      const t: ToolCallState = {
        callId: e.callId,
        runId: e.runId,
        name: e.name,
        status: 'running',
        startedAt: ts,
      };
      if (e.args !== undefined) t.args = e.args;
      idx.set(k, t);
      s.tools.push(t);
      state.openTools.set(s.key, (state.openTools.get(s.key) ?? 0) + 1);
      pushLine(s, { kind: 'tool', callId: e.callId, runId: e.runId, ts }, limits.maxStatusLines);
      trimTools(state, s);
      return changed;
    }
    case 'tool.output':
    case 'tool.error':
      return toolDone(state, s, e, ts, changed, limits);
    case 'subagent.spawned': {
      const parent = e.parentKey === s.key ? s : state.sessions.get(e.parentKey);
      if (parent && !isStoppedRun(parent, e.runId)) resume(state, parent, e.runId, ts);
      else unstick(state, s);
      const child = childOf(state, e, ts, changed, limits);
      if (e.label && !child.label) child.label = e.label;
      linkChild(state, child, e.parentKey, ts, changed, limits);
      return changed;
    }
    case 'subagent.finished':
      subagentFinished(state, s, e, ts, changed, limits);
      return changed;
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
      if (e.model) s.model = e.model;
      if (e.provider) s.provider = e.provider;
      return changed;
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
      return changed;
    }
    case 'session.compacted': {
      unstick(state, s);
      s.compactions++;
      if (e.mode === 'rewrite') {
        pushLine(s, { kind: 'system', text: '[session compacted - continuing]', ts }, limits.maxStatusLines);
      }
      return changed;
    }
    case 'session.reset': {
      unstick(state, s);
      if (e.sessionId) s.sessionId = e.sessionId;
      s.lines = [];
      return changed;
    }
    case 'session.stuck': {
      if (s.status !== 'active' && s.status !== 'stuck') return [];
      setStatus(state, s, 'stuck');
      s.note = e.reason || `no activity for ${fmtAge(e.ageMs)}`;
      return changed;
    }
    default:
      // an event type this build does not know: counted by the caller, never fatal
      return [];
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
  s: SessionState,
  e: ToolOutputEvent | ToolErrorEvent,
  ts: number,
  changed: string[],
  limits: TrackerLimits,
): string[] {
  unstick(state, s);
  const idx = state.toolIndex.get(s.key);
  if (!idx) return changed;
  const k = toolKey(e.runId, e.callId);
  const status = e.type === 'tool.output' ? 'ok' : 'error';
  let t = idx.get(k);
  const correcting = t !== undefined && t.status !== 'running' && state.inferredTools.has(t);
  // closed by its own output already: a duplicate sighting
  if (t && t.status !== 'running' && !correcting) return [];
  if (t && correcting) {
    // its run ended (or a new one began) before its output arrived from a slower source
    state.inferredTools.delete(t);
    t.status = status;
    t.durationMs = e.durationMs !== undefined ? num(e.durationMs) : Math.max(0, ts - t.startedAt);
    if (e.type === 'tool.error') t.error = String(e.error ?? 'error');
    else t.error = undefined;
    return changed;
  }
  if (!t) {
    // the call happened before we were watching: show it, already finished
    if (isStoppedRun(s, e.runId)) return changed;
    const dur = e.durationMs !== undefined ? num(e.durationMs) : 0;
    t = { callId: e.callId, runId: e.runId, name: e.name, status: 'running', startedAt: ts - dur };
    idx.set(k, t);
    s.tools.push(t);
    state.openTools.set(s.key, (state.openTools.get(s.key) ?? 0) + 1);
    pushLine(s, { kind: 'tool', callId: e.callId, runId: e.runId, ts }, limits.maxStatusLines);
  }
  t.status = status;
  t.endedAt = ts;
  t.durationMs = e.durationMs !== undefined ? num(e.durationMs) : Math.max(0, ts - t.startedAt);
  if (e.type === 'tool.error') t.error = String(e.error ?? 'error');
  state.openTools.set(s.key, Math.max(0, (state.openTools.get(s.key) ?? 1) - 1));
  return changed;
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
  );
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

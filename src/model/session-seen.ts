/**
 * session.seen: a session row (sessions.json entry, SQLite session node, gateway session list)
 * creates or updates a session, links a sub-agent to its parent, and tells new turns and
 * runs that ended without an agent.finished (killed, timed out) from the row's own status.
 */
import type { SessionSeenEvent } from './events.js';
import type { SessionState, SessionStatus, TrackerLimits } from './session.js';
import {
  activate,
  addSession,
  closeRunningTools,
  FINISHED,
  linkChild,
  newSession,
  setStatus,
  type TrackerState,
  unstick,
} from './state.js';

/**
 * session.seen's updatedAt is written a few ms after a run ends (sessions.json is saved after
 * the transcript): only a move further than this past the end counts as a new turn.
 */
export const REACTIVATE_GRACE_MS = 1000;
/** the same for a row saying `running` (seen up to ~5 s after the end, 2026.9 SQLite) */
export const RUNNING_ROW_GRACE_MS = 15_000;

const TERMINAL_ROW: Record<string, SessionStatus> = {
  done: 'done',
  failed: 'error',
  killed: 'interrupted',
  timeout: 'error',
};

export function sessionSeen(
  state: TrackerState,
  e: SessionSeenEvent,
  ts: number,
  changed: string[],
  limits: TrackerLimits,
): void {
  let s = state.sessions.get(e.sessionKey);
  const updatedAt = e.updatedAt !== undefined && Number.isFinite(e.updatedAt) ? e.updatedAt : undefined;
  const rowTerminal = e.rowStatus !== undefined ? TERMINAL_ROW[e.rowStatus] : undefined;
  changed.push(e.sessionKey);
  if (!s) {
    // first seen: as of the row's own time when that is earlier (a row read after the fact)
    s = newSession(e.sessionKey, e.agentId, seenAt(ts, updatedAt));
    if (updatedAt !== undefined) s.updatedAt = updatedAt;
    applySeenFields(s, e);
    if (rowTerminal) {
      // a session that had already ended before we saw it
      s.status = rowTerminal;
      s.endedAt = updatedAt ?? ts;
      // seen after the fact (e.g. at daemon start): it cannot have started after it ended
      if (s.endedAt < s.startedAt) {
        s.startedAt = s.endedAt;
        s.activeSince = s.endedAt;
        s.lastEventAt = Math.min(ts, s.endedAt);
      }
      if (e.rowStatus === 'timeout') s.note = 'timed out';
    }
    addSession(state, s, changed, limits);
  } else {
    applySeenFields(s, e);
    if (updatedAt !== undefined && (s.updatedAt === undefined || updatedAt > s.updatedAt)) {
      s.updatedAt = updatedAt;
      unstick(state, s);
      const endedAt = s.endedAt ?? s.lastEventAt;
      const newest = updatedAt >= s.lastEventAt;
      s.lastEventAt = Math.max(s.lastEventAt, seenAt(ts, updatedAt));
      // OpenClaw saves the row as `running` a few seconds AFTER a run ends, then `done`
      // (recorded live, test/conformance/recorded): such a row is no new turn. A real new turn
      // also brings agent.started, so waiting out the grace costs nothing.
      const grace = e.rowStatus === 'running' ? RUNNING_ROW_GRACE_MS : REACTIVATE_GRACE_MS;
      const newTurn = !rowTerminal && updatedAt > endedAt + grace;
      if (FINISHED.has(s.status) && newTurn) activate(state, s, updatedAt);
      // the row says the run ended and nothing we saw is newer: a killed or timed-out run
      // writes no agent.finished, so without this it would sit stuck until the max duration
      else if (rowTerminal && newest && s.status === 'active')
        endFromRow(state, s, e.rowStatus ?? '', updatedAt);
    }
  }
  if (e.parentKey) linkChild(state, s, e.parentKey, ts, changed, limits);
}

/**
 * The activity time a row stands for: its updatedAt, but never later than the event itself
 * (OpenClaw's clock may run ahead of ours), so the silence clock stays within event times.
 */
const seenAt = (ts: number, updatedAt: number | undefined): number =>
  updatedAt === undefined ? ts : Math.min(ts, updatedAt);

function endFromRow(state: TrackerState, s: SessionState, rowStatus: string, at: number): void {
  const ok = rowStatus === 'done';
  closeRunningTools(state, s, undefined, ok ? 'ok' : 'error', at, ok ? undefined : rowStatus);
  s.runOpen = false;
  s.endedAt = at;
  if (ok) {
    s.lastOutcome = 'ok';
    s.note = undefined;
    setStatus(state, s, 'idle');
    return;
  }
  s.lastOutcome = rowStatus === 'killed' ? 'aborted' : 'error';
  s.note = rowStatus === 'killed' ? 'run killed' : rowStatus === 'timeout' ? 'timed out' : 'run failed';
  setStatus(state, s, TERMINAL_ROW[rowStatus] ?? 'error');
}

function applySeenFields(s: SessionState, e: SessionSeenEvent): void {
  if (e.agentId && s.agentId === 'unknown') s.agentId = e.agentId;
  if (e.sessionId) s.sessionId = e.sessionId;
  if (e.label) s.label = e.label;
  if (e.displayName) s.displayName = e.displayName;
  if (e.channel) s.channel = { ...s.channel, ...e.channel };
  if (e.model) s.model = e.model;
  if (e.provider) s.provider = e.provider;
  // where it lives (a gateway, a fleet host): a session first seen by its row carries it too
  if (e.gateway !== undefined) s.gateway ??= e.gateway;
  if (e.host !== undefined) s.host ??= e.host;
  if (e.cwd) s.cwd = e.cwd;
}

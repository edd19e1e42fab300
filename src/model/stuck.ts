/**
 * Time-based transitions, driven only by `tick(now)`: idle → done after the idle timeout,
 * active with an open run/tool and no events → stuck, and the max-duration stop.
 */
import { formatDuration } from './format.js';
import type { SessionState, TrackerLimits } from './session.js';
import { closeRunningTools, setStatus, type TrackerState } from './state.js';

export type TickVerdict =
  | { kind: 'done'; endedAt: number }
  | { kind: 'stop'; note: string }
  | { kind: 'stuck'; note: string }
  | undefined;

/**
 * What should happen to one live session at `now`. Order matters: a session quiet for the idle
 * timeout with nothing open simply ended (even if its activation began long ago, e.g. an old
 * session first seen at startup), before the max-duration stop is considered.
 */
export function classify(
  s: SessionState,
  now: number,
  limits: TrackerLimits,
  openTools: number,
): TickVerdict {
  const quietMs = now - s.lastEventAt;
  const busy = s.runOpen || openTools > 0;
  if (s.status === 'idle') {
    return quietMs >= limits.idleTimeoutMs
      ? { kind: 'done', endedAt: s.endedAt ?? s.lastEventAt }
      : undefined;
  }
  if (s.status !== 'active' && s.status !== 'stuck') return undefined;
  if (!busy && s.status === 'active' && quietMs >= limits.idleTimeoutMs) {
    return { kind: 'done', endedAt: s.lastEventAt };
  }
  const since = s.activeSince ?? s.startedAt;
  if (now - since >= limits.maxSessionDurationMs) {
    return {
      kind: 'stop',
      note: `stopped after max duration (${formatDuration(limits.maxSessionDurationMs)})`,
    };
  }
  if (busy && s.status === 'active' && quietMs >= limits.stuckAfterMs) {
    const what = openTools > 0 ? 'tool running' : 'run open';
    return { kind: 'stuck', note: `no activity for ${formatDuration(quietMs)} (${what})` };
  }
  return undefined;
}

export function tickState(state: TrackerState, now: number, limits: TrackerLimits): string[] {
  const changed: string[] = [];
  // copy: setStatus removes keys from `live` while we walk it
  for (const key of [...state.live]) {
    const s = state.sessions.get(key);
    if (!s) {
      state.live.delete(key);
      continue;
    }
    let v = classify(s, now, limits, state.indexes.get(key)?.open ?? 0);
    // a parent waiting on a busy sub-agent is not stuck: its silence is the child's work
    if (v?.kind === 'stuck' && now - latestInTree(state, s, 0) < limits.stuckAfterMs) v = undefined;
    if (!v) continue;
    if (v.kind === 'done') {
      s.endedAt = v.endedAt;
      setStatus(state, s, 'done');
    } else if (v.kind === 'stop') {
      // later events of this run must not reopen the box; a new run will. (Without a run id
      // there is no way to tell the stopped turn from a new one, so the next event reopens it.)
      if (s.currentRunId !== undefined) s.stoppedRunId = s.currentRunId;
      s.runOpen = false;
      closeRunningTools(state, s, undefined, 'error', now, v.note);
      s.endedAt = now;
      s.note = v.note;
      setStatus(state, s, 'done');
    } else {
      s.note = v.note;
      setStatus(state, s, 'stuck');
    }
    changed.push(key);
  }
  return changed;
}

/** newest event time in a session's tree (bounded depth: parent chains may be corrupt) */
function latestInTree(state: TrackerState, s: SessionState, depth: number): number {
  let latest = s.lastEventAt;
  if (depth >= 8) return latest;
  for (const k of s.children) {
    const c = state.sessions.get(k);
    if (c && state.live.has(k)) latest = Math.max(latest, latestInTree(state, c, depth + 1));
  }
  return latest;
}

/**
 * Shutdown: only a session with work in flight (a run open, a tool running, or stuck) becomes
 * interrupted. One whose last run had already finished (idle, or active with nothing open)
 * ends as it would have at the idle timeout: done, at its last event. A run that ended in
 * error is not live and keeps its [ERROR].
 */
export function interruptAllState(state: TrackerState, now: number, note?: string): string[] {
  const changed: string[] = [];
  for (const key of [...state.live]) {
    const s = state.sessions.get(key);
    if (!s) continue;
    const inFlight = s.status === 'stuck' || s.runOpen || (state.indexes.get(key)?.open ?? 0) > 0;
    if (inFlight) {
      s.endedAt = now;
      s.note = note;
      setStatus(state, s, 'interrupted');
    } else {
      s.endedAt = s.status === 'idle' && s.endedAt !== undefined ? s.endedAt : s.lastEventAt;
      setStatus(state, s, 'done');
    }
    changed.push(key);
  }
  return changed;
}

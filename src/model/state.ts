/**
 * The tracker's state and the small mutations the reducer is built from. SessionState stays
 * plain JSON (it is snapshotted and streamed); the indexes that make ingest fast live beside
 * it in TrackerState and are rebuilt from the sessions on restore.
 */
import type { SessionState, SessionStatus, StatusLine, ToolCallState, TrackerLimits } from './session.js';
import { emptyTokens } from './session.js';

export interface TrackerState {
  sessions: Map<string, SessionState>;
  /** per session: `${runId}\0${callId}` → tool (call ids repeat across runs) */
  toolIndex: Map<string, Map<string, ToolCallState>>;
  /** per session: how many tools are running (stuck detection without scanning tools) */
  openTools: Map<string, number>;
  /** keys of sessions that tick() must look at: active, idle, stuck */
  live: Set<string>;
  /** parent key → children that named it before it was seen */
  pendingChildren: Map<string, string[]>;
  /** tools closed by inference (their run ended, a new run began, the stop): their own late
   * output may still correct them */
  inferredTools: WeakSet<ToolCallState>;
}

export function createTrackerState(): TrackerState {
  return {
    sessions: new Map(),
    toolIndex: new Map(),
    openTools: new Map(),
    live: new Set(),
    pendingChildren: new Map(),
    inferredTools: new WeakSet(),
  };
}

export const FINISHED: ReadonlySet<SessionStatus> = new Set(['done', 'error', 'interrupted', 'idle']);
const LIVE: ReadonlySet<SessionStatus> = new Set(['active', 'idle', 'stuck']);
export const MAX_ERRORS = 50;
/**
 * Tools kept per session. OpenClaw reuses a main session for days, so its tool list would grow
 * without end; past the cap the oldest finished ones go, in batches (the box shows only the
 * last lines anyway).
 */
export const MAX_TOOLS = 5000;
const TOOL_TRIM_BATCH = 500;

export const toolKey = (runId: string, callId: string): string => `${runId}\u0000${callId}`;

/** `agent:<agentId>:...` → agentId */
export function agentIdFromKey(key: string): string | undefined {
  if (!key.startsWith('agent:')) return undefined;
  const end = key.indexOf(':', 6);
  return end > 6 ? key.slice(6, end) : undefined;
}

export function setStatus(state: TrackerState, s: SessionState, status: SessionStatus): void {
  s.status = status;
  if (LIVE.has(status)) state.live.add(s.key);
  else state.live.delete(s.key);
}

export function newSession(key: string, agentId: string, ts: number): SessionState {
  return {
    key,
    agentId,
    children: [],
    status: 'active',
    startedAt: ts,
    activeSince: ts,
    lastEventAt: ts,
    runs: 0,
    runOpen: false,
    lines: [],
    tools: [],
    tokens: emptyTokens(),
    costUsd: 0,
    errors: [],
    compactions: 0,
  };
}

/** adds a session (and adopts children that were waiting for it); `changed` collects keys */
export function addSession(
  state: TrackerState,
  s: SessionState,
  changed: string[],
  limits: TrackerLimits,
): void {
  state.sessions.set(s.key, s);
  state.toolIndex.set(s.key, new Map());
  state.openTools.set(s.key, 0);
  setStatus(state, s, s.status);
  const waiting = state.pendingChildren.get(s.key);
  if (!waiting) return;
  state.pendingChildren.delete(s.key);
  for (const childKey of waiting) {
    const child = state.sessions.get(childKey);
    if (!child || child.parentKey !== s.key) continue;
    attachChild(s, childKey, child.startedAt, limits);
    changed.push(childKey);
  }
}

export function ensureSession(
  state: TrackerState,
  key: string,
  agentId: string | undefined,
  ts: number,
  changed: string[],
  limits: TrackerLimits,
): SessionState {
  let s = state.sessions.get(key);
  if (!s) {
    s = newSession(key, agentId || agentIdFromKey(key) || 'unknown', ts);
    addSession(state, s, changed, limits);
  }
  return s;
}

/**
 * Lists the child and puts its sub-agent line at `ts`. Linked already: an earlier sighting of
 * the spawn (subagent.spawned after a sessions.json row written at the end) moves the line
 * back to where the spawn happened. Returns whether the parent changed.
 */
function attachChild(parent: SessionState, childKey: string, ts: number, limits: TrackerLimits): boolean {
  if (!parent.children.includes(childKey)) {
    parent.children.push(childKey);
    pushLine(parent, { kind: 'subagent', childKey, ts }, limits.maxStatusLines);
    return true;
  }
  const i = parent.lines.findIndex((l) => l.kind === 'subagent' && l.childKey === childKey);
  const line = parent.lines[i];
  if (!line || line.ts <= ts) return false;
  parent.lines.splice(i, 1);
  pushLine(parent, { kind: 'subagent', childKey, ts }, limits.maxStatusLines);
  return true;
}

/**
 * Hangs `child` under `parentKey`: the parent lists it in spawn order and gets a sub-agent line
 * at this point. A parent not seen yet adopts it when it appears. The first parent wins, and a
 * link that would make a cycle is refused.
 */
export function linkChild(
  state: TrackerState,
  child: SessionState,
  parentKey: string,
  ts: number,
  changed: string[],
  limits: TrackerLimits,
): void {
  if (!parentKey || parentKey === child.key) return;
  if (child.parentKey && child.parentKey !== parentKey) return;
  if (wouldCycle(state, child.key, parentKey)) return;
  if (!child.parentKey) {
    child.parentKey = parentKey;
    changed.push(child.key);
  }
  const parent = state.sessions.get(parentKey);
  if (parent) {
    if (attachChild(parent, child.key, ts, limits)) changed.push(parentKey);
    return;
  }
  const waiting = state.pendingChildren.get(parentKey);
  if (!waiting) state.pendingChildren.set(parentKey, [child.key]);
  else if (!waiting.includes(child.key)) waiting.push(child.key);
}

function wouldCycle(state: TrackerState, childKey: string, parentKey: string): boolean {
  let k: string | undefined = parentKey;
  for (let i = 0; k && i < 64; i++) {
    if (k === childKey) return true;
    k = state.sessions.get(k)?.parentKey;
  }
  return false;
}

/**
 * Adds a line in time order (a source replaying history may deliver a fact after newer ones:
 * sessions.json names a sub-agent before the transcript shows the spawn), then caps lines at
 * `max`, dropping the oldest narration/tool line first: sub-agent lines stay.
 */
export function pushLine(s: SessionState, line: StatusLine, max: number): void {
  let i = s.lines.length;
  // equal times keep arrival order; the common in-order case costs one comparison
  while (i > 0 && (s.lines[i - 1]?.ts ?? 0) > line.ts) i--;
  if (i === s.lines.length) s.lines.push(line);
  else s.lines.splice(i, 0, line);
  const cap = Math.max(1, max);
  while (s.lines.length > cap) {
    let i = 0;
    while (i < s.lines.length && s.lines[i]?.kind === 'subagent') i++;
    s.lines.splice(i < s.lines.length ? i : 0, 1);
  }
}

export function addError(s: SessionState, err: SessionState['errors'][number]): void {
  s.errors.push(err);
  if (s.errors.length > MAX_ERRORS) s.errors.splice(0, s.errors.length - MAX_ERRORS);
}

/**
 * A finished session (done/error/interrupted/idle) getting a new turn: a new activation.
 * A stuck one just goes back to active.
 */
export function activate(state: TrackerState, s: SessionState, ts: number): boolean {
  if (s.status === 'active') return false;
  if (s.status === 'stuck') {
    s.note = undefined;
    setStatus(state, s, 'active');
    return true;
  }
  s.endedAt = undefined;
  s.note = undefined;
  s.activeSince = ts;
  setStatus(state, s, 'active');
  return true;
}

/** any real event un-sticks a stuck session */
export function unstick(state: TrackerState, s: SessionState): void {
  if (s.status === 'stuck') {
    s.note = undefined;
    setStatus(state, s, 'active');
  }
}

/** closes every running tool of `runId` (all runs when undefined) */
export function closeRunningTools(
  state: TrackerState,
  s: SessionState,
  runId: string | undefined,
  status: 'ok' | 'error',
  ts: number,
  error?: string,
): void {
  let open = state.openTools.get(s.key) ?? 0;
  if (open <= 0) return;
  for (const t of s.tools) {
    if (t.status !== 'running' || (runId !== undefined && t.runId !== runId)) continue;
    t.status = status;
    t.endedAt = ts;
    t.durationMs = Math.max(0, ts - t.startedAt);
    if (status === 'error' && error) t.error = error;
    open--;
    state.inferredTools.add(t);
  }
  state.openTools.set(s.key, Math.max(0, open));
}

/** drops the oldest finished tools once a session holds MAX_TOOLS + a batch */
export function trimTools(state: TrackerState, s: SessionState): void {
  if (s.tools.length <= MAX_TOOLS + TOOL_TRIM_BATCH) return;
  const idx = state.toolIndex.get(s.key);
  let drop = s.tools.length - MAX_TOOLS;
  const kept: ToolCallState[] = [];
  for (const t of s.tools) {
    if (drop > 0 && t.status !== 'running') {
      drop--;
      idx?.delete(toolKey(t.runId, t.callId));
      continue;
    }
    kept.push(t);
  }
  s.tools = kept;
}

/** rebuilds the indexes from restored sessions */
export function reindex(state: TrackerState): void {
  state.toolIndex.clear();
  state.openTools.clear();
  state.live.clear();
  state.pendingChildren.clear();
  for (const s of state.sessions.values()) {
    const idx = new Map<string, ToolCallState>();
    let open = 0;
    for (const t of s.tools) {
      idx.set(toolKey(t.runId, t.callId), t);
      if (t.status === 'running') open++;
    }
    state.toolIndex.set(s.key, idx);
    state.openTools.set(s.key, open);
    setStatus(state, s, s.status);
  }
  for (const s of state.sessions.values()) {
    if (!s.parentKey) continue;
    const parent = state.sessions.get(s.parentKey);
    if (parent) {
      if (!parent.children.includes(s.key)) parent.children.push(s.key);
    } else {
      const waiting = state.pendingChildren.get(s.parentKey);
      if (waiting) waiting.push(s.key);
      else state.pendingChildren.set(s.parentKey, [s.key]);
    }
  }
}

export function rootOf(state: TrackerState, key: string): SessionState | undefined {
  let s = state.sessions.get(key);
  // bounded walk: a corrupt snapshot with a parent cycle must not hang the daemon
  for (let i = 0; s?.parentKey && i < 64; i++) {
    const p = state.sessions.get(s.parentKey);
    if (!p) break;
    s = p;
  }
  return s;
}

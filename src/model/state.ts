/**
 * The tracker's state and the small mutations the reducer is built from. SessionState stays
 * plain JSON (it is snapshotted and streamed); the indexes that make ingest fast live beside
 * it in TrackerState and are rebuilt from the sessions on restore.
 */
import type { SessionState, SessionStatus, StatusLine, ToolCallState, TrackerLimits } from './session.js';
import { emptyTokens } from './session.js';

export interface TrackerState {
  sessions: Map<string, SessionState>;
  /** per session key: the session with what the reducer keeps beside it */
  indexes: Map<string, SessionIndex>;
  /** keys of sessions that tick() must look at: active, idle, stuck */
  live: Set<string>;
  /** parent key → children that named it before it was seen */
  pendingChildren: Map<string, string[]>;
  /** tools closed by inference (their run ended, a new run began, the stop): their own late
   * output may still correct them */
  inferredTools: WeakSet<ToolCallState>;
}

/** one session and what the tracker keeps beside it: one lookup per event finds all of it */
export interface SessionIndex {
  /** the same object as in `sessions` */
  session: SessionState;
  /**
   * `[session.key]`, frozen: what apply returns when only this session changed (most events),
   * shared instead of allocated per event
   */
  own: readonly string[];
  /**
   * runId → the run's tools (call ids repeat across runs). Nested, not one map keyed by
   * runId+callId: a tool event then builds and hashes no key string.
   */
  tools: Map<string, RunTools>;
  /** how many tools are running (stuck detection without scanning tools) */
  open: number;
}

/**
 * A run's tools by callId: the tool itself while the run has only one (many runs: no map to
 * allocate and keep), a map from its second tool on.
 */
type RunTools = ToolCallState | Map<string, ToolCallState>;

export function createTrackerState(): TrackerState {
  return {
    sessions: new Map(),
    indexes: new Map(),
    live: new Set(),
    pendingChildren: new Map(),
    inferredTools: new WeakSet(),
  };
}

export const FINISHED: ReadonlySet<SessionStatus> = new Set(['done', 'error', 'interrupted', 'idle']);
export const MAX_ERRORS = 50;
/**
 * Tools kept per session. OpenClaw reuses a main session for days, so its tool list would grow
 * without end; past the cap the oldest finished ones go, in batches (the box shows only the
 * last lines anyway).
 */
export const MAX_TOOLS = 5000;
const TOOL_TRIM_BATCH = 500;

const newIndex = (s: SessionState): SessionIndex => ({
  session: s,
  own: Object.freeze([s.key]),
  tools: new Map(),
  open: 0,
});

export function findTool(ix: SessionIndex, runId: string, callId: string): ToolCallState | undefined {
  const run = ix.tools.get(runId);
  if (run instanceof Map) return run.get(callId);
  return run?.callId === callId ? run : undefined;
}

/** indexes `t` by its (runId, callId), replacing a tool indexed there before */
export function indexTool(ix: SessionIndex, t: ToolCallState): void {
  const run = ix.tools.get(t.runId);
  if (run instanceof Map) run.set(t.callId, t);
  else if (run === undefined || run.callId === t.callId) ix.tools.set(t.runId, t);
  else ix.tools.set(t.runId, secondTool(run, t));
}

/** a run's second tool: from now on the run needs a map */
function secondTool(first: ToolCallState, t: ToolCallState): Map<string, ToolCallState> {
  const run = new Map<string, ToolCallState>();
  run.set(first.callId, first);
  run.set(t.callId, t);
  return run;
}

function unindexTool(ix: SessionIndex, t: ToolCallState): void {
  const run = ix.tools.get(t.runId);
  if (run instanceof Map) {
    run.delete(t.callId);
    // a run whose tools were all trimmed leaves no empty map behind
    if (run.size === 0) ix.tools.delete(t.runId);
  } else if (run?.callId === t.callId) {
    ix.tools.delete(t.runId);
  }
}

/** `agent:<agentId>:...` → agentId */
export function agentIdFromKey(key: string): string | undefined {
  if (!key.startsWith('agent:')) return undefined;
  const end = key.indexOf(':', 6);
  return end > 6 ? key.slice(6, end) : undefined;
}

export function setStatus(state: TrackerState, s: SessionState, status: SessionStatus): void {
  s.status = status;
  if (isLive(status)) state.live.add(s.key);
  else state.live.delete(s.key);
}

/** active, idle or stuck: tick() must look at the session (a Set lookup costs more per event) */
export const isLive = (status: SessionStatus): boolean =>
  status === 'active' || status === 'idle' || status === 'stuck';

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
): SessionIndex {
  const ix = newIndex(s);
  state.sessions.set(s.key, s);
  state.indexes.set(s.key, ix);
  setStatus(state, s, s.status);
  const waiting = state.pendingChildren.get(s.key);
  if (waiting) adoptWaiting(state, s, waiting, changed, limits);
  return ix;
}

function adoptWaiting(
  state: TrackerState,
  s: SessionState,
  waiting: string[],
  changed: string[],
  limits: TrackerLimits,
): void {
  state.pendingChildren.delete(s.key);
  for (const childKey of waiting) {
    const child = state.sessions.get(childKey);
    if (!child || child.parentKey !== s.key) continue;
    attachChild(s, childKey, child.startedAt, limits);
    changed.push(childKey);
  }
}

/** the session named `key`, created (as of `ts`) when first heard of */
export function ensureSession(
  state: TrackerState,
  key: string,
  agentId: string | undefined,
  ts: number,
  changed: string[],
  limits: TrackerLimits,
): SessionIndex {
  const ix = state.indexes.get(key);
  if (ix) return ix;
  const s = newSession(key, agentId || agentIdFromKey(key) || 'unknown', ts);
  return addSession(state, s, changed, limits);
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
  const lines = s.lines;
  const cap = Math.max(1, max);
  let i = lines.length;
  // equal times keep arrival order; the common in-order case costs one comparison
  while (i > 0 && (lines[i - 1]?.ts ?? 0) > line.ts) i--;
  if (i === lines.length) lines.push(line);
  // older than every line of a full box: it would be the first line dropped again (history
  // replayed behind newer lines), so it is not inserted at all
  else if (i > 0 || lines.length < cap || line.kind === 'subagent') insertLine(lines, i, line);
  while (lines.length > cap) dropOldestLine(lines);
}

/** splice(i, 0, line) without allocating splice's result array */
function insertLine(lines: StatusLine[], i: number, line: StatusLine): void {
  lines.push(line);
  for (let j = lines.length - 1; j > i; j--) lines[j] = lines[j - 1] as StatusLine;
  lines[i] = line;
}

/** drops the oldest line that is not a sub-agent line (the oldest line when all are) */
function dropOldestLine(lines: StatusLine[]): void {
  let i = 0;
  while (i < lines.length && lines[i]?.kind === 'subagent') i++;
  // the usual case is the first line: shift() allocates nothing, splice() returns an array
  if (i === 0 || i === lines.length) lines.shift();
  else lines.splice(i, 1);
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
  const ix = state.indexes.get(s.key);
  if (!ix || ix.open <= 0) return;
  let open = ix.open;
  for (const t of s.tools) {
    if (t.status !== 'running' || (runId !== undefined && t.runId !== runId)) continue;
    t.status = status;
    t.endedAt = ts;
    t.durationMs = Math.max(0, ts - t.startedAt);
    if (status === 'error' && error) t.error = error;
    open--;
    state.inferredTools.add(t);
  }
  ix.open = Math.max(0, open);
}

/** drops the oldest finished tools once a session holds MAX_TOOLS + a batch */
export function trimTools(state: TrackerState, s: SessionState): void {
  if (s.tools.length <= MAX_TOOLS + TOOL_TRIM_BATCH) return;
  const ix = state.indexes.get(s.key);
  let drop = s.tools.length - MAX_TOOLS;
  const kept: ToolCallState[] = [];
  for (const t of s.tools) {
    if (drop > 0 && t.status !== 'running') {
      drop--;
      if (ix) unindexTool(ix, t);
      continue;
    }
    kept.push(t);
  }
  s.tools = kept;
}

/** indexes one session given whole (restored, or brought back from its brief): tools, running count, live flag */
export function indexSession(state: TrackerState, s: SessionState): SessionIndex {
  const ix = newIndex(s);
  for (const t of s.tools) {
    indexTool(ix, t);
    if (t.status === 'running') ix.open++;
  }
  state.indexes.set(s.key, ix);
  setStatus(state, s, s.status);
  return ix;
}

/** rebuilds the indexes from restored sessions */
export function reindex(state: TrackerState): void {
  state.indexes.clear();
  state.live.clear();
  state.pendingChildren.clear();
  for (const s of state.sessions.values()) indexSession(state, s);
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
  const s = state.sessions.get(key);
  return s && rootVia(s, (k) => state.sessions.get(k));
}

/** follows parent links from `s` through `get` to the top it can reach */
export function rootVia(s: SessionState, get: (key: string) => SessionState | undefined): SessionState {
  let root = s;
  // bounded walk: a corrupt snapshot with a parent cycle must not hang the daemon
  for (let i = 0; root.parentKey && i < 64; i++) {
    const p = get(root.parentKey);
    if (!p) break;
    root = p;
  }
  return root;
}

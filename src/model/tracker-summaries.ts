/**
 * Finished sessions as briefs. A daemon following thousands of recent sessions kept each whole
 * (~17 KB: lines, tools, errors) until `RETAIN_FINISHED_S` dropped it: 10k sessions were 257 MB.
 * A tree of sessions (a root and its sub-agents) none of which is live and none of which had an
 * event for a short grace becomes briefs (`summary.ts`), once the store has saved every member
 * since its last change (the pipeline tells the tracker which states it saved): so the store
 * can always give back exactly what was dropped.
 *
 * A new event for a brief (or naming one: a spawn, a parent row) brings its whole tree back from
 * the store before the reducer sees the event, indexes rebuilt and the tools closed by
 * inference marked again, so the model goes on exactly as if it had never been summarized.
 * Browser-safe (the dashboard bundles the tracker): the global `performance`, no node: imports.
 */
import type { PulseEvent } from './events.js';
import type { SessionState, ToolCallState } from './session.js';
import { emptyTokens } from './session.js';
import { findTool, indexSession, type TrackerState } from './state.js';
import { briefOf, type SessionBrief, stateFromBrief } from './summary.js';

export interface SummaryOptions {
  /** a session's stored state (the store's snapshot); undefined when the store has none */
  load: (key: string) => SessionState | undefined;
  /** finished sessions quiet this long become briefs: 30 s */
  afterMs?: number;
  /** how often tick() looks for them: 5 s */
  everyMs?: number;
  /** CPU one look may take (each candidate costs a store read): 25 ms */
  budgetMs?: number;
}

export interface BriefState {
  briefs: Map<string, SessionBrief>;
  /** `runId\0callId` of the tools closed by inference, per brief that had any */
  inferred: Map<string, string[]>;
  /**
   * sessions changed since the store last saved them (`tracker.saved`, called by the pipeline
   * right after it wrote their snapshots): only a saved state can be read back exactly
   */
  unsaved: Set<string>;
}

export const createBriefState = (): BriefState => ({
  briefs: new Map(),
  inferred: new Map(),
  unsaved: new Set(),
});

const MAX_DEPTH = 64;

/** a stored state as the tracker keeps it: fields an older snapshot lacks filled in */
export function normalizeStored(s: SessionState): SessionState {
  s.children ??= [];
  s.lines ??= [];
  s.tools ??= [];
  s.errors ??= [];
  s.tokens ??= emptyTokens();
  s.costUsd ??= 0;
  return s;
}

function treeOf(state: TrackerState, root: SessionState): SessionState[] {
  const out: SessionState[] = [];
  const seen = new Set<string>();
  const walk = (s: SessionState, depth: number) => {
    if (seen.has(s.key) || depth > MAX_DEPTH) return;
    seen.add(s.key);
    out.push(s);
    for (const k of s.children) {
      const child = state.sessions.get(k);
      if (child) walk(child, depth + 1);
    }
  };
  walk(root, 0);
  return out;
}

/**
 * Turns quiet finished trees whose states the store holds as they are into briefs, within
 * `budgetMs`; returns how many sessions became briefs and whether candidates were left.
 */
export function summarizeQuiet(
  state: TrackerState,
  b: BriefState,
  o: SummaryOptions,
  now: number,
): { summarized: number; more: boolean } {
  const afterMs = o.afterMs ?? 30_000;
  const deadline = performance.now() + (o.budgetMs ?? 25);
  const settled = (t: SessionState) =>
    !state.live.has(t.key) && now - t.lastEventAt >= afterMs && !b.unsaved.has(t.key);
  let summarized = 0;
  let more = false;
  for (const root of state.sessions.values()) {
    if (!settled(root)) continue;
    if (root.parentKey && state.sessions.has(root.parentKey)) continue; // whole trees, from their root
    if (summarized > 0 && performance.now() > deadline) {
      more = true;
      break;
    }
    const tree = treeOf(state, root);
    if (!tree.every(settled)) continue;
    for (const t of tree) toBrief(state, b, t);
    summarized += tree.length;
  }
  return { summarized, more };
}

function toBrief(state: TrackerState, b: BriefState, s: SessionState): void {
  const inferred: string[] = [];
  for (const t of s.tools) if (state.inferredTools.has(t)) inferred.push(`${t.runId}\0${t.callId}`);
  if (inferred.length) b.inferred.set(s.key, inferred);
  b.briefs.set(s.key, briefOf(s));
  state.sessions.delete(s.key);
  state.indexes.delete(s.key);
  state.live.delete(s.key);
  // a root waiting for its parent stays in pendingChildren: the parent adopts it when it comes
}

/** the root of the brief tree holding `key` */
function briefRoot(b: BriefState, key: string): string {
  let k = key;
  for (let i = 0; i < MAX_DEPTH; i++) {
    const parent = b.briefs.get(k)?.parentKey;
    if (!parent || !b.briefs.has(parent)) break;
    k = parent;
  }
  return k;
}

/** brings the brief tree holding `key` back whole from the store; returns the keys brought back */
export function hydrateTree(
  state: TrackerState,
  b: BriefState,
  load: SummaryOptions['load'],
  key: string,
): string[] {
  if (!b.briefs.has(key)) return [];
  const keys: string[] = [];
  const queue = [briefRoot(b, key)];
  while (queue.length) {
    const k = queue.shift() as string;
    const brief = b.briefs.get(k);
    if (!brief) continue;
    b.briefs.delete(k);
    keys.push(k);
    for (const c of brief.children) if (b.briefs.has(c)) queue.push(c);
    let stored: SessionState | undefined;
    try {
      stored = load(k);
    } catch {
      // the store cannot be read now: the brief's facts are better than losing the session
    }
    const s = stored ? normalizeStored(stored) : stateFromBrief(brief);
    if (!stored) b.unsaved.add(k);
    state.sessions.set(k, s);
    const ix = indexSession(state, s);
    const inferred = b.inferred.get(k);
    if (inferred) {
      b.inferred.delete(k);
      for (const id of inferred) {
        const at = id.indexOf('\0');
        const t: ToolCallState | undefined = findTool(ix, id.slice(0, at), id.slice(at + 1));
        if (t) state.inferredTools.add(t);
      }
    }
  }
  return keys;
}

/** brings back every brief an event may touch: its session, a parent or child it names, children waiting for it */
export function hydrateFor(
  state: TrackerState,
  b: BriefState,
  load: SummaryOptions['load'],
  e: PulseEvent,
): void {
  bringBack(state, b, load, e.sessionKey);
  if (e.type === 'session.seen' && e.parentKey) bringBack(state, b, load, e.parentKey);
  else if (e.type === 'subagent.spawned' || e.type === 'subagent.finished') {
    bringBack(state, b, load, e.parentKey);
    bringBack(state, b, load, e.childKey);
  }
}

function bringBack(state: TrackerState, b: BriefState, load: SummaryOptions['load'], key: string): void {
  if (b.briefs.has(key)) {
    hydrateTree(state, b, load, key);
    return;
  }
  if (state.sessions.has(key)) return;
  // a session seen for the first time adopts the roots that were waiting for it
  const waiting = state.pendingChildren.get(key);
  if (waiting) for (const c of [...waiting]) if (b.briefs.has(c)) hydrateTree(state, b, load, c);
}

/** drops brief trees quiet for `retainMs` (they stay in the store); returns the keys dropped */
export function evictBriefs(state: TrackerState, b: BriefState, now: number, retainMs: number): string[] {
  const gone: string[] = [];
  for (const brief of b.briefs.values()) {
    if (brief.parentKey && b.briefs.has(brief.parentKey)) continue;
    const tree: SessionBrief[] = [];
    const queue = [brief];
    while (queue.length) {
      const t = queue.shift() as SessionBrief;
      tree.push(t);
      for (const c of t.children) {
        const child = b.briefs.get(c);
        if (child && child.parentKey === t.key) queue.push(child);
      }
    }
    if (tree.every((t) => now - t.lastEventAt >= retainMs)) for (const t of tree) gone.push(t.key);
  }
  for (const key of gone) {
    b.briefs.delete(key);
    b.unsaved.delete(key);
    b.inferred.delete(key);
    state.pendingChildren.delete(key);
  }
  if (gone.length) {
    const left = new Set(gone);
    for (const [parent, waiting] of state.pendingChildren) {
      const kept = waiting.filter((k) => !left.has(k));
      if (!kept.length) state.pendingChildren.delete(parent);
      else if (kept.length !== waiting.length) state.pendingChildren.set(parent, kept);
    }
  }
  return gone;
}

/** puts the briefs waiting for a parent back in pendingChildren (restore() rebuilds it from whole states) */
export function repend(state: TrackerState, b: BriefState): void {
  for (const brief of b.briefs.values()) {
    const p = brief.parentKey;
    if (!p || b.briefs.has(p) || state.sessions.has(p)) continue;
    const waiting = state.pendingChildren.get(p);
    if (!waiting) state.pendingChildren.set(p, [brief.key]);
    else if (!waiting.includes(brief.key)) waiting.push(brief.key);
  }
}

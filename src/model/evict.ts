/**
 * Forgetting finished sessions. OpenClaw users run sessions for months; a daemon that kept every
 * session it ever saw would grow without end. A tree of sessions (a root and its sub-agents)
 * none of which is live (active, idle, stuck) and none of which had an event for `retainMs` is
 * dropped from the live model. It stays in the store (events and snapshot): the API and
 * `clawpulse sessions` still find it there, and a new event brings it back.
 */
import type { SessionState } from './session.js';
import type { TrackerState } from './state.js';

/** removes old finished trees; returns the keys removed */
export function evictFinished(state: TrackerState, now: number, retainMs: number): string[] {
  const gone: string[] = [];
  for (const s of state.sessions.values()) {
    // whole trees only, from their root: a sub-agent stays while its parent is kept
    if (s.parentKey && state.sessions.has(s.parentKey)) continue;
    const tree = treeOf(state, s);
    if (tree.every((t) => !state.live.has(t.key) && now - t.lastEventAt >= retainMs))
      for (const t of tree) gone.push(t.key);
  }
  for (const key of gone) remove(state, key);
  return gone;
}

function treeOf(state: TrackerState, root: SessionState): SessionState[] {
  const out: SessionState[] = [];
  const seen = new Set<string>();
  const walk = (s: SessionState) => {
    if (seen.has(s.key)) return;
    seen.add(s.key);
    out.push(s);
    for (const k of s.children) {
      const child = state.sessions.get(k);
      if (child) walk(child);
    }
  };
  walk(root);
  return out;
}

function remove(state: TrackerState, key: string): void {
  state.sessions.delete(key);
  state.indexes.delete(key);
  state.live.delete(key);
  state.pendingChildren.delete(key);
  for (const [parent, waiting] of state.pendingChildren) {
    const i = waiting.indexOf(key);
    if (i < 0) continue;
    waiting.splice(i, 1);
    if (!waiting.length) state.pendingChildren.delete(parent);
  }
}

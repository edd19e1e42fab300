/**
 * Turns the model did not see end: a turn of a root session ends when the session has been
 * quiet for IDLE_TIMEOUT_S with no run open (the model's tick turns it done) or when its run
 * failed. While the daemon runs, the tick sees every such end. Events read after the fact (a
 * backlog after a restart: turns that began and ended while the daemon was down) reach the
 * model in batches with no tick between them, so the model runs the turns together. The sink
 * finds those ends in the stored events of each update (`findBoundaries`) and rebuilds the
 * state each ended turn had at its end from the store (`replayTurnEnds`), so each turn still
 * gets its own box with its own final state.
 */
import type { StoredEvent } from '../../model/events.js';
import type { SessionState, TrackerLimits } from '../../model/session.js';
import { createSessionTracker } from '../../model/tracker.js';
import type { SessionLookup } from '../../render/status-box.js';
import type { EventStore } from '../../store/event-store.js';

/** what the sink remembers of a root session between updates */
export interface TurnMark {
  /** the last run-activity event time */
  lastEventAt?: number;
  runOpen: boolean;
  /** done or error: its next run is a new turn */
  finished: boolean;
}

export interface Boundary {
  /** the event that begins the new turn */
  seq: number;
  ts: number;
  /** 'gap': quiet for the idle timeout before it; 'after-end': the previous turn had ended */
  reason: 'gap' | 'after-end';
}

const ACTIVITY = /^(agent|assistant|tool|llm|subagent)\./;

export function markOf(s: SessionState): TurnMark {
  return {
    lastEventAt: s.lastEventAt,
    runOpen: s.runOpen,
    finished: s.status === 'done' || s.status === 'error',
  };
}

/**
 * The turn boundaries among one root session's own newly stored events (oldest first), given
 * what was known before them, and what is known after them.
 */
export function findBoundaries(
  events: readonly StoredEvent[],
  before: TurnMark | undefined,
  idleTimeoutMs: number,
): { boundaries: Boundary[]; mark: TurnMark } {
  const m: TurnMark = before ? { ...before } : { runOpen: false, finished: false };
  const boundaries: Boundary[] = [];
  for (const { seq, event: e } of events) {
    if (!ACTIVITY.test(e.type)) continue;
    if (e.type === 'agent.started') {
      const quiet = m.lastEventAt !== undefined && !m.runOpen && e.ts - m.lastEventAt >= idleTimeoutMs;
      if (m.finished || quiet) boundaries.push({ seq, ts: e.ts, reason: m.finished ? 'after-end' : 'gap' });
      m.runOpen = true;
      m.finished = false;
    } else if (e.type === 'agent.finished') {
      m.runOpen = false;
      m.finished = e.outcome === 'error';
    }
    if (m.lastEventAt === undefined || e.ts > m.lastEventAt) m.lastEventAt = e.ts;
  }
  return { boundaries, mark: m };
}

/** the session keys of a tree: the root and its descendants (bounded) */
function treeKeys(root: SessionState, get: SessionLookup, max = 200): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const stack = [root.key];
  while (stack.length && out.length < max) {
    const k = stack.pop() as string;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(k);
    const s = get(k);
    if (s) for (const c of s.children) stack.push(c);
  }
  return out;
}

/**
 * Rebuilds the root's tree from the store up to each boundary (the events before it), ends it
 * there as the tick would have, and hands each state to `render` at once (the scratch state
 * moves on afterwards).
 */
export function replayTurnEnds<T>(
  store: Pick<EventStore, 'readSession'>,
  limits: TrackerLimits,
  root: SessionState,
  current: SessionLookup,
  boundaries: readonly Boundary[],
  render: (root: SessionState, lookup: SessionLookup) => T,
): Array<T | undefined> {
  const events: StoredEvent[] = [];
  for (const k of treeKeys(root, current)) events.push(...store.readSession(k));
  events.sort((a, b) => a.seq - b.seq);
  const scratch = createSessionTracker(limits);
  const lookup: SessionLookup = (k) => scratch.get(k);
  const out: Array<T | undefined> = [];
  let i = 0;
  for (const b of boundaries) {
    while (i < events.length && (events[i] as StoredEvent).seq < b.seq)
      scratch.apply((events[i++] as StoredEvent).event);
    scratch.tick(b.ts);
    const s = scratch.get(root.key);
    if (!s) out.push(undefined);
    else if (s.status === 'done' || s.status === 'error' || s.status === 'interrupted')
      out.push(render(s, lookup));
    // quiet for the idle timeout all the same (a tool left open): the turn is over
    else out.push(render({ ...s, status: 'done', endedAt: s.endedAt ?? s.lastEventAt }, lookup));
  }
  return out;
}

/**
 * Where dispatch reads a session's live state and its last reply.
 *
 * In the daemon: its own model and store. From the CLI: the running daemon's API (its model is
 * what every view shows), else the store file (snapshot plus the events after it), which is
 * what the daemon knew when it last ran.
 */
import type { StoredEvent } from '../model/events.js';
import type { SessionState, TrackerLimits } from '../model/session.js';
import { createSessionTracker } from '../model/tracker.js';
import type { EventStore } from '../store/event-store.js';
import { CLOCK_SKEW_MS } from './verdict.js';

export interface LiveView {
  /** 'daemon': the running daemon's model; 'store': the store file (no daemon running) */
  readonly origin: 'daemon' | 'store';
  session(key: string): Promise<SessionState | undefined>;
  /** the last assistant reply stored for the session since `sinceMs` */
  lastReply(key: string, sinceMs: number): Promise<string | undefined>;
}

/** the last assistant message among a session's stored events (its text blocks joined) */
export function lastReplyIn(events: readonly StoredEvent[], sinceMs: number): string | undefined {
  const since = sinceMs - CLOCK_SKEW_MS;
  let at: number | undefined;
  const parts: string[] = [];
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]?.event;
    if (e?.type !== 'assistant.text' || e.ts < since) continue;
    // the blocks of one message share its time; an earlier message ends the reply
    if (at !== undefined && e.ts !== at) break;
    at = e.ts;
    parts.unshift(e.text);
  }
  return parts.length ? parts.join('\n') : undefined;
}

/** the daemon's own view (in-process) */
export function modelView(get: (key: string) => SessionState | undefined, store: EventStore): LiveView {
  return {
    origin: 'daemon',
    session: async (key) => get(key) ?? store.loadSnapshot(key),
    lastReply: async (key, since) => lastReplyIn(store.readSession(key), since),
  };
}

/** a session rebuilt from the store file: its snapshot plus the events stored after it */
/** what a store view reads: snapshots and one session's events */
export type SessionReads = Pick<EventStore, 'loadSnapshot' | 'snapshotSeq' | 'readSession'>;

export function storeView(store: SessionReads, limits: TrackerLimits): LiveView {
  return {
    origin: 'store',
    session: async (key) => {
      const snap = store.loadSnapshot(key);
      const after = snap ? (store.snapshotSeq() ?? 0) : 0;
      const events = store.readSession(key).filter((e) => e.seq > after);
      if (!snap && !events.length) return undefined;
      const tracker = createSessionTracker(limits);
      if (snap) tracker.restore([snap]);
      for (const { event } of events) tracker.apply(event);
      return tracker.get(key);
    },
    lastReply: async (key, since) => lastReplyIn(store.readSession(key), since),
  };
}

/** the running daemon's API: GET /api/sessions/:key */
export function daemonView(baseUrl: string, token: string | undefined, fallback: LiveView): LiveView {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  return {
    origin: 'daemon',
    session: async (key) => {
      const res = await fetch(`${baseUrl}/api/sessions/${encodeURIComponent(key)}`, {
        headers,
        signal: AbortSignal.timeout(5000),
      });
      if (res.status === 404) return undefined;
      if (!res.ok) throw new Error(`clawpulse API answered ${res.status} for ${key}`);
      return ((await res.json()) as { session: SessionState }).session;
    },
    // the reply's text is in the store the daemon writes (readable beside it: WAL)
    lastReply: (key, since) => fallback.lastReply(key, since),
  };
}

/**
 * What the gateway source remembers between connections and daemon restarts: the newest event
 * time overall and per session. Saved as one small offset row (`gateway:<url>`) through the
 * sink, in the same transaction as the events it covers; read back on start.
 */
import type { PulseEvent } from '../../model/events.js';
import type { SourceOffset } from '../../store/event-store.js';
import { isSaneTime } from '../sanitize.js';
import type { OffsetReader } from '../source.js';

export interface ResumeValue {
  lastEventTs: number;
  /** sessionKey → newest event ts seen for it (the newest MAX_SESSIONS only) */
  sessions: Record<string, number>;
}

const MAX_SESSIONS = 500;

export interface ResumeState {
  readonly key: string;
  lastEventTs: number;
  /** in-memory: insertion-ordered, re-inserted on update so the oldest fall off first */
  sessions: Map<string, number>;
  note(events: readonly PulseEvent[]): void;
  since(sessionKey: string): number;
  offset(): SourceOffset;
  /** true when something was saved before (a daemon restart), or a connection was live before */
  hasHistory(): boolean;
}

export function createResumeState(url: string, offsets: OffsetReader): ResumeState {
  const key = `gateway:${url}`;
  let saved: unknown;
  try {
    saved = offsets.getOffset(key);
  } catch {
    saved = undefined; // an unreadable offset means a fresh start, not a dead source
  }
  const sessions = new Map<string, number>();
  let lastEventTs = 0;
  if (saved && typeof saved === 'object') {
    const v = saved as Partial<ResumeValue>;
    // a time saved before events were bounded (1e308 from a bad frame) would skip every backfill
    if (isSaneTime(v.lastEventTs)) lastEventTs = v.lastEventTs;
    if (v.sessions && typeof v.sessions === 'object') {
      for (const [k, ts] of Object.entries(v.sessions)) if (isSaneTime(ts)) sessions.set(k, ts);
    }
  }
  return {
    key,
    get lastEventTs() {
      return lastEventTs;
    },
    set lastEventTs(v: number) {
      lastEventTs = v;
    },
    sessions,
    note(events) {
      for (const e of events) {
        if (e.ts > lastEventTs) lastEventTs = e.ts;
        const prev = sessions.get(e.sessionKey);
        if (prev === undefined || e.ts > prev) {
          sessions.delete(e.sessionKey);
          sessions.set(e.sessionKey, e.ts);
          if (sessions.size > MAX_SESSIONS) sessions.delete(sessions.keys().next().value as string);
        }
      }
    },
    since(sessionKey) {
      return sessions.get(sessionKey) ?? lastEventTs;
    },
    offset() {
      const value: ResumeValue = { lastEventTs, sessions: Object.fromEntries(sessions) };
      return { key, value };
    },
    hasHistory() {
      return lastEventTs > 0;
    },
  };
}

/**
 * The dashboard's live state: one EventSource on /api/stream. The snapshot replaces the
 * session map; `sessions` messages upsert summaries; `pulse` events go to the feed and to
 * views that follow one session. Changes are coalesced: a lone event renders at once, a burst
 * renders at most once per frame, so a flood of events does not cost one render per event.
 *
 * Reconnects: while the browser retries by itself the EventSource keeps Last-Event-ID; when
 * it gives up (503 at the client cap, daemon gone too long) a new one resumes with ?after=.
 */
import type { StoredEvent } from '../../src/model/events.js';
import type {
  GapMessage,
  PulseMessage,
  SessionSummary,
  SessionsMessage,
  SessionTotals,
  SnapshotMessage,
} from '../../src/server/summary.js';

export type Connection = 'connecting' | 'live' | 'reconnecting';

export type FeedItem = StoredEvent | { seq: number; gap: GapMessage };

export interface LiveState {
  /** the sessions this page knows: the snapshot's (live ones and the list's first page), pages fetched since, and every change streamed */
  sessions: ReadonlyMap<string, SessionSummary>;
  /** the whole model's counts (every session, not only those known here) */
  totals?: SessionTotals;
  /** where the unfiltered list goes on after the snapshot's first page (/api/sessions?cursor=); null: the snapshot had it all */
  nextCursor: string | null;
  feed: readonly FeedItem[];
  conn: Connection;
  /** server time minus browser time, so elapsed clocks tick in server time */
  offsetMs: number;
  /** bumps on every snapshot: views re-read what they fetched */
  epoch: number;
  lastSeq: number;
}

const FEED_MAX = 300;

/**
 * The whole model's counts after changed summaries, as far as this page can tell: a session it
 * knew moves from its old status to the new one, one it did not know is counted as new (it may
 * only not have been loaded: the server's next counts set that right).
 */
export function countsAfter(
  t: SessionTotals,
  known: ReadonlyMap<string, SessionSummary>,
  changes: ReadonlyMap<string, SessionSummary | null>,
): SessionTotals {
  const byStatus = { ...t.byStatus };
  let { sessions, tokens, costUsd, running } = t;
  // a session's cost stays estimated once it is; the server's next counts clear it if that one left
  let costEstimated = !!t.costEstimated;
  const isRunning = (s: SessionSummary) => s.status === 'active' || s.status === 'stuck';
  for (const [k, next] of changes) {
    const old = known.get(k);
    if (old) {
      byStatus[old.status] = Math.max(0, (byStatus[old.status] ?? 0) - 1);
      tokens -= old.tokens;
      costUsd -= old.costUsd;
      if (isRunning(old)) running--;
      sessions--;
    } else if (!next) continue;
    if (next) {
      byStatus[next.status] = (byStatus[next.status] ?? 0) + 1;
      tokens += next.tokens;
      costUsd += next.costUsd;
      if (next.costEstimated) costEstimated = true;
      if (isRunning(next)) running++;
      sessions++;
    }
  }
  return {
    ...t,
    byStatus,
    sessions,
    tokens,
    costUsd,
    ...(costEstimated ? { costEstimated: true as const } : {}),
    running: Math.max(0, running),
  };
}

export interface LiveStore {
  get(): LiveState;
  subscribe(fn: () => void): () => void;
  /** raw events as they arrive (for the open session's view) */
  onEvent(fn: (e: StoredEvent) => void): () => void;
  /**
   * merges a page of /api/sessions into the known sessions (a row the stream has since
   * changed keeps the newer summary); `epoch` is the one the request was made in: a page from
   * before the last snapshot is dropped
   */
  addPage(sessions: readonly SessionSummary[], epoch: number): void;
  start(): void;
  stop(): void;
}

export function createLiveStore(url = '/api/stream'): LiveStore {
  let state: LiveState = {
    sessions: new Map(),
    nextCursor: null,
    feed: [],
    conn: 'connecting',
    offsetMs: 0,
    epoch: 0,
    lastSeq: 0,
  };
  const listeners = new Set<() => void>();
  const eventListeners = new Set<(e: StoredEvent) => void>();
  let es: EventSource | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let backoffMs = 1000;
  let stopped = false;

  // pending changes, applied together on the next task (null: the session left the live view)
  let pendingSessions = new Map<string, SessionSummary | null>();
  /** rows from /api/sessions pages, merged after the stream's changes */
  let pendingPages = new Map<string, SessionSummary>();
  let pendingFeed: FeedItem[] = [];
  let pendingPatch: Partial<LiveState> = {};
  let scheduled = false;

  // leading edge at once (a lone event shows immediately), then at most one render per frame
  // while events stream in, so a burst costs ~60 renders/s, not one per event
  let lastFlushAt = -Infinity;
  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    const wait = lastFlushAt + 16 - performance.now();
    if (wait <= 0) queueMicrotask(flush);
    else setTimeout(flush, wait);
  }

  function flush(): void {
    if (!scheduled) return;
    scheduled = false;
    lastFlushAt = performance.now();
    let sessions = state.sessions;
    if (pendingSessions.size) {
      const next = new Map(sessions);
      // the counts follow at once (the server's come at most twice a second and replace these)
      const totals = pendingPatch.totals
        ? undefined
        : state.totals && countsAfter(state.totals, sessions, pendingSessions);
      if (totals) pendingPatch.totals = totals;
      for (const [k, v] of pendingSessions) {
        if (v) next.set(k, v);
        else next.delete(k);
      }
      sessions = next;
      pendingSessions = new Map();
    }
    if (pendingPages.size) {
      // rows of the server's list: known sessions, not news (the counts already have them)
      const next = new Map(sessions);
      for (const [k, v] of pendingPages) {
        const known = next.get(k);
        if (!known || known.lastEventAt <= v.lastEventAt) next.set(k, v);
      }
      pendingPages = new Map();
      sessions = next;
    }
    let feed = state.feed;
    if (pendingFeed.length) {
      feed = feed.concat(pendingFeed);
      if (feed.length > FEED_MAX) feed = feed.slice(feed.length - FEED_MAX);
      pendingFeed = [];
    }
    state = { ...state, ...pendingPatch, sessions, feed };
    pendingPatch = {};
    for (const l of listeners) l();
  }

  function parse<T>(e: MessageEvent): T | undefined {
    try {
      return JSON.parse(e.data as string) as T;
    } catch {
      return undefined; // a garbled message is skipped; the next snapshot repairs state
    }
  }

  function open(): void {
    if (stopped) return;
    const src = state.lastSeq > 0 ? `${url}?after=${state.lastSeq}` : url;
    const source = new EventSource(src);
    es = source;
    source.addEventListener('snapshot', (e) => {
      const snap = parse<SnapshotMessage>(e as MessageEvent);
      if (!snap) return;
      if (scheduled) flush(); // events before this snapshot land first (the queued call then no-ops)
      backoffMs = 1000;
      pendingSessions = new Map();
      pendingPages = new Map();
      const sessions = new Map(snap.sessions.map((s) => [s.key, s]));
      // a resume answers with no `recent`; a store that went backwards (replaced) starts over
      const resumed = snap.recent.length === 0 && state.feed.length > 0 && snap.lastSeq >= state.lastSeq;
      pendingFeed = [];
      state = {
        ...state,
        sessions,
        totals: snap.totals,
        nextCursor: snap.nextCursor ?? null,
        feed: resumed ? state.feed : snap.recent.slice(-FEED_MAX),
        conn: 'live',
        offsetMs: snap.now - Date.now(),
        epoch: state.epoch + 1,
        // a resume replays next: the last id we have is still ours until a pulse moves it
        lastSeq: resumed ? state.lastSeq : snap.lastSeq,
      };
      for (const l of listeners) l();
    });
    source.addEventListener('pulse', (e) => {
      const m = parse<PulseMessage>(e as MessageEvent);
      if (!m) return;
      const item: StoredEvent = { seq: m.seq, event: m.event };
      pendingFeed.push(item);
      pendingPatch.lastSeq = m.seq;
      for (const l of eventListeners) l(item);
      schedule();
    });
    source.addEventListener('sessions', (e) => {
      const m = parse<SessionsMessage>(e as MessageEvent);
      if (!m) return;
      for (const s of m.sessions) pendingSessions.set(s.key, s);
      for (const k of m.removed ?? []) pendingSessions.set(k, null);
      if (m.totals) pendingPatch.totals = m.totals;
      pendingPatch.offsetMs = m.now - Date.now();
      schedule();
    });
    source.addEventListener('gap', (e) => {
      const g = parse<GapMessage>(e as MessageEvent);
      if (g) pendingFeed.push({ seq: g.to, gap: g });
      schedule();
    });
    source.onerror = () => {
      if (state.conn !== 'reconnecting') {
        pendingPatch.conn = 'reconnecting';
        schedule();
      }
      if (source.readyState === EventSource.CLOSED) {
        // the browser gave up (non-200 answer): check why, then come back with ?after=
        source.close();
        void fetch('/api/sessions?status=stuck', { credentials: 'same-origin' })
          .then((r) => {
            if (r.status === 401) window.location.assign('/login');
          })
          .catch(() => undefined);
        clearTimeout(retryTimer);
        retryTimer = setTimeout(open, backoffMs);
        backoffMs = Math.min(backoffMs * 2, 15_000);
      }
    };
  }

  return {
    get: () => state,
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    onEvent(fn) {
      eventListeners.add(fn);
      return () => eventListeners.delete(fn);
    },
    addPage(sessions, epoch) {
      if (epoch !== state.epoch || !sessions.length) return;
      let added = false;
      for (const s of sessions) {
        const pending = pendingSessions.get(s.key);
        if (pending === null) continue; // it left the live view meanwhile
        const known = pending ?? state.sessions.get(s.key);
        // the stream's summary is at least as new as a page read before it arrived
        if (known && known.lastEventAt > s.lastEventAt) continue;
        pendingPages.set(s.key, s);
        added = true;
      }
      if (added) schedule();
    },
    start() {
      stopped = false;
      if (!es) open();
    },
    stop() {
      stopped = true;
      clearTimeout(retryTimer);
      es?.close();
      es = undefined;
    },
  };
}

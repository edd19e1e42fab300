/**
 * The running daemon's sessions, mirrored for `clawpulse tail`: a snapshot from /api/stream,
 * each visible tree's full state from /api/sessions/:key, then every stored event from the
 * stream applied to a local copy of the model (the same reducer the daemon runs), as the
 * dashboard does. The daemon stays the one reader of OpenClaw.
 */
import type { Config } from '../config/config.js';
import type { StoredEvent } from '../model/events.js';
import type { SessionState } from '../model/session.js';
import { createSessionTracker, type SessionTracker } from '../model/tracker.js';
import type { SessionDetail, SessionSummary, SnapshotMessage } from '../server/summary.js';
import { type DaemonLink, getJson, readSse, type SseMessage } from './daemon-link.js';
import type { ViewModel } from './terminal-view.js';

const LIVE = new Set(['active', 'idle', 'stuck']);

export interface RemoteModel extends ViewModel {
  /** one read of the current state (list and visible trees), without following: `tail --once` */
  loadOnce(): Promise<void>;
  /** follows the stream until stop(), reconnecting; `onState` hears "live" or why not */
  follow(onState?: (state: string) => void): void;
  stop(): void;
}

export function createRemoteModel(
  link: DaemonLink,
  config: Readonly<Config>,
  o: { recentMs?: number; now?: () => number; retryMs?: number } = {},
): RemoteModel {
  const now = o.now ?? Date.now;
  const recentMs = o.recentMs ?? 60_000;
  let tracker: SessionTracker = createSessionTracker(config.model);
  /** the seq each session's state already includes (events at or below it are in it) */
  let applied = new Map<string, number>();
  const listeners = new Set<() => void>();
  /** events that came while a tree was being fetched: applied after it */
  let early: StoredEvent[] = [];
  let fetching = 0;
  /** trees asked for, so one unknown session costs one request */
  let asked = new Set<string>();
  let epoch = 0;
  let abort: AbortController | undefined;
  let stopped = false;
  let ticker: NodeJS.Timeout | undefined;

  const changed = () => {
    for (const l of listeners) l();
  };

  function reset(): void {
    tracker = createSessionTracker(config.model);
    applied = new Map();
    early = [];
    asked = new Set();
    epoch++;
  }

  const visible = (s: SessionSummary, t: number) =>
    LIVE.has(s.status) || t - (s.endedAt ?? s.lastEventAt) <= recentMs;

  async function fetchTree(key: string): Promise<void> {
    if (asked.has(key)) return;
    asked.add(key);
    const at = epoch;
    fetching++;
    try {
      const r = await getJson<SessionDetail>(link, config, `/api/sessions/${encodeURIComponent(key)}`);
      if (at !== epoch || r.status !== 200) return;
      tracker.restore(r.body.states);
      for (const s of r.body.states) {
        applied.set(s.key, r.body.lastSeq);
        asked.add(s.key);
      }
      changed();
    } catch {
      // the stream's next reconnect reloads everything
    } finally {
      fetching--;
      if (at === epoch && fetching === 0) {
        const waiting = early;
        early = [];
        for (const item of waiting) onPulse(item);
      }
    }
  }

  function onPulse(item: StoredEvent): void {
    if (fetching > 0) {
      early.push(item);
      return;
    }
    const key = item.event.sessionKey;
    if (tracker.get(key) || applied.has(key)) {
      if (item.seq <= (applied.get(key) ?? 0)) return;
      tracker.apply(item.event);
      changed();
      return;
    }
    // a session this copy does not hold (new, or back from the store): its state first
    early.push(item);
    if (asked.has(key)) {
      // asked and not found (a brand-new session the API did not list yet): take the events as they come
      applied.set(key, 0);
      const waiting = early;
      early = [];
      for (const w of waiting) onPulse(w);
      return;
    }
    void fetchTree(key);
  }

  async function loadVisible(summaries: readonly SessionSummary[]): Promise<void> {
    const t = now();
    const keys = new Set(summaries.map((s) => s.key));
    const roots = summaries.filter((s) => visible(s, t) && (!s.parentKey || !keys.has(s.parentKey)));
    // a few at a time: a daemon with hundreds of live trees is not asked for all at once
    const queue = roots.map((s) => s.key);
    await Promise.all(
      [0, 1, 2, 3].map(async () => {
        for (let k = queue.shift(); k !== undefined; k = queue.shift()) await fetchTree(k);
      }),
    );
  }

  function onMessage(m: SseMessage): void {
    try {
      if (m.event === 'snapshot') {
        reset();
        const snap = JSON.parse(m.data) as SnapshotMessage;
        void loadVisible(snap.sessions);
        changed();
      } else if (m.event === 'pulse') onPulse(JSON.parse(m.data) as StoredEvent);
      else if (m.event === 'gap') abort?.abort(); // history was skipped: start over
    } catch {
      // one bad message is skipped
    }
  }

  return {
    all: () => tracker.all(),
    get: (k: string): SessionState | undefined => tracker.get(k),
    subscribe(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    async loadOnce() {
      reset();
      const list = (await getJson<{ sessions: SessionSummary[] }>(link, config, '/api/sessions')).body
        .sessions;
      await loadVisible(list);
      tracker.tick(now());
    },
    follow(onState) {
      ticker = setInterval(() => {
        if (tracker.tick(now()).length) changed();
      }, 1000);
      const loop = async () => {
        while (!stopped) {
          abort = new AbortController();
          try {
            onState?.('live');
            await readSse(link, config, '/api/stream', onMessage, abort.signal);
            if (!stopped) onState?.('the daemon ended the stream; reconnecting…');
          } catch (err) {
            if (stopped) return;
            onState?.(`the daemon does not answer (${(err as Error).message}); retrying…`);
          }
          await new Promise((r) => setTimeout(r, o.retryMs ?? 2000));
        }
      };
      void loop();
    },
    stop() {
      stopped = true;
      abort?.abort();
      if (ticker) clearInterval(ticker);
    },
  };
}

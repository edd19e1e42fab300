/**
 * One session's live detail: fetched once from /api/sessions/:key, then kept current by
 * applying the live events of its tree to a local copy of the model (the same reducer the
 * daemon runs), so tools, lines and tokens update without re-fetching.
 *
 * The detail is bounded (the newest page of events, the newest tool calls): older events and
 * tool calls are fetched a page at a time when the user asks for them (`loadOlderEvents`,
 * `loadOlderTools`, from `/api/sessions/:key/events` and `/tools`).
 */
import { useEffect, useReducer, useRef, useState } from 'react';
import type { StoredEvent } from '../../src/model/events.js';
import type { ToolCallState } from '../../src/model/session.js';
import { createSessionTracker, type SessionTracker } from '../../src/model/tracker.js';
import type {
  SessionDetail,
  SessionEventsPage,
  SessionToolsPage,
  TokenPoint,
} from '../../src/server/summary.js';
import { eventTokens } from '../../src/server/summary.js';
import type { LiveStore } from './live.js';

export interface DetailModel {
  tracker: SessionTracker;
  tokenSeries: TokenPoint[];
  /** the session's events, oldest first: the pages loaded, then the live ones */
  events: StoredEvent[];
  /** `before` for the next older page of events; null when the oldest is here */
  eventsBefore: number | null;
  /** tool calls older than the model's (fetched on demand), oldest first */
  olderTools: ToolCallState[];
  /** `before` (an index) for the next older page of tool calls; null when the oldest is here */
  toolsBefore: number | null;
  /** live events kept at most (grows by what older pages brought) */
  cap: number;
  detail: SessionDetail;
}

const MAX_EVENTS = 300;
const PAGE = 100;

export interface SessionDetailView {
  model?: DetailModel;
  error?: string;
  version: number;
  /** fetches the page of events before the oldest one here */
  loadOlderEvents(): Promise<void>;
  /** fetches the page of tool calls before the oldest one here */
  loadOlderTools(): Promise<void>;
}

export function useSessionDetail(key: string, live: LiveStore, epoch: number): SessionDetailView {
  const [model, setModel] = useState<DetailModel>();
  const [error, setError] = useState<string>();
  const [version, bump] = useReducer((n: number) => n + 1, 0);
  const modelRef = useRef<DetailModel | undefined>(undefined);

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new snapshot (epoch, after a reconnect) re-fetches on purpose
  useEffect(() => {
    const ctl = new AbortController();
    // events that arrive while the fetch is in flight are applied after it, if newer
    const early: StoredEvent[] = [];
    let lastSeq = Number.POSITIVE_INFINITY;
    const apply = (m: DetailModel, item: StoredEvent) => {
      const e = item.event;
      if (item.seq <= lastSeq) return;
      if (!m.tracker.get(e.sessionKey) && !(e.type === 'subagent.spawned' && m.tracker.get(e.parentKey)))
        return;
      lastSeq = item.seq;
      m.tracker.apply(e);
      if (e.type === 'llm.tokens' && e.sessionKey === key) {
        const prev = m.tokenSeries[m.tokenSeries.length - 1];
        m.tokenSeries = [
          ...m.tokenSeries,
          {
            ts: e.ts,
            tokens: (prev?.tokens ?? 0) + eventTokens(e),
            costUsd: (prev?.costUsd ?? 0) + e.costUsd,
          },
        ];
      }
      if (e.sessionKey === key) {
        m.events = m.events.length >= m.cap ? [...m.events.slice(1), item] : [...m.events, item];
      }
      bump();
    };
    const off = live.onEvent((item) => {
      const m = modelRef.current;
      if (m) apply(m, item);
      else early.push(item);
    });
    modelRef.current = undefined;
    fetch(`/api/sessions/${encodeURIComponent(key)}`, { signal: ctl.signal, credentials: 'same-origin' })
      .then(async (r) => {
        if (r.status === 404) throw new Error('This session is not known (it may have been pruned).');
        if (!r.ok) throw new Error(`Could not load the session (HTTP ${r.status}).`);
        return (await r.json()) as SessionDetail;
      })
      .then((detail) => {
        const tracker = createSessionTracker(detail.limits);
        tracker.restore(detail.states);
        // the states include every event up to detail.lastSeq; only newer ones apply
        lastSeq = detail.lastSeq;
        const m: DetailModel = {
          tracker,
          tokenSeries: detail.tokenSeries,
          events: detail.events,
          // a daemon from before paging sends neither: it sent everything it had
          eventsBefore: detail.eventsBefore ?? null,
          olderTools: [],
          toolsBefore: detail.toolsBefore ?? null,
          cap: Math.max(MAX_EVENTS, detail.events.length),
          detail,
        };
        for (const item of early) apply(m, item);
        modelRef.current = m;
        setError(undefined);
        setModel(m);
      })
      .catch((err: Error) => {
        if (err.name !== 'AbortError') setError(err.message);
      });
    return () => {
      ctl.abort();
      off();
    };
  }, [key, live, epoch]);

  const base = `/api/sessions/${encodeURIComponent(key)}`;
  const get = async <T>(path: string): Promise<T> => {
    const r = await fetch(path, { credentials: 'same-origin' });
    if (!r.ok) throw new Error(`Could not load more (HTTP ${r.status}).`);
    return (await r.json()) as T;
  };

  const loadOlderEvents = async (): Promise<void> => {
    const m = modelRef.current;
    if (!m || m.eventsBefore === null) return;
    const page = await get<SessionEventsPage>(`${base}/events?before=${m.eventsBefore}&limit=${PAGE}`);
    if (modelRef.current !== m) return; // re-fetched meanwhile
    const have = new Set(m.events.map((e) => e.seq));
    const older = page.events.filter((e) => !have.has(e.seq));
    m.events = [...older, ...m.events];
    m.cap += older.length;
    m.eventsBefore = page.before;
    bump();
  };

  const loadOlderTools = async (): Promise<void> => {
    const m = modelRef.current;
    if (!m || m.toolsBefore === null) return;
    const page = await get<SessionToolsPage>(`${base}/tools?before=${m.toolsBefore}&limit=${PAGE}`);
    if (modelRef.current !== m) return;
    // an old call still running is in the model already (it updates there)
    const id = (t: ToolCallState) => `${t.runId}\u0000${t.callId}`;
    const have = new Set([...(m.tracker.get(key)?.tools ?? []), ...m.olderTools].map(id));
    m.olderTools = [...page.tools.filter((t) => !have.has(id(t))), ...m.olderTools];
    m.toolsBefore = page.before;
    bump();
  };

  return { model, error, version, loadOlderEvents, loadOlderTools };
}

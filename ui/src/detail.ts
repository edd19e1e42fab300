/**
 * One session's live detail: fetched once from /api/sessions/:key, then kept current by
 * applying the live events of its tree to a local copy of the model (the same reducer the
 * daemon runs), so tools, lines and tokens update without re-fetching.
 */
import { useEffect, useReducer, useRef, useState } from 'react';
import type { StoredEvent } from '../../src/model/events.js';
import { createSessionTracker, type SessionTracker } from '../../src/model/tracker.js';
import type { SessionDetail, TokenPoint } from '../../src/server/summary.js';
import { eventTokens } from '../../src/server/summary.js';
import type { LiveStore } from './live.js';

export interface DetailModel {
  tracker: SessionTracker;
  tokenSeries: TokenPoint[];
  events: StoredEvent[];
  detail: SessionDetail;
}

const MAX_EVENTS = 300;

export function useSessionDetail(
  key: string,
  live: LiveStore,
  epoch: number,
): { model?: DetailModel; error?: string; version: number } {
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
        m.events = m.events.length >= MAX_EVENTS ? [...m.events.slice(1), item] : [...m.events, item];
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
        const m: DetailModel = { tracker, tokenSeries: detail.tokenSeries, events: detail.events, detail };
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

  return { model, error, version };
}

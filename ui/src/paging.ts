/**
 * The session list beyond what the stream's snapshot carries: pages of /api/sessions fetched
 * as the list scrolls to its end. Without filters the list goes on from the snapshot's cursor;
 * with filters (status, agent, host, gateway, words) the server is asked for the matching
 * sessions from the first page on, by the same rules the list filters with here. Every page is
 * merged into the live store, where the stream keeps its rows current.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { SessionsPage } from '../../src/server/summary.js';
import type { LiveStore } from './live.js';
import { type Filters, filterQuery } from './tree.js';

export const LIST_PAGE = 200;

export interface ListPaging {
  /** the server has rows the list does not have yet */
  hasMore: boolean;
  loading: boolean;
  /** sessions matching the filters on the server; undefined without filters (the totals say) */
  total?: number;
  /** fetches the next page (no-op while one is on its way or when there is none) */
  loadMore(): void;
  error?: string;
}

interface Cursor {
  key: string;
  cursor: string | null;
  total?: number;
  loading: boolean;
  error?: string;
}

async function fetchPage(query: string, cursor?: string): Promise<SessionsPage> {
  const params = new URLSearchParams(query);
  params.set('limit', String(LIST_PAGE));
  if (cursor) params.set('cursor', cursor);
  const r = await fetch(`/api/sessions?${params}`, { credentials: 'same-origin' });
  if (r.status === 401) window.location.assign('/login');
  if (!r.ok) throw new Error(`/api/sessions answered ${r.status}`);
  return (await r.json()) as SessionsPage;
}

export function useSessionPages(
  live: LiveStore,
  epoch: number,
  snapshotCursor: string | null,
  filters: Filters,
): ListPaging {
  const query = filterQuery(filters);
  const key = `${epoch}\n${query}`;
  const [state, setState] = useState<Cursor>({ key: '', cursor: null, loading: false });
  const current = useRef(key);
  current.current = key;

  const load = useCallback(
    (forKey: string, cursor: string | undefined) => {
      setState((s) => ({ ...s, key: forKey, loading: true }));
      fetchPage(query, cursor).then(
        (page) => {
          if (current.current !== forKey) return; // the filters or the snapshot changed meanwhile
          live.addPage(page.sessions, epoch);
          setState({
            key: forKey,
            cursor: page.nextCursor,
            total: query ? page.total : undefined,
            loading: false,
          });
        },
        (err: unknown) => {
          if (current.current !== forKey) return;
          setState((s) => ({
            ...s,
            loading: false,
            error: err instanceof Error ? err.message : String(err),
          }));
        },
      );
    },
    [live, epoch, query],
  );

  useEffect(() => {
    // without filters the snapshot holds the first page; with them the server gives the first
    if (!query) setState({ key, cursor: snapshotCursor, loading: false });
    else load(key, undefined);
  }, [key, query, snapshotCursor, load]);

  const fresh = state.key === key;
  const loadMore = useCallback(() => {
    if (!fresh || state.loading || !state.cursor) return;
    load(key, state.cursor);
  }, [fresh, state.loading, state.cursor, key, load]);

  return {
    hasMore: fresh ? state.cursor !== null : !!query || snapshotCursor !== null,
    loading: !fresh || state.loading,
    total: fresh ? state.total : undefined,
    loadMore,
    error: fresh ? state.error : undefined,
  };
}

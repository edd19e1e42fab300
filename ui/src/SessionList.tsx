/**
 * The list of sessions; sub-agents indent under their parent. Virtualized: only the rows in
 * view (and a few around) are in the DOM, so 10,000 sessions cost what 30 do. When the list's
 * end scrolls into view the next page is fetched (`paging.ts`). Rows re-render only when their
 * summary changes.
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, type ReactNode, useCallback, useEffect, useState } from 'react';
import type { SessionSummary } from '../../src/server/summary.js';
import { Badge, channelText, Elapsed, LiveNote, sessionTitle } from './bits.js';
import { ESTIMATED_COST_TITLE, fmtCostMarked, fmtTokens } from './format.js';
import type { ListPaging } from './paging.js';
import type { Row } from './tree.js';

interface Props {
  rows: Row[];
  offsetMs: number;
  selected?: string;
  compact: boolean;
  /** a source is down or blind: "no sessions" says why instead of promising they will come */
  blind?: boolean;
  /** more rows on the server */
  paging?: ListPaging;
  onSelect: (key: string) => void;
}

const GAP = 6;

/** the nearest ancestor that scrolls: the list pane, or the page's layout on a narrow screen */
function scrollParent(el: HTMLElement | null): HTMLElement | null {
  for (let p = el?.parentElement; p; p = p.parentElement) {
    const o = getComputedStyle(p).overflowY;
    if (o === 'auto' || o === 'scroll') return p;
  }
  return document.scrollingElement as HTMLElement | null;
}

export function SessionList({ rows, offsetMs, selected, compact, blind, paging, onSelect }: Props) {
  const [scroller, setScroller] = useState<HTMLElement | null>(null);
  const [margin, setMargin] = useState(0);
  // the list's offset inside what scrolls it, once it is in the page
  const attach = useCallback((el: HTMLUListElement | null) => {
    if (!el) return;
    const sp = scrollParent(el);
    setScroller(sp);
    if (sp) setMargin(el.getBoundingClientRect().top - sp.getBoundingClientRect().top + sp.scrollTop);
  }, []);
  const more = paging?.hasMore ? 1 : 0;
  const v = useVirtualizer({
    count: rows.length + more,
    getScrollElement: () => scroller,
    estimateSize: () => (compact ? 44 : 62),
    overscan: 8,
    gap: GAP,
    scrollMargin: margin,
    paddingStart: 8,
    paddingEnd: 24,
    getItemKey: (i) => rows[i]?.s.key ?? '\u0000more',
  });
  const items = v.getVirtualItems();
  const last = items[items.length - 1];
  const atEnd = !!last && last.index >= rows.length - 1;
  const wantMore = atEnd && !!paging?.hasMore && !paging.loading && !paging.error;
  useEffect(() => {
    if (wantMore) paging?.loadMore();
  }, [wantMore, paging]);

  if (!rows.length && !paging?.hasMore) {
    return blind ? (
      <div className="empty" data-testid="empty">
        No sessions, and clawpulse cannot see your agents: fix the problems above first.
      </div>
    ) : (
      <div className="empty" data-testid="empty">
        No sessions yet. They show up here as soon as an agent starts working.
      </div>
    );
  }
  return (
    <ul
      ref={attach}
      className={compact ? 'sessions compact virtual' : 'sessions virtual'}
      data-testid="sessions"
      data-rows={rows.length}
      style={{ height: v.getTotalSize() }}
    >
      {items.map((item) => {
        const r = rows[item.index];
        const style = { transform: `translateY(${item.start - margin}px)` };
        if (!r) {
          return (
            <li key={item.key} className="more" data-index={item.index} ref={v.measureElement} style={style}>
              {paging?.error ? (
                <button type="button" onClick={() => paging.loadMore()}>
                  could not load more sessions ({paging.error}): retry
                </button>
              ) : (
                <span className="muted small" data-testid="loading-more">
                  loading more sessions…
                </span>
              )}
            </li>
          );
        }
        return (
          <SessionRow
            key={item.key}
            index={item.index}
            measure={v.measureElement}
            top={item.start - margin}
            s={r.s}
            depth={r.depth}
            context={r.context}
            offsetMs={offsetMs}
            selected={r.s.key === selected}
            compact={compact}
            onSelect={onSelect}
          />
        );
      })}
    </ul>
  );
}

/** host/gateway as one short tag: `h1`, `gw-a`, `h1/gw-a` */
export function placeText(s: Pick<SessionSummary, 'host' | 'gateway'>): string {
  return [s.host, s.gateway].filter(Boolean).join('/');
}

const SessionRow = memo(function SessionRow(p: {
  index: number;
  measure: (el: Element | null) => void;
  /** where the virtualizer puts it */
  top: number;
  s: SessionSummary;
  depth: number;
  context: boolean;
  offsetMs: number;
  selected: boolean;
  compact: boolean;
  onSelect: (key: string) => void;
}) {
  const { s } = p;
  const problem = s.status === 'error' || s.status === 'stuck';
  const activity: ReactNode =
    s.status === 'stuck' ? (
      <>
        {s.runningTool && (
          <>
            stuck in <span className="stuck-tool">{s.runningTool}</span> ·{' '}
          </>
        )}
        <LiveNote s={s} offsetMs={p.offsetMs} />
      </>
    ) : problem ? (
      s.note || s.lastError || s.lastText || ''
    ) : s.runningTool ? (
      `running ${s.runningTool}…`
    ) : (
      s.lastText || s.note || ''
    );
  return (
    <li
      ref={p.measure}
      className={`row st-${s.status}${p.selected ? ' selected' : ''}${p.context ? ' context' : ''}`}
      style={{ paddingLeft: `${0.75 + p.depth * 1.25}rem`, transform: `translateY(${p.top}px)` }}
      data-index={p.index}
      data-key={s.key}
      data-status={s.status}
      data-host={s.host}
      data-gateway={s.gateway}
    >
      <button type="button" className="row-main" onClick={() => p.onSelect(s.key)}>
        <span className="row-head">
          {p.depth > 0 && <span className="branch">↳</span>}
          <Badge status={s.status} />
          <span className="title" title={s.key}>
            {sessionTitle(s)}
          </span>
          <span className="agent">{s.agentId}</span>
          {placeText(s) && (
            <span
              className="place"
              data-testid="place"
              title={`host ${s.host ?? '-'} · gateway ${s.gateway ?? '-'}`}
            >
              {placeText(s)}
            </span>
          )}
          {!p.compact && channelText(s) && <span className="chan">{channelText(s)}</span>}
          {s.children > 0 && <span className="kids">{s.children} sub</span>}
        </span>
        {!p.compact && activity && (
          <span className={problem ? 'activity problem' : 'activity'} data-testid="activity">
            {activity}
          </span>
        )}
      </button>
      <span className="nums">
        <Elapsed s={s} offsetMs={p.offsetMs} />
        <span className="tok" data-testid="tokens">
          {fmtTokens(s.tokens)} tok
        </span>
        {!p.compact && (
          <span
            className={s.costEstimated ? 'cost est' : 'cost'}
            data-testid="cost"
            title={s.costEstimated ? ESTIMATED_COST_TITLE : undefined}
          >
            {fmtCostMarked(s.costUsd, s.costEstimated)}
          </span>
        )}
        {s.toolErrors > 0 && <span className="errs">{s.toolErrors} err</span>}
      </span>
    </li>
  );
});

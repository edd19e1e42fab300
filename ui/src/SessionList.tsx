/** The live list of sessions; sub-agents indent under their parent. Rows re-render only when their summary changes. */
import { memo, type ReactNode, useState } from 'react';
import type { SessionSummary } from '../../src/server/summary.js';
import { Badge, channelText, Elapsed, LiveNote, sessionTitle } from './bits.js';
import { fmtCost, fmtTokens } from './format.js';
import type { Row } from './tree.js';

interface Props {
  rows: Row[];
  offsetMs: number;
  selected?: string;
  compact: boolean;
  /** a source is down or blind: "no sessions" says why instead of promising they will come */
  blind?: boolean;
  onSelect: (key: string) => void;
}

/** rows drawn at first: problems sort first, so the cut only hides finished or quiet sessions */
const PAGE = 200;

export function SessionList({ rows, offsetMs, selected, compact, blind, onSelect }: Props) {
  const [limit, setLimit] = useState(PAGE);
  if (!rows.length) {
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
    <ul className={compact ? 'sessions compact' : 'sessions'} data-testid="sessions">
      {rows.slice(0, limit).map((r) => (
        <SessionRow
          key={r.s.key}
          s={r.s}
          depth={r.depth}
          context={r.context}
          offsetMs={offsetMs}
          selected={r.s.key === selected}
          compact={compact}
          onSelect={onSelect}
        />
      ))}
      {rows.length > limit && (
        <li className="more">
          <button type="button" onClick={() => setLimit(limit + PAGE)}>
            show {Math.min(PAGE, rows.length - limit)} more of {rows.length - limit} hidden sessions
          </button>
        </li>
      )}
    </ul>
  );
}

const SessionRow = memo(function SessionRow(p: {
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
      className={`row st-${s.status}${p.selected ? ' selected' : ''}${p.context ? ' context' : ''}`}
      style={{ paddingLeft: `${0.75 + p.depth * 1.25}rem` }}
      data-key={s.key}
      data-status={s.status}
    >
      <button type="button" className="row-main" onClick={() => p.onSelect(s.key)}>
        <span className="row-head">
          {p.depth > 0 && <span className="branch">↳</span>}
          <Badge status={s.status} />
          <span className="title" title={s.key}>
            {sessionTitle(s)}
          </span>
          <span className="agent">{s.agentId}</span>
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
        {!p.compact && <span className="cost">{fmtCost(s.costUsd)}</span>}
        {s.toolErrors > 0 && <span className="errs">{s.toolErrors} err</span>}
      </span>
    </li>
  );
});

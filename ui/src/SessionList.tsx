/** The live list of sessions; sub-agents indent under their parent. Rows re-render only when their summary changes. */
import { memo, useState } from 'react';
import type { SessionSummary } from '../../src/server/summary.js';
import { Badge, channelText, Elapsed, sessionTitle } from './bits.js';
import { fmtCost, fmtTokens } from './format.js';
import type { Row } from './tree.js';

interface Props {
  rows: Row[];
  offsetMs: number;
  selected?: string;
  compact: boolean;
  onSelect: (key: string) => void;
}

/** rows drawn at first: problems sort first, so the cut only hides finished or quiet sessions */
const PAGE = 200;

export function SessionList({ rows, offsetMs, selected, compact, onSelect }: Props) {
  const [limit, setLimit] = useState(PAGE);
  if (!rows.length) {
    return (
      <div className="empty">No sessions yet. They show up here as soon as an agent starts working.</div>
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
  const activity = problem
    ? s.note || s.lastError || s.lastText || ''
    : s.runningTool
      ? `running ${s.runningTool}…`
      : s.lastText || s.note || '';
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
          <span className={problem ? 'activity problem' : 'activity'}>{activity}</span>
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

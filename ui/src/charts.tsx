/** Inline SVG views (no chart library): tokens/cost over time and the tool timeline. */
import { useState } from 'react';
import type { ToolCallState } from '../../src/model/session.js';
import type { TokenPoint } from '../../src/server/summary.js';
import { fmtCost, fmtMs, fmtTime, fmtTokens } from './format.js';

const W = 600;
const H = 120;

/** cumulative tokens (area) and cost (line, own scale) as step curves */
export function TokenChart({ series, now, from }: { series: TokenPoint[]; now: number; from?: number }) {
  if (!series.length) return <div className="empty small">No token usage reported yet.</div>;
  const first = series[0] as TokenPoint;
  const last = series[series.length - 1] as TokenPoint;
  // the curve starts at zero when the session started, so the first call shows as a step up
  const t0 = Math.min(first.ts, from ?? first.ts);
  const t1 = Math.max(now, last.ts, t0 + 1000);
  const maxTok = Math.max(1, last.tokens);
  const maxCost = Math.max(1e-9, last.costUsd);
  const x = (t: number) => ((t - t0) / (t1 - t0)) * W;
  const yT = (v: number) => H - 4 - (v / maxTok) * (H - 12);
  const yC = (v: number) => H - 4 - (v / maxCost) * (H - 12);
  let tok = `M0 ${H - 4}`;
  let cost = `M0 ${H - 4}`;
  let prevT = H - 4;
  let prevC = H - 4;
  for (const p of series) {
    const px = x(p.ts).toFixed(1);
    const nt = yT(p.tokens);
    const nc = yC(p.costUsd);
    tok += ` L${px} ${prevT.toFixed(1)} L${px} ${nt.toFixed(1)}`;
    cost += ` L${px} ${prevC.toFixed(1)} L${px} ${nc.toFixed(1)}`;
    prevT = nt;
    prevC = nc;
  }
  tok += ` L${W} ${prevT.toFixed(1)}`;
  cost += ` L${W} ${prevC.toFixed(1)}`;
  return (
    <figure className="chart" data-testid="token-chart">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        preserveAspectRatio="none"
        role="img"
        aria-label="tokens and cost over time"
      >
        <line x1="0" x2={W} y1={H - 4} y2={H - 4} className="axis" />
        <path d={`${tok} L${W} ${H - 4} Z`} className="tok-area" />
        <path d={tok} className="tok-line" vectorEffect="non-scaling-stroke" />
        <path d={cost} className="cost-line" vectorEffect="non-scaling-stroke" />
      </svg>
      <figcaption>
        <span className="key tok-key">tokens {fmtTokens(last.tokens)}</span>
        <span className="key cost-key">cost {fmtCost(last.costUsd)}</span>
        <span className="muted">
          {fmtTime(t0)} – {fmtTime(t1)} · {series.length} model calls
        </span>
      </figcaption>
    </figure>
  );
}

/** the reported duration wins over event times (a source may stamp both ends alike) */
function endOf(t: ToolCallState, now: number): number {
  if (t.status === 'running') return Math.max(now, t.startedAt);
  if (t.durationMs !== undefined) return t.startedAt + t.durationMs;
  return t.endedAt ?? t.startedAt;
}

/**
 * each tool call as a bar on a shared time axis; running calls grow with the clock. The newest
 * 60 show; "show earlier calls" shows 100 more, fetching them (`onMore`) when `tools` has no
 * more of the `total` the session made.
 */
export function ToolTimeline({
  tools,
  now,
  total = tools.length,
  onMore,
}: {
  tools: readonly ToolCallState[];
  now: number;
  total?: number;
  onMore?: () => Promise<void>;
}) {
  const [limit, setLimit] = useState(60);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  if (!tools.length) return <div className="empty small">No tool calls yet.</div>;
  const shown = tools.slice(-limit);
  const hidden = Math.max(total, tools.length) - shown.length;
  const more = async () => {
    setError(undefined);
    if (tools.length <= limit && onMore) {
      setBusy(true);
      try {
        await onMore();
      } catch (err) {
        setError((err as Error).message);
        return;
      } finally {
        setBusy(false);
      }
    }
    setLimit(limit + 100);
  };
  const t0 = Math.min(...shown.map((t) => t.startedAt));
  const t1 = Math.max(t0 + 1000, ...shown.map((t) => endOf(t, now)));
  const span = t1 - t0;
  return (
    <ol className="timeline" data-testid="timeline">
      {hidden > 0 && (
        <li className="more">
          <button type="button" onClick={more} disabled={busy} data-testid="more-tools">
            {busy ? 'Loading…' : `Show earlier calls (${hidden} more)`}
          </button>
          {error && <span className="tl-err">{error}</span>}
        </li>
      )}
      {shown.map((t) => {
        const end = endOf(t, now);
        const dur = end - t.startedAt;
        const left = ((t.startedAt - t0) / span) * 100;
        const width = Math.max(0.6, ((end - t.startedAt) / span) * 100);
        return (
          <li key={`${t.runId}:${t.callId}`} className={`tl-row tl-${t.status}`} data-status={t.status}>
            <span className="tl-name" title={t.args}>
              <b>{t.name}</b> {t.args && <span className="muted">{t.args}</span>}
            </span>
            <span className="tl-track">
              <span
                className="tl-bar"
                style={{ left: `${left}%`, width: `${Math.min(width, 100 - left)}%` }}
              />
            </span>
            <span className="tl-dur">{t.status === 'running' ? `${fmtMs(dur)}…` : fmtMs(dur)}</span>
            {t.error && <span className="tl-err">{t.error}</span>}
          </li>
        );
      })}
    </ol>
  );
}

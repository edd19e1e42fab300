/** Inline SVG views (no chart library): tokens/cost over time and the tool timeline. */
import { useState } from 'react';
import type { TokenTotals, ToolCallState } from '../../src/model/session.js';
import { BUILTIN_TOOL_LABELS, toolLabel } from '../../src/render/tool-label-table.js';
import type { TokenPoint } from '../../src/server/summary.js';
import { ESTIMATED_COST_TITLE, fmtCostMarked, fmtMs, fmtTime, fmtTokens } from './format.js';

const W = 600;
const H = 140;
const TICKS = 4;

/** a round top for an axis and its step: 4 steps of 1, 2, 2.5 or 5 × 10^k */
export function niceScale(max: number): { top: number; step: number } {
  const raw = Math.max(max, Number.MIN_VALUE) / TICKS;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  return { top: step * TICKS, step };
}

function costTick(v: number, step: number): string {
  if (v === 0) return '$0';
  // as many decimals as the step needs to be exact ($0.025, $0.5, $2)
  let d = 0;
  while (d < 6 && Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) > 1e-6) d++;
  return `$${v.toFixed(Math.max(d, step < 1 ? 2 : 0))}`;
}

const SPLIT: { key: 'input' | 'output' | 'cache' | 'reasoning'; title: string }[] = [
  { key: 'input', title: 'input' },
  { key: 'output', title: 'output' },
  { key: 'cache', title: 'cache (read + write)' },
  { key: 'reasoning', title: 'reasoning' },
];

/**
 * cumulative tokens (area, left axis) and cost (dashed line, right axis, its own scale) as step
 * curves over a time axis, and below them how the tokens split into input, output, cache and
 * reasoning. Axis labels are HTML beside the SVG, so they stay legible however it stretches.
 */
export function TokenChart({
  series,
  now,
  from,
  split,
  costEstimated,
}: {
  series: TokenPoint[];
  now: number;
  from?: number;
  split?: TokenTotals;
  /** the session's cost was (partly) priced from the price table: the key says so */
  costEstimated?: boolean;
}) {
  if (!series.length) return <div className="empty small">No token usage reported yet.</div>;
  const first = series[0] as TokenPoint;
  const last = series[series.length - 1] as TokenPoint;
  // the curve starts at zero when the session started, so the first call shows as a step up
  const t0 = Math.min(first.ts, from ?? first.ts);
  const t1 = Math.max(now, last.ts, t0 + 1000);
  const tokScale = niceScale(Math.max(1, last.tokens));
  const costScale = niceScale(Math.max(1e-6, last.costUsd));
  const x = (t: number) => ((t - t0) / (t1 - t0)) * W;
  const yT = (v: number) => H - (v / tokScale.top) * H;
  const yC = (v: number) => H - (v / costScale.top) * H;
  let tok = `M0 ${H}`;
  let cost = `M0 ${H}`;
  let prevT = H;
  let prevC = H;
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
  const levels = Array.from({ length: TICKS + 1 }, (_, i) => i);
  const parts = split
    ? {
        input: split.input,
        output: split.output,
        cache: split.cacheRead + split.cacheWrite,
        reasoning: split.reasoning,
      }
    : undefined;
  const splitTotal = parts ? parts.input + parts.output + parts.cache + parts.reasoning : 0;
  return (
    <figure className="chart" data-testid="token-chart">
      <div className="chart-grid">
        <div className="y-axis y-tok" aria-hidden="true">
          <span className="axis-title">tokens</span>
          {levels.map((i) => (
            <span key={i} className="tick tick-tok" style={{ bottom: `${(i / TICKS) * 100}%` }}>
              {fmtTokens(i * tokScale.step)}
            </span>
          ))}
        </div>
        <div className="plot">
          <svg
            viewBox={`0 0 ${W} ${H}`}
            preserveAspectRatio="none"
            role="img"
            aria-label={`tokens (left axis, up to ${fmtTokens(tokScale.top)}) and cost (right axis, up to ${costTick(costScale.top, costScale.step)}) over time`}
          >
            {levels.map((i) => (
              <line
                key={i}
                x1="0"
                x2={W}
                y1={H - (i / TICKS) * H}
                y2={H - (i / TICKS) * H}
                className={i === 0 ? 'axis' : 'grid'}
                vectorEffect="non-scaling-stroke"
              />
            ))}
            <path d={`${tok} L${W} ${H} Z`} className="tok-area" />
            <path d={tok} className="tok-line" vectorEffect="non-scaling-stroke" />
            <path d={cost} className="cost-line" vectorEffect="non-scaling-stroke" />
          </svg>
        </div>
        <div className="y-axis y-cost" aria-hidden="true">
          <span className="axis-title">cost</span>
          {levels.map((i) => (
            <span key={i} className="tick tick-cost" style={{ bottom: `${(i / TICKS) * 100}%` }}>
              {costTick(i * costScale.step, costScale.step)}
            </span>
          ))}
        </div>
        <div className="x-axis" aria-hidden="true">
          {[0, 0.5, 1].map((f) => (
            <span key={f} className={`tick tick-time at-${f * 2}`} style={{ left: `${f * 100}%` }}>
              {fmtTime(t0 + f * (t1 - t0))}
            </span>
          ))}
        </div>
      </div>
      {parts && splitTotal > 0 && (
        <div className="split" role="img" aria-label="token split">
          {SPLIT.map(({ key }) =>
            parts[key] > 0 ? (
              <span
                key={key}
                className={`split-${key}`}
                style={{ width: `${(parts[key] / splitTotal) * 100}%` }}
                title={`${key} ${fmtTokens(parts[key])}`}
              />
            ) : null,
          )}
        </div>
      )}
      <figcaption>
        <span className="key tok-key">tokens {fmtTokens(last.tokens)}</span>
        <span
          className="key cost-key"
          data-testid="chart-cost"
          title={costEstimated ? ESTIMATED_COST_TITLE : undefined}
        >
          cost {fmtCostMarked(last.costUsd, costEstimated)}
        </span>
        {parts &&
          SPLIT.map(({ key, title }) => (
            <span key={key} className={`key split-key key-${key}`} title={title}>
              {key} {fmtTokens(parts[key])}
            </span>
          ))}
        <span className="muted">{series.length} model calls</span>
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
              <b>{toolLabel(t.name, BUILTIN_TOOL_LABELS)}</b>{' '}
              {t.args && <span className="muted">{t.args}</span>}
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

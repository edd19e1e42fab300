/**
 * The Usage view (`#usage`): what `clawpulse usage` reports, from `/api/usage`. Stacked bars per
 * day (tokens by kind, left axis) with the cost per day on its own axis (right, a line with its
 * values), this period against the previous one, the chosen grouping as a table, and the top
 * sessions and models. A cost clawpulse estimated (the source gave none) reads "~$0.12 est.".
 */
import { useCallback, useEffect, useState } from 'react';
import type { UsageRow, UsageTotals } from '../../src/store/usage-store.js';
import type { UsageReport } from '../../src/usage/report.js';
import { niceScale } from './charts.js';
import { fmtCost, fmtCostMarked, fmtDuration, fmtTokens } from './format.js';
import './usage.css';

const GROUPS = ['day', 'week', 'month', 'agent', 'model', 'channel', 'label', 'repo', 'host'] as const;
const PERIODS = [
  ['7d', 'last 7 days'],
  ['14d', 'last 14 days'],
  ['30d', 'last 30 days'],
  ['90d', 'last 90 days'],
] as const;
const KINDS = [
  ['input', 'input'],
  ['output', 'output'],
  ['cacheRead', 'cache read'],
  ['cacheWrite', 'cache write'],
  ['reasoning', 'reasoning'],
] as const;
const DAY = 86_400_000;

const readUsageRoute = (): boolean => window.location.hash === '#usage';

/** open while the address ends in #usage (a link, the back button and a reload keep it) */
export function useUsageRoute(): [boolean, (open: boolean) => void] {
  const read = readUsageRoute;
  const [open, setOpen] = useState(read);
  useEffect(() => {
    const on = () => setOpen(read());
    window.addEventListener('hashchange', on);
    window.addEventListener('popstate', on);
    return () => {
      window.removeEventListener('hashchange', on);
      window.removeEventListener('popstate', on);
    };
  }, []);
  const go = useCallback((o: boolean) => {
    const url = o ? `${window.location.pathname}#usage` : window.location.pathname;
    window.history.pushState(null, '', url);
    setOpen(o);
  }, []);
  return [open, go];
}

/** `$1.23`, or `~$1.23 est.` when part of it was estimated from the price table */
export function costText(t: Pick<UsageTotals, 'costUsd' | 'estimatedCostUsd'>): string {
  return fmtCostMarked(t.costUsd, t.estimatedCostUsd > 0);
}

function change(now: number, before: number | undefined): string {
  if (before === undefined) return '';
  if (before === 0) return now > 0 ? 'new' : '±0%';
  const r = (now - before) / before;
  return `${r >= 0 ? '+' : ''}${(r * 100).toFixed(Math.abs(r) < 0.1 && r !== 0 ? 1 : 0)}%`;
}

async function getReport(params: Record<string, string>): Promise<UsageReport> {
  const r = await fetch(`/api/usage?${new URLSearchParams(params)}`, { credentials: 'same-origin' });
  const body = (await r.json()) as UsageReport & { error?: { message: string } };
  if (!r.ok) throw new Error(body.error?.message ?? `HTTP ${r.status}`);
  return body;
}

interface Reports {
  days: UsageReport;
  group: UsageReport;
  sessions: UsageReport;
  models: UsageReport;
}

export function UsageView() {
  const [since, setSince] = useState<string>('7d');
  const [by, setBy] = useState<(typeof GROUPS)[number]>('agent');
  const [data, setData] = useState<Reports>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    let gone = false;
    setError(undefined);
    Promise.all([
      getReport({ by: 'day', since, compare: 'previous' }),
      getReport({ by, since, compare: 'previous' }),
      getReport({ by: 'session', since, limit: '10' }),
      getReport({ by: 'model', since, limit: '10' }),
    ])
      .then(([days, group, sessions, models]) => {
        if (!gone) setData({ days, group, sessions, models });
      })
      .catch((err: Error) => {
        if (!gone) setError(err.message);
      });
    return () => {
      gone = true;
    };
  }, [since, by]);

  return (
    <section className="pane usage" aria-label="usage" data-testid="usage-view">
      <div className="usage-controls">
        <h2>Usage</h2>
        <select aria-label="period" value={since} onChange={(e) => setSince(e.target.value)}>
          {PERIODS.map(([v, t]) => (
            <option key={v} value={v}>
              {t}
            </option>
          ))}
        </select>
        <select aria-label="group by" value={by} onChange={(e) => setBy(e.target.value as typeof by)}>
          {GROUPS.map((g) => (
            <option key={g} value={g}>
              by {g}
            </option>
          ))}
        </select>
        {data && (
          <span className="muted small">
            {data.days.since} – {data.days.until} (UTC)
          </span>
        )}
      </div>
      {error && (
        <div className="banner lvl-error" role="alert">
          {error}
        </div>
      )}
      {!data && !error && <div className="empty small">Loading…</div>}
      {data && (
        <>
          <Compare report={data.days} />
          <DayChart report={data.days} />
          <h3>By {by}</h3>
          <UsageTable report={data.group} testid="usage-group" />
          <div className="usage-tops">
            <div>
              <h3>Top sessions</h3>
              <UsageTable report={data.sessions} testid="usage-top-sessions" brief />
            </div>
            <div>
              <h3>Top models</h3>
              <UsageTable report={data.models} testid="usage-top-models" brief />
            </div>
          </div>
        </>
      )}
    </section>
  );
}

/** this period's totals against the previous period of the same length */
function Compare({ report }: { report: UsageReport }) {
  const t = report.total;
  const p = report.previous?.total;
  const tiles: Array<[string, string, string, string]> = [
    ['cost', costText(t), p ? costText(p) : '', change(t.costUsd, p?.costUsd)],
    [
      'tokens',
      fmtTokens(t.totalTokens),
      p ? fmtTokens(p.totalTokens) : '',
      change(t.totalTokens, p?.totalTokens),
    ],
    ['runs', String(t.runs), p ? String(p.runs) : '', change(t.runs, p?.runs)],
    ['tool calls', String(t.toolCalls), p ? String(p.toolCalls) : '', change(t.toolCalls, p?.toolCalls)],
    ['errors', String(t.errors), p ? String(p.errors) : '', change(t.errors, p?.errors)],
    ['active', fmtDuration(t.activeMs), p ? fmtDuration(p.activeMs) : '', change(t.activeMs, p?.activeMs)],
  ];
  return (
    <div className="usage-compare" data-testid="usage-compare">
      {tiles.map(([name, now, before, delta]) => (
        <div key={name} className="usage-tile" data-tile={name}>
          <span className="muted small">{name}</span>
          <b>{now}</b>
          {report.previous && (
            <span className="small">
              <span className="muted">previous {before}</span>{' '}
              <span className={delta.startsWith('+') ? 'up' : delta.startsWith('-') ? 'down' : ''}>
                {delta}
              </span>
            </span>
          )}
        </div>
      ))}
    </div>
  );
}

const W = 600;
const H = 160;

/** every day of the period, the days without usage as zeros */
function everyDay(report: UsageReport): UsageRow[] {
  const by = new Map(report.rows.map((r) => [r.key, r]));
  const out: UsageRow[] = [];
  const end = Date.parse(`${report.until}T00:00:00Z`);
  for (let t = Date.parse(`${report.since}T00:00:00Z`); t <= end; t += DAY) {
    const key = new Date(t).toISOString().slice(0, 10);
    out.push(
      by.get(key) ?? {
        key,
        input: 0,
        output: 0,
        cacheRead: 0,
        cacheWrite: 0,
        reasoning: 0,
        totalTokens: 0,
        costUsd: 0,
        estimatedCostUsd: 0,
        runs: 0,
        toolCalls: 0,
        failedTools: 0,
        errors: 0,
        activeMs: 0,
        sessions: 0,
      },
    );
  }
  return out;
}

/** stacked bars of tokens by kind per day (left axis), cost per day as a line with values (right axis) */
function DayChart({ report }: { report: UsageReport }) {
  const days = everyDay(report);
  const tok = niceScale(Math.max(1, ...days.map((d) => d.totalTokens)));
  const cost = niceScale(Math.max(1e-6, ...days.map((d) => d.costUsd)));
  const slot = W / days.length;
  const bar = Math.max(2, slot * 0.6);
  const levels = [0, 1, 2, 3, 4];
  const cx = (i: number) => i * slot + slot / 2;
  const cy = (v: number) => H - (v / cost.top) * H;
  const line = days
    .map((d, i) => `${i ? 'L' : 'M'}${cx(i).toFixed(1)} ${cy(d.costUsd).toFixed(1)}`)
    .join(' ');
  return (
    <figure className="chart usage-chart" data-testid="usage-chart">
      <div className="chart-grid usage-grid">
        <div className="y-axis y-tok" aria-hidden="true">
          <span className="axis-title">tokens</span>
          {levels.map((i) => (
            <span key={i} className="tick tick-tok" style={{ bottom: `${i * 25}%` }}>
              {fmtTokens(i * tok.step)}
            </span>
          ))}
        </div>
        <div className="plot">
          <svg
            viewBox={`0 0 ${W} ${H}`}
            preserveAspectRatio="none"
            role="img"
            aria-label={`tokens by kind per day (left axis, up to ${fmtTokens(tok.top)}) and cost per day (right axis, up to ${fmtCost(cost.top)})`}
          >
            {levels.map((i) => (
              <line
                key={i}
                x1="0"
                x2={W}
                y1={H - (i / 4) * H}
                y2={H - (i / 4) * H}
                className={i === 0 ? 'axis' : 'grid'}
                vectorEffect="non-scaling-stroke"
              />
            ))}
            {days.map((d, i) => {
              let y = H;
              return (
                <g key={d.key} data-day={d.key}>
                  <title>{`${d.key}: ${fmtTokens(d.totalTokens)} tokens, ${costText(d)}`}</title>
                  {KINDS.map(([k]) => {
                    const h = (d[k] / tok.top) * H;
                    y -= h;
                    return h > 0 ? (
                      <rect key={k} className={`bar-${k}`} x={cx(i) - bar / 2} y={y} width={bar} height={h} />
                    ) : null;
                  })}
                </g>
              );
            })}
            <path d={line} className="cost-line usage-cost" vectorEffect="non-scaling-stroke" />
          </svg>
          {/* the cost of each day beside its point: HTML, so it stays legible however the SVG stretches */}
          {days.map((d, i) =>
            d.costUsd > 0 ? (
              <span
                key={d.key}
                className="cost-value"
                data-testid="cost-value"
                style={{ left: `${(cx(i) / W) * 100}%`, bottom: `${(1 - cy(d.costUsd) / H) * 100}%` }}
              >
                {costText(d)}
              </span>
            ) : null,
          )}
        </div>
        <div className="y-axis y-cost" aria-hidden="true">
          <span className="axis-title">cost</span>
          {levels.map((i) => (
            <span key={i} className="tick tick-cost" style={{ bottom: `${i * 25}%` }}>
              {fmtCost(i * cost.step)}
            </span>
          ))}
        </div>
        <div className="x-axis usage-days" aria-hidden="true">
          {days.map((d, i) =>
            days.length <= 16 || i % Math.ceil(days.length / 12) === 0 ? (
              <span key={d.key} className="tick" style={{ left: `${(cx(i) / W) * 100}%` }}>
                {d.key.slice(5)}
              </span>
            ) : null,
          )}
        </div>
      </div>
      <figcaption>
        {KINDS.map(([k, title]) => (
          <span key={k} className={`key key-bar-${k}`}>
            {title} {fmtTokens(report.total[k])}
          </span>
        ))}
        <span className="key cost-key">cost {costText(report.total)}</span>
      </figcaption>
    </figure>
  );
}

function UsageTable({ report, testid, brief }: { report: UsageReport; testid: string; brief?: boolean }) {
  if (!report.rows.length) return <div className="empty small">No usage in this period.</div>;
  const prev = report.previous?.byKey;
  const name = (k: string) => k || (report.by === 'model' || report.by === 'repo' ? '(unknown)' : '(none)');
  return (
    <table className="usage-table" data-testid={testid}>
      <thead>
        <tr>
          <th>{report.by}</th>
          <th>tokens</th>
          {!brief && KINDS.map(([k, t]) => <th key={k}>{t}</th>)}
          <th>cost</th>
          {prev && <th>previous</th>}
          <th>runs</th>
          {!brief && (
            <>
              <th>tools</th>
              <th>failed</th>
              <th>errors</th>
              <th>active</th>
            </>
          )}
        </tr>
      </thead>
      <tbody>
        {report.rows.map((r) => {
          const p = prev?.[r.key];
          return (
            <tr key={r.key}>
              <td className="usage-key" title={r.key}>
                {name(r.key)}
              </td>
              <td>{fmtTokens(r.totalTokens)}</td>
              {!brief && KINDS.map(([k]) => <td key={k}>{fmtTokens(r[k])}</td>)}
              <td className={r.estimatedCostUsd > 0 ? 'est' : ''}>{costText(r)}</td>
              {prev && <td>{p ? `${costText(p)} ${change(r.costUsd, p.costUsd)}` : '–'}</td>}
              <td>{r.runs}</td>
              {!brief && (
                <>
                  <td>{r.toolCalls}</td>
                  <td>{r.failedTools}</td>
                  <td>{r.errors}</td>
                  <td>{fmtDuration(r.activeMs)}</td>
                </>
              )}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

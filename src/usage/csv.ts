/** A usage report as CSV (`clawpulse usage --csv`, `/api/usage?format=csv`). */
import type { UsageReport } from './report.js';

const CSV_COLS = [
  'input',
  'output',
  'cacheRead',
  'cacheWrite',
  'reasoning',
  'totalTokens',
  'costUsd',
  'estimatedCostUsd',
  'runs',
  'toolCalls',
  'failedTools',
  'errors',
  'activeMs',
  'sessions',
] as const;

const csvCell = (v: string | number): string => {
  const s = typeof v === 'number' ? String(Math.round(v * 1e9) / 1e9) : v;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** one header line, then a row per group; with a comparison, the previous cost and tokens per group */
export function formatUsageCsv(r: UsageReport): string {
  const cmp = r.previous && !['day', 'week', 'month'].includes(r.by);
  const head = [r.by, ...CSV_COLS, ...(cmp ? ['prevCostUsd', 'prevTotalTokens'] : [])];
  const lines = [head.join(',')];
  for (const row of r.rows) {
    const line: Array<string | number> = [row.key, ...CSV_COLS.map((c) => row[c])];
    if (cmp) {
      const p = r.previous?.byKey[row.key];
      line.push(p?.costUsd ?? 0, p?.totalTokens ?? 0);
    }
    lines.push(line.map(csvCell).join(','));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * `clawpulse usage`: tokens by kind, cost (estimated part marked), runs, tool calls, failed
 * tools, errors and active time, grouped by day/week/month/agent/model/channel/label/repo/host
 * over a period of whole UTC days, from the store's usage aggregate (`src/store/usage-store.ts`);
 * `--compare previous` adds the period of the same length before it and the change.
 *
 * Reads the store directly (the aggregate is in it, whether or not a daemon runs):
 * - SQLite: first folds any stored events not folded yet (a store from before this feature is
 *   backfilled here too; with a daemon running there is nothing left to fold but what its open
 *   group holds, committed within a second);
 * - the shared PostgreSQL store (CLAWPULSE_STORE=postgres://…, or --db): every host's usage, as
 *   each host's daemon folded it, opened as a reader (`openStore` role 'cli': no host lease, so
 *   it runs beside this host's daemon). It folds nothing: each daemon folds its own host's events
 *   (within a second of storing them, and at its start what a crash left).
 */
import { existsSync } from 'node:fs';
import type { Config } from '../config/config.js';
import { formatCostMarked, formatDuration, formatTokens } from '../render/format.js';
import { openStore, storeName } from '../store/open-store.js';
import { createSqliteStore } from '../store/sqlite-store.js';
import type { UsageRow, UsageTotals } from '../store/usage-store.js';
import { formatUsageCsv } from '../usage/csv.js';
import {
  buildUsageReport,
  parseUsageParams,
  type RawUsageParams,
  UsageParamError,
  type UsageParams,
  type UsageReport,
} from '../usage/report.js';

export interface UsageCliOptions extends RawUsageParams {
  json?: boolean;
  csv?: boolean;
}

const out = (s: string): void => {
  process.stdout.write(s);
};

/** `~$0.12 est.` when the whole cost or part of it was estimated */
const costCell = (t: UsageTotals): string =>
  formatCostMarked(t.costUsd, t.estimatedCostUsd > 0) || (t.totalTokens > 0 ? '$0' : '-');

const keyCell = (by: string, k: string): string =>
  k || (by === 'model' || by === 'repo' ? '(unknown)' : '(none)');

const pct = (r: number | undefined): string =>
  r === undefined ? 'new' : `${r >= 0 ? '+' : ''}${(r * 100).toFixed(r !== 0 && Math.abs(r) < 0.1 ? 1 : 0)}%`;

const HEAD = [
  'SESS',
  'INPUT',
  'OUTPUT',
  'CACHE R',
  'CACHE W',
  'REASON',
  'COST',
  'RUNS',
  'TOOLS',
  'FAILED',
  'ERRORS',
  'ACTIVE',
];

function cells(t: UsageTotals): string[] {
  return [
    String(t.sessions),
    formatTokens(t.input),
    formatTokens(t.output),
    formatTokens(t.cacheRead),
    formatTokens(t.cacheWrite),
    formatTokens(t.reasoning),
    costCell(t),
    String(t.runs),
    String(t.toolCalls),
    String(t.failedTools),
    String(t.errors),
    formatDuration(t.activeMs),
  ];
}

function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) {
    for (const [i, c] of r.entries()) widths[i] = Math.max(widths[i] ?? 0, [...c].length);
  }
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function formatUsageTable(r: UsageReport): string {
  const prev = r.previous;
  const cmp = prev && !['day', 'week', 'month'].includes(r.by);
  const head = [r.by.toUpperCase(), ...HEAD, ...(cmp ? ['PREV COST', 'CHANGE'] : [])];
  const body = r.rows.map((row: UsageRow) => {
    const line = [keyCell(r.by, row.key), ...cells(row)];
    if (cmp) {
      const p = prev.byKey[row.key];
      line.push(
        p ? costCell(p) : '-',
        pct(p && p.costUsd > 0 ? (row.costUsd - p.costUsd) / p.costUsd : undefined),
      );
    }
    return line;
  });
  const total = [
    'TOTAL',
    ...cells(r.total),
    ...(cmp ? [costCell(prev.total), pct(r.change?.costRatio)] : []),
  ];
  const lines = [`usage ${r.since} .. ${r.until} (UTC) by ${r.by}`, table([head, ...body, total])];
  if (prev && r.change) {
    lines.push(
      `previous ${prev.since} .. ${prev.until}: ${costCell(prev.total)}, ${formatTokens(prev.total.totalTokens)} tokens, ${prev.total.runs} runs, ${prev.total.errors} errors`,
      `change: cost ${pct(r.change.costRatio)} (${r.change.costUsd >= 0 ? '+' : '-'}$${Math.abs(r.change.costUsd).toFixed(2)}), tokens ${pct(r.change.tokensRatio)}, runs ${r.change.runs >= 0 ? '+' : ''}${r.change.runs}, errors ${r.change.errors >= 0 ? '+' : ''}${r.change.errors}`,
    );
  }
  if (r.total.estimatedCostUsd > 0)
    lines.push(
      `~ est.: $${r.total.estimatedCostUsd.toFixed(2)} of the cost was estimated from the price table (the source gave none; PRICES_FILE overrides)`,
    );
  return `${lines.join('\n')}\n`;
}

/** the report of a SQLite store file (folding first what is not folded yet); undefined: no store */
export function sqliteUsageReport(dbPath: string, p: UsageParams): UsageReport | undefined {
  if (!existsSync(dbPath)) return undefined;
  const store = createSqliteStore(dbPath);
  try {
    const usage = store.usage();
    usage.catchUp();
    return buildUsageReport(usage, p);
  } finally {
    store.close();
  }
}

/** the report of the shared store: every host's rows, read without the host lease */
export function sharedUsageReport(config: Readonly<Config>, p: UsageParams): UsageReport {
  const store = openStore(config, { role: 'cli' });
  try {
    const usage = store.usage?.();
    if (!usage) throw new Error('this store keeps no usage aggregate');
    return buildUsageReport(usage, p);
  } finally {
    store.close();
  }
}

export async function runUsage(
  config: Readonly<Config>,
  o: UsageCliOptions,
  now = Date.now(),
): Promise<number> {
  let p: UsageParams;
  try {
    p = parseUsageParams(o, now);
  } catch (err) {
    if (err instanceof UsageParamError) {
      process.stderr.write(`clawpulse usage: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (o.json && o.csv) {
    process.stderr.write('clawpulse usage: --json or --csv, not both\n');
    return 2;
  }
  let report: UsageReport | undefined;
  if (config.store.engine === 'postgres') {
    try {
      report = sharedUsageReport(config, p);
    } catch (err) {
      const why = (err as Error).message;
      if (o.json) out(`${JSON.stringify({ error: why, store: storeName(config) })}\n`);
      else process.stderr.write(`clawpulse usage: cannot read the usage in ${storeName(config)}: ${why}\n`);
      return 1;
    }
  } else report = sqliteUsageReport(config.dbPath, p);
  if (!report) {
    if (o.json) out(`${JSON.stringify({ error: 'no store', store: config.dbPath })}\n`);
    else process.stderr.write(`clawpulse usage: no store yet at ${config.dbPath} (start clawpulse first)\n`);
    return 1;
  }
  if (o.json) out(`${JSON.stringify(report, null, 2)}\n`);
  else if (o.csv) out(formatUsageCsv(report));
  else if (!report.rows.length && !report.previous?.rows.length)
    out(`no usage stored for ${report.since} .. ${report.until} (UTC)\n`);
  else out(formatUsageTable(report));
  return 0;
}

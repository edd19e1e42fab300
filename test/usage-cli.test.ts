/**
 * `clawpulse usage` as a user runs it (node + tsx, a temp home): a store written before the
 * usage aggregate existed (so the command backfills it), JSON / CSV / table / --compare, and
 * bad parameters.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PulseEvent } from '../src/model/events.js';
import { createSqliteStore } from '../src/store/sqlite-store.js';
import { tempDir } from '../src/test-support/temp-dir.js';
import type { UsageReport } from '../src/usage/report.js';
import { relayTeamEvents, scanBy, utcDay } from './support/usage-fixture.js';

const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;
const home = tempDir('clawpulse-usage-cli-');

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'usage', ...args], {
    encoding: 'utf8',
    env: { ...process.env, LOG_LEVEL: 'silent', CLAWPULSE_HOME: home, ...env },
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

let events: PulseEvent[] = [];
let days: string[] = [];

beforeAll(() => {
  // stored without the aggregate (as by a clawpulse from before it): the command backfills
  const store = createSqliteStore(join(home, 'clawpulse.sqlite'));
  events = store.append(relayTeamEvents()).stored.map((s) => s.event);
  store.close();
  days = [...new Set(events.map(utcDay))].sort();
});

const period = () => ['--since', days[0] as string, '--until', days.at(-1) as string];

describe('clawpulse usage', () => {
  it('--json by day: every day of the store, equal to a scan of its events (cost to the cent)', () => {
    const r = cli(['--by', 'day', ...period(), '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.out) as UsageReport;
    const scan = scanBy(events, utcDay);
    expect(rep.rows.map((x) => x.key)).toEqual([...scan.keys()].sort());
    for (const row of rep.rows) {
      const s = scan.get(row.key);
      expect([row.input, row.output, row.cacheRead, row.runs, row.toolCalls]).toEqual([
        s?.input,
        s?.output,
        s?.cacheRead,
        s?.runs,
        s?.toolCalls,
      ]);
      expect(Math.round(row.costUsd * 100)).toBe(Math.round((s?.costUsd ?? 0) * 100));
    }
    const cost = [...scan.values()].reduce((a, s) => a + s.costUsd, 0);
    expect(rep.total.costUsd).toBeCloseTo(cost, 9);
    expect(rep.total.sessions).toBe(new Set(events.map((e) => e.sessionKey)).size);
    expect(rep.total.estimatedCostUsd).toBe(0);
    expect(rep.since).toBe(days[0]);
    expect(rep.until).toBe(days.at(-1));
  });

  it('--csv: a header and one row per group, the same figures as --json', () => {
    const json = JSON.parse(cli(['--by', 'model', ...period(), '--json']).out) as UsageReport;
    const r = cli(['--by', 'model', ...period(), '--csv']);
    expect(r.code).toBe(0);
    const [head, ...rows] = r.out.trim().split('\n');
    expect(head?.split(',').slice(0, 8)).toEqual([
      'model',
      'input',
      'output',
      'cacheRead',
      'cacheWrite',
      'reasoning',
      'totalTokens',
      'costUsd',
    ]);
    expect(rows).toHaveLength(json.rows.length);
    const demo = rows.find((l) => l.startsWith('demo-model,'))?.split(',');
    const jr = json.rows.find((x) => x.key === 'demo-model');
    expect(Number(demo?.[1])).toBe(jr?.input);
    expect(Number(demo?.[7])).toBeCloseTo(jr?.costUsd ?? -1, 9);
  });

  it('--compare previous: the period of the same length before, and the change', () => {
    const mid = days[3] as string;
    const args = ['--by', 'agent', '--since', mid, '--until', days.at(-1) as string, '--compare', 'previous'];
    const rep = JSON.parse(cli([...args, '--json']).out) as UsageReport;
    const len = days.length - 3;
    expect(rep.previous?.until).toBe(days[2]);
    const inPrev = events.filter((e) => utcDay(e) < mid && utcDay(e) >= (rep.previous?.since as string));
    const prevCost = [...scanBy(inPrev, utcDay).values()].reduce((a, s) => a + s.costUsd, 0);
    expect(rep.previous?.total.costUsd).toBeCloseTo(prevCost, 9);
    expect(rep.change?.costUsd).toBeCloseTo(rep.total.costUsd - prevCost, 9);
    expect(rep.change?.costRatio).toBeCloseTo((rep.total.costUsd - prevCost) / prevCost, 9);
    expect(Date.parse(rep.previous?.until as string) - Date.parse(rep.previous?.since as string)).toBe(
      (len - 1) * 86_400_000,
    );
    const table = cli(args);
    expect(table.code).toBe(0);
    expect(table.out).toMatch(
      /^AGENT +SESS +INPUT +OUTPUT +CACHE R +CACHE W +REASON +COST .* PREV COST +CHANGE$/m,
    );
    expect(table.out).toMatch(/^main +\d+ /m);
    expect(table.out).toMatch(/^TOTAL /m);
    expect(table.out).toMatch(/^change: cost [+-][\d.]+% \([+-]\$\d+\.\d\d\), tokens [+-][\d.]+%/m);
  });

  it('the table names unknown groups and ends with the total', () => {
    const r = cli(['--by', 'label', ...period()]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^usage \d{4}-\d\d-\d\d \.\. \d{4}-\d\d-\d\d \(UTC\) by label$/m);
    expect(r.out).toMatch(/^pr-412 tests +1 /m);
    expect(r.out).toMatch(/^\(none\) /m);
    expect(r.out.trim().split('\n').at(-1)).toMatch(/^TOTAL +6 /);
  });

  it('bad parameters exit 2 and say what was expected; no store exits 1', () => {
    const by = cli(['--by', 'planet']);
    expect(by.code).toBe(2);
    expect(by.err).toMatch(/--by planet: expected one of day, week, month, agent, model/);
    const since = cli(['--since', 'yesterday']);
    expect(since.code).toBe(2);
    expect(since.err).toMatch(/--since yesterday: expected a number of days back \(7d, 2w\) or a date/);
    expect(cli(['--since', '2026-02-30']).err).toMatch(/not a date/);
    expect(cli(['--since', '2026-12-09', '--until', '2026-12-01']).code).toBe(2);
    expect(cli(['--json', '--csv']).code).toBe(2);
    const none = cli([], { CLAWPULSE_HOME: tempDir('clawpulse-empty-') });
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/no store yet at .*clawpulse\.sqlite/);
  });
});

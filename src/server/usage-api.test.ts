/**
 * /api/usage (the CLI's report, same parameters) and the clawpulse_usage_* counters on /metrics,
 * over a real SQLite store holding the demo's recorded sessions.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relayTeamEvents, scanBy, utcDay } from '../../test/support/usage-fixture.js';
import { silentLogger } from '../infra/logger.js';
import type { PulseEvent } from '../model/events.js';
import { createSqliteStore, type SqliteStore } from '../store/sqlite-store.js';
import { tempDir } from '../test-support/temp-dir.js';
import type { UsageReport } from '../usage/report.js';
import { renderMetrics } from './metrics.js';
import { createUsageRoutes, usageMetrics } from './usage-api.js';

let store: SqliteStore;
let events: PulseEvent[];
let days: string[];

beforeAll(() => {
  store = createSqliteStore(join(tempDir('clawpulse-usage-api-'), 'store.sqlite'));
  const stored = store.append(relayTeamEvents()).stored;
  store.usage().record(stored);
  events = stored.map((s) => s.event);
  days = [...new Set(events.map(utcDay))].sort();
});
afterAll(() => store.close());

const app = () => createUsageRoutes({ store, now: () => Date.parse(`${days.at(-1)}T12:00:00Z`) });

describe('/api/usage', () => {
  it('answers the report of the period asked, as the CLI computes it', async () => {
    const res = await app().request(`/usage?by=day&since=${days.length}d`);
    expect(res.status).toBe(200);
    const rep = (await res.json()) as UsageReport;
    expect(rep.rows.map((r) => r.key)).toEqual(days);
    const cost = [...scanBy(events, utcDay).values()].reduce((a, s) => a + s.costUsd, 0);
    expect(rep.total.costUsd).toBeCloseTo(cost, 9);
    const cmp = (await (
      await app().request('/usage?by=model&since=3d&compare=previous')
    ).json()) as UsageReport;
    expect(cmp.previous?.until).toBe(days.at(-4));
    expect(cmp.change?.costUsd).toBeCloseTo(cmp.total.costUsd - (cmp.previous?.total.costUsd ?? 0), 9);
    const top = (await (
      await app().request(`/usage?by=session&since=${days[0]}&limit=2`)
    ).json()) as UsageReport;
    expect(top.rows).toHaveLength(2);
    expect(top.rows[0]?.costUsd).toBeGreaterThanOrEqual(top.rows[1]?.costUsd ?? 0);
  });

  it('CSV with format=csv; a bad parameter is a 400 saying what was expected', async () => {
    const csv = await app().request('/usage?by=agent&since=30d&format=csv');
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect((await csv.text()).split('\n')[1]).toMatch(/^main,\d+,/);
    const bad = await app().request('/usage?by=planet');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(
      /^by planet: expected one of/,
    );
    expect((await app().request('/usage?since=soon')).status).toBe(400);
    expect((await app().request('/usage?format=xml')).status).toBe(400);
    const none = createUsageRoutes({ store: {}, now: Date.now });
    expect((await none.request('/usage')).status).toBe(503);
  });
});

describe('/metrics usage counters', () => {
  it('per agent and model: tokens by kind, cost, estimated cost, runs, tool calls, errors (all time)', () => {
    const usage = usageMetrics(store, silentLogger);
    const text = renderMetrics(
      {
        pipeline: { ingested: 0, duplicates: 0, batches: 0, listenerErrors: 0 },
        sources: [],
        sinks: [],
        sessions: {} as never,
      },
      {
        clients: 0,
        accepted: 0,
        rejected: 0,
        droppedSlow: 0,
        behind: 0,
        queuedBytes: 0,
        cacheBytes: 0,
        storeReads: 0,
      } as never,
      usage,
    );
    const scan = scanBy(events, () => 'all').get('all');
    const input = [
      ...text.matchAll(/^clawpulse_usage_tokens_total\{agent="main",model="[^"]*",kind="input"\} (\d+)$/gm),
    ];
    expect(input.reduce((a, m) => a + Number(m[1]), 0)).toBe(scan?.input);
    expect(text).toMatch(/^# TYPE clawpulse_usage_cost_usd_total counter$/m);
    const cost = [
      ...text.matchAll(/^clawpulse_usage_cost_usd_total\{agent="main",model="[^"]*"\} ([\d.e-]+)$/gm),
    ];
    expect(cost.reduce((a, m) => a + Number(m[1]), 0)).toBeCloseTo(scan?.costUsd ?? -1, 6);
    const runs = [...text.matchAll(/^clawpulse_usage_runs_total\{agent="main",model="[^"]*"\} (\d+)$/gm)];
    expect(runs.reduce((a, m) => a + Number(m[1]), 0)).toBe(scan?.runs);
    expect(text).toMatch(/^clawpulse_usage_errors_total\{agent="main",model="[^"]*"\} \d+$/m);
    expect(text).toMatch(/^clawpulse_usage_estimated_cost_usd_total\{agent="main",model="demo-model"\} 0$/m);
  });
});

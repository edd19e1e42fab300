/**
 * The Usage view in real Chromium against a real daemon (SQLite store, HTTP on 127.0.0.1): the
 * demo's recorded sessions spread over the last six days, the same sessions a week earlier (the
 * previous period), and one session whose tokens came without a cost (priced by the daemon from
 * its price table, shown "~$… est."). Stacked bars per day with the cost per day on its own axis
 * and its values, this period against the previous one, groupings, top sessions and models.
 * The same session's cost is marked in the session list, its detail and the header's total.
 * The dashboard is built from the current sources into a folder of its own.
 * Screenshots: test-output/usage-light.png, usage-dark.png, usage-390.png,
 * usage-estimated-list.png, usage-estimated-session.png.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { type Daemon, startDaemon } from '../../src/daemon/daemon.js';
import { silentLogger } from '../../src/infra/logger.js';
import type { PulseEvent } from '../../src/model/events.js';
import type { UsageReport } from '../../src/usage/report.js';
import { relayTeamEvents } from '../support/usage-fixture.js';
import { launchBrowser, ROOT } from './browser.js';

const OUT = path.join(ROOT, 'test-output');
const DAY = 86_400_000;
const ESTIMATED = 'agent:main:cron:no-cost-report';
const TITLE = 'estimated from the price table: the source reported no cost';

let browser: Browser;
let daemon: Daemon;
let base: string;
let root: string;

function buildUi(dir: string): string {
  execFileSync(
    process.execPath,
    [
      path.join(ROOT, 'node_modules/vite/bin/vite.js'),
      'build',
      '--config',
      'ui/vite.config.ts',
      '--outDir',
      dir,
      '--emptyOutDir',
    ],
    { cwd: ROOT, stdio: 'pipe', timeout: 180_000 },
  );
  return dir;
}

/** the recorded sessions moved so the last one is today; `weeksBack` more weeks earlier, as other facts */
function recorded(weeksBack: number): PulseEvent[] {
  const events = relayTeamEvents();
  const last = Math.max(...events.map((e) => e.ts));
  const shift = Math.floor(Date.now() / DAY) * DAY - Math.floor(last / DAY) * DAY - weeksBack * 7 * DAY;
  return events.map((e) => ({ ...e, ts: e.ts + shift, dedupeKey: `${e.dedupeKey}/w${weeksBack}` }));
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'clawpulse-usage-e2e-'));
  const uiDir = buildUi(path.join(root, 'ui'));
  const stateDir = path.join(root, 'openclaw');
  fs.mkdirSync(stateDir, { recursive: true });
  const config = loadConfig({
    HOME: root,
    OPENCLAW_STATE_DIR: stateDir,
    CLAWPULSE_HOME: path.join(root, 'clawpulse'),
    SOURCES: 'files',
    HEALTH_PORT: 'any',
    LOG_LEVEL: 'silent',
  });
  daemon = await startDaemon(config, { logger: silentLogger, tickMs: 100, uiDir });
  base = `http://127.0.0.1:${daemon.port}`;
  // a week earlier only the first half of the sessions ran: the previous period costs less
  const before = recorded(1);
  const keys = [...new Set(before.map((e) => e.sessionKey))].sort().slice(0, 3);
  daemon.pipeline.ingest(before.filter((e) => keys.includes(e.sessionKey)));
  daemon.pipeline.ingest(recorded(0));
  const t = Date.now() - 60_000;
  const base0 = { source: 'demo', sessionKey: ESTIMATED, agentId: 'main' } as const;
  daemon.pipeline.ingest([
    { ...base0, type: 'session.seen', ts: t, dedupeKey: 'e1', label: 'no-cost report' },
    { ...base0, type: 'agent.started', ts: t, dedupeKey: 'e2', runId: 'r1' },
    {
      ...base0,
      type: 'llm.tokens',
      ts: t + 5000,
      dedupeKey: 'e3',
      runId: 'r1',
      input: 100_000,
      output: 5000,
      cacheRead: 0,
      cacheWrite: 0,
      reasoning: 0,
      costUsd: 0,
      model: 'claude-sonnet-4-5',
      provider: 'anthropic',
    },
    { ...base0, type: 'agent.finished', ts: t + 6000, dedupeKey: 'e4', runId: 'r1', outcome: 'ok' },
  ]);
  browser = await launchBrowser();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await daemon?.stop('test');
  fs.rmSync(root, { recursive: true, force: true });
});

async function open(opts: { width?: number; scheme?: 'light' | 'dark' } = {}): Promise<Page> {
  const ctx = await browser.newContext({
    viewport: { width: opts.width ?? 1280, height: 900 },
    colorScheme: opts.scheme ?? 'light',
  });
  const page = await ctx.newPage();
  await page.goto(base);
  await page.getByTestId('usage-link').click();
  await page.getByTestId('usage-chart').waitFor();
  return page;
}

describe('Usage view', () => {
  it('the API prices the session without a cost from the table and marks it estimated', async () => {
    const r = (await (await fetch(`${base}/api/usage?by=session&since=7d`)).json()) as UsageReport;
    const est = r.rows.find((x) => x.key === ESTIMATED);
    // claude-sonnet-4-5 lists at $3 input, $15 output per 1M tokens
    expect(est?.costUsd).toBeCloseTo(0.3 + 0.075, 9);
    expect(est?.estimatedCostUsd).toBeCloseTo(0.375, 9);
    expect(r.rows.length).toBe(7);
  });

  it('bars per day by kind with the cost per day on its own axis, the period against the previous one, tables', async () => {
    const page = await open();
    expect(page.url()).toMatch(/#usage$/);
    const chart = page.getByTestId('usage-chart');
    // 7 days of the period, each a stack; the recorded ones have input, output and cache read
    await expect.poll(() => chart.locator('g[data-day]').count()).toBe(7);
    expect(await chart.locator('rect.bar-input').count()).toBeGreaterThanOrEqual(5);
    expect(await chart.locator('rect.bar-cacheRead').count()).toBeGreaterThanOrEqual(4);
    const costs = await chart.getByTestId('cost-value').allTextContents();
    expect(costs.length).toBeGreaterThanOrEqual(5);
    for (const c of costs) expect(c).toMatch(/^~?\$\d+\.\d{2,4}( est\.)?$/);
    // today holds the estimated session: its value says so
    expect(costs.at(-1)).toMatch(/^~\$\d+\.\d\d est\.$/);
    expect(await chart.locator('.y-tok .tick').allTextContents()).toContain('0');
    expect((await chart.locator('.y-cost .tick').allTextContents()).at(-1)).toMatch(/^\$\d/);

    const cost = page.getByTestId('usage-compare').locator('[data-tile="cost"]');
    expect(await cost.textContent()).toMatch(/~\$\d+\.\d\d est\.previous \$\d+\.\d\d \+\d+%/);

    const group = page.getByTestId('usage-group');
    await expect.poll(() => group.locator('tbody tr').count()).toBe(1);
    expect(await group.locator('tbody tr').first().textContent()).toMatch(/^main/);
    await page.getByLabel('group by').selectOption('model');
    await expect
      .poll(() => group.locator('tbody tr td:first-child').allTextContents())
      .toEqual(expect.arrayContaining(['demo-model', 'claude-sonnet-4-5']));
    const sonnet = group.locator('tbody tr', { hasText: 'claude-sonnet-4-5' });
    expect(await sonnet.locator('td.est').textContent()).toBe('~$0.38 est.');

    const top = page.getByTestId('usage-top-sessions');
    expect(await top.locator('tbody tr').count()).toBe(7);
    // largest cost first; the failed postmortem made no model call: its run counts under (unknown)
    expect(
      await page.getByTestId('usage-top-models').locator('tbody td:first-child').allTextContents(),
    ).toEqual(['claude-sonnet-4-5', 'demo-model', '(unknown)']);
    fs.mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: path.join(OUT, 'usage-light.png'), fullPage: true });

    // the same button closes it: the sessions are back
    await page.getByTestId('usage-link').click();
    await expect.poll(() => page.getByTestId('usage-view').count()).toBe(0);
    expect(page.url()).not.toMatch(/#usage/);
  });

  it('marks the estimated cost in the session list row, the detail and the header tile too', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
    const page = await ctx.newPage();
    await page.goto(base);
    const row = page.locator(`li[data-key="${ESTIMATED}"]`);
    await row.waitFor();
    const cost = row.getByTestId('cost');
    expect(await cost.textContent()).toBe('~$0.38 est.');
    expect(await cost.getAttribute('title')).toBe(TITLE);
    // a session whose source gave its cost reads plain
    const plain = await page
      .locator(`li[data-key]:not([data-key="${ESTIMATED}"])`)
      .getByTestId('cost')
      .allTextContents();
    expect(plain.filter((c) => c !== '$0').length).toBeGreaterThan(0);
    for (const c of plain) expect(c).toMatch(/^\$\d/);
    // the header's total holds the estimated session: marked
    const total = page.getByTestId('total-cost');
    expect(await total.textContent()).toMatch(/^~\$\d+\.\d\d est\.$/);
    expect(await total.getAttribute('title')).toBe(TITLE);

    fs.mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: path.join(OUT, 'usage-estimated-list.png') });

    await row.locator('.row-main').click();
    const detail = page.getByTestId('detail-cost');
    await detail.waitFor();
    expect(await detail.textContent()).toBe('~$0.38 est.');
    expect(await detail.getAttribute('title')).toBe(TITLE);
    // its chart's key, its status box footer and its priced event say so too
    expect(await page.getByTestId('chart-cost').textContent()).toBe('cost ~$0.38 est.');
    expect(await page.getByTestId('statusbox').textContent()).toMatch(/\| ~\$0\.38 est\.$/m);
    await expect.poll(() => page.getByTestId('detail-events').textContent()).toContain('+105k · ~$0.38 est.');
    fs.mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: path.join(OUT, 'usage-estimated-session.png'), fullPage: true });
    await ctx.close();
  });

  it('reads in the dark theme and at 390 px without sideways scrolling', async () => {
    const dark = await open({ scheme: 'dark' });
    await dark.getByTestId('usage-group').waitFor();
    await dark.screenshot({ path: path.join(OUT, 'usage-dark.png'), fullPage: true });
    const narrow = await open({ width: 390 });
    await narrow.getByTestId('usage-group').waitFor();
    const overflow = await narrow.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await narrow.screenshot({ path: path.join(OUT, 'usage-390.png'), fullPage: true });
  });
});

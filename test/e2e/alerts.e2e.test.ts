/**
 * The Alerts view and badge in real Chromium against a real daemon (SQLite store, HTTP on
 * 127.0.0.1): a session over its budget (a warning and a critical alert firing) and a run that
 * failed and then succeeded (a resolved alert). The badge counts the firing alerts, the view
 * lists them first with value against threshold, the resolved one after, and a session link
 * opens that session. The dashboard is built from the current sources into a folder of its own.
 * Screenshots: test-output/alerts-light.png, alerts-dark.png, alerts-390.png.
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
import type { AlertsResponse } from '../../src/server/alerts-api.js';
import { launchBrowser, ROOT } from './browser.js';

const OUT = path.join(ROOT, 'test-output');
const spender = 'agent:main:cron:nightly-report';
const flaky = 'agent:ops:hook:deploy-check';

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

let n = 0;
const ev = (e: Record<string, unknown>): PulseEvent =>
  ({ source: 'demo', agentId: 'main', dedupeKey: `a${++n}`, ts: Date.now(), ...e }) as PulseEvent;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'clawpulse-alerts-e2e-'));
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
    BUDGET_SESSION_USD: '2',
  });
  daemon = await startDaemon(config, { logger: silentLogger, tickMs: 100, uiDir });
  base = `http://127.0.0.1:${daemon.port}`;
  daemon.pipeline.ingest([
    ev({ type: 'session.seen', sessionKey: spender, label: 'nightly-report' }),
    ev({ type: 'agent.started', sessionKey: spender, runId: 'r1' }),
    ev({
      type: 'llm.tokens',
      sessionKey: spender,
      runId: 'r1',
      input: 120_000,
      output: 8000,
      cacheRead: 0,
      cacheWrite: 0,
      reasoning: 0,
      costUsd: 2.35,
    }),
    ev({ type: 'agent.started', sessionKey: flaky, agentId: 'ops', runId: 'f1' }),
    ev({
      type: 'agent.finished',
      sessionKey: flaky,
      agentId: 'ops',
      runId: 'f1',
      outcome: 'error',
      error: '529 Overloaded',
    }),
  ]);
  daemon.pipeline.ingest([
    ev({ type: 'agent.started', sessionKey: flaky, agentId: 'ops', runId: 'f2' }),
    ev({ type: 'agent.finished', sessionKey: flaky, agentId: 'ops', runId: 'f2', outcome: 'ok' }),
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
    viewport: { width: opts.width ?? 1280, height: 820 },
    colorScheme: opts.scheme ?? 'light',
  });
  const page = await ctx.newPage();
  await page.goto(base);
  return page;
}

describe('Alerts view', () => {
  it('the API holds two firing budget alerts and one resolved run failure', async () => {
    const body = (await (await fetch(`${base}/api/alerts`)).json()) as AlertsResponse;
    expect(body.counts).toMatchObject({ firing: 2, resolved: 1 });
    expect(body.alerts.map((a) => `${a.state}:${a.rule}:${a.severity}`)).toEqual([
      expect.stringMatching(/^firing:budget:/),
      expect.stringMatching(/^firing:budget:/),
      'resolved:run-failed:warning',
    ]);
  });

  it('the badge counts the firing alerts; the view lists them first, the resolved after, and links the session', async () => {
    const page = await open();
    const badge = page.getByTestId('alerts-badge');
    await expect.poll(() => badge.getAttribute('data-firing'), { timeout: 15_000 }).toBe('2');
    expect(await badge.textContent()).toMatch(/2\s*alerts/);
    // a critical alert fires: the badge is the critical one
    expect(await badge.getAttribute('class')).toContain('crit');
    await badge.click();
    const view = page.getByTestId('alerts-view');
    await view.waitFor();
    const rows = view.getByTestId('alert-row');
    await expect.poll(() => rows.count()).toBe(3);
    expect(
      await rows.evaluateAll((els) =>
        els.map((e) => `${e.getAttribute('data-state')}:${e.getAttribute('data-rule')}`),
      ),
    ).toEqual(['firing:budget', 'firing:budget', 'resolved:run-failed']);
    const values = await view.getByTestId('alert-value').allTextContents();
    expect(values.slice(0, 2).sort()).toEqual(['$2.35 of $1.60', '$2.35 of $2.00']);
    const texts = await rows.allTextContents();
    expect(texts[0]).toMatch(/critical.*budget.*nightly-report.*budget reached/);
    expect(texts[2]).toMatch(/resolved.*run-failed.*deploy-check.*a later run finished/);
    fs.mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: path.join(OUT, 'alerts-light.png'), fullPage: true });

    // the session link opens that session; Escape (as the back control) returns to the alerts
    await rows.nth(0).getByRole('button', { name: 'nightly-report' }).click();
    await expect.poll(() => page.url()).toContain(`/session/${encodeURIComponent(spender)}`);
    await page.keyboard.press('Escape');
    await view.waitFor();
    // the badge closes the view again: the feed is back
    await badge.click();
    await expect.poll(() => view.count()).toBe(0);
  });

  it('reads in the dark theme and at 390 px without sideways scrolling', async () => {
    const dark = await open({ scheme: 'dark' });
    await dark.getByTestId('alerts-badge').click();
    await dark.getByTestId('alerts-view').getByTestId('alert-row').first().waitFor();
    await dark.screenshot({ path: path.join(OUT, 'alerts-dark.png'), fullPage: true });

    const narrow = await open({ width: 390 });
    await narrow.getByTestId('alerts-badge').click();
    await narrow.getByTestId('alerts-view').getByTestId('alert-row').first().waitFor();
    const overflow = await narrow.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await narrow.screenshot({ path: path.join(OUT, 'alerts-390.png'), fullPage: true });
  });
});

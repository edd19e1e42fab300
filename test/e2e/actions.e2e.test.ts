/**
 * Steer and Abort in real Chromium: the session view's controls call the write routes through
 * the real HTTP app (auth, cross-site checks) into a recording SessionActions. Screenshots of
 * the controls at 1440 and 390 px wide land in test-output/dashboard/ (gitignored).
 * The UI comes from ui/dist: rebuild it after changing ui/ (`npx vite build --config ui/vite.config.ts`).
 */
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ActionActor, ActionError, type SessionActions } from '../../src/dispatch/session-actions.js';
import { systemClock } from '../../src/infra/clock.js';
import { ensureUiBuilt, launchBrowser, SHOTS } from './browser.js';
import { createHarness, type Harness, sessionEvents } from './harness.js';

const RUNNING = 'agent:main:mattermost:channel:7hq2x';
const FINISHED = 'agent:ops:cron:nightly';
const TOKEN = 'e2e-dash-token-5d0c';

interface Call {
  action: 'steer' | 'abort';
  key: string;
  message?: string;
  actor: ActionActor;
}

/** records calls; `hold` makes the next steer wait for release(), `fail` makes calls throw it */
function recordingActions() {
  const calls: Call[] = [];
  const ctl: { fail?: Error; hold?: Promise<void> } = {};
  const actions: SessionActions = {
    async steer(key, message, actor) {
      calls.push({ action: 'steer', key, message, actor });
      await ctl.hold;
      if (ctl.fail) throw ctl.fail;
      return { mode: 'steer', runId: 'run-1' };
    },
    async abort(key, actor) {
      calls.push({ action: 'abort', key, actor });
      if (ctl.fail) throw ctl.fail;
      return { method: 'sessions.abort', runId: 'run-1', aborted: true };
    },
  };
  return { actions, calls, ctl };
}

const rec = recordingActions();
let h: Harness;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;
const consoleErrors: string[] = [];

beforeAll(async () => {
  const uiDir = ensureUiBuilt();
  h = await createHarness({ listen: true, uiDir, clock: systemClock, actions: rec.actions });
  const r = sessionEvents(RUNNING, 'main');
  h.pipeline.ingest([
    r.seen({ label: 'migrate the billing tables', channel: { provider: 'mattermost', channelId: '7hq2x' } }),
    r.started(),
    r.text('Reading the schema...'),
    r.tool('c1', 'exec', 'psql -c "\\d invoices"'),
    r.tokens(8200, 600, 0.041),
  ]);
  const f = sessionEvents(FINISHED, 'ops');
  h.pipeline.ingest([f.seen({ label: 'nightly backup check' }), f.started(), f.finished('ok')]);
  h.pipeline.tick(Date.now() + 61_000); // idle → done
  browser = await launchBrowser();
  ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'dark' });
  page = await ctx.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

const steerInput = () => page.getByLabel('Steer');
const result = () => page.locator('[data-testid="controls"] [role="status"]');

describe('steer and abort (Chromium)', () => {
  it('shows the controls only on a running session', async () => {
    await page.goto(h.url);
    await page.click(`li[data-key="${FINISHED}"] .row-main`);
    await page.waitForSelector('[data-testid="detail"][data-status="done"]');
    expect(await page.locator('[data-testid="controls"]').count()).toBe(0);
    await page.click(`li[data-key="${RUNNING}"] .row-main`);
    await page.waitForSelector('[data-testid="detail"][data-status="active"]');
    await steerInput().waitFor();
    expect(await page.getByRole('button', { name: 'Send' }).isDisabled()).toBe(true); // nothing typed
  });

  it('steers with Enter: disabled while sending, then shows the mode; errors show their text', async () => {
    let release = () => {};
    rec.ctl.hold = new Promise<void>((r) => {
      release = r;
    });
    await steerInput().fill('use the staging database, not prod');
    await steerInput().press('Enter');
    await page.getByRole('button', { name: 'Sending…' }).waitFor();
    expect(await steerInput().isDisabled()).toBe(true);
    release();
    rec.ctl.hold = undefined;
    await result().getByText('steered (steer)').waitFor();
    expect(await steerInput().inputValue()).toBe('');
    // focus comes back to the input, so the next message can be typed at once
    await page.waitForFunction(() => document.activeElement?.id === 'steer-input');
    expect(rec.calls).toHaveLength(1);
    const call = rec.calls[0];
    expect(call).toMatchObject({
      action: 'steer',
      key: RUNNING,
      message: 'use the staging database, not prod',
    });
    expect(call?.actor).toMatchObject({ ip: '127.0.0.1', via: 'dashboard' });
    expect(call?.actor.userAgent).toContain('Chrome');

    rec.ctl.fail = new ActionError('session is not running', 409);
    await page.keyboard.type('one more thing');
    await page.keyboard.press('Enter');
    await result().getByText('session is not running').waitFor();
    expect(await steerInput().inputValue()).toBe('one more thing'); // kept for a retry
    rec.ctl.fail = undefined;
    await steerInput().fill('');
  });

  it('aborts after a confirm step; No and Escape cancel, keyboard only', async () => {
    const before = rec.calls.length;
    await page.getByRole('button', { name: 'Abort' }).click();
    await page.getByText('Abort run?').waitFor();
    // focus lands on the safe answer
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('No');
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Abort' }).waitFor();
    expect(await page.locator('[data-testid="detail"]').count()).toBe(1); // Escape did not close the view
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Abort');
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'No' }).click();
    expect(rec.calls.length).toBe(before);

    await page.getByRole('button', { name: 'Abort' }).focus();
    await page.keyboard.press('Enter');
    await page.screenshot({ path: path.join(SHOTS, 'actions-confirm-1440-dark.png') });
    await page.keyboard.press('Shift+Tab'); // No → Yes
    await page.keyboard.press('Enter');
    await result().getByText('aborted (sessions.abort)').waitFor();
    expect(await result().textContent()).toBe('aborted (sessions.abort)'); // the old steer error is gone
    expect(rec.calls.slice(before)).toEqual([
      expect.objectContaining({
        action: 'abort',
        key: RUNNING,
        actor: expect.objectContaining({ via: 'dashboard' }),
      }),
    ]);
    await page.screenshot({ path: path.join(SHOTS, 'actions-1440-dark.png') });
  });

  it('fits at 390 px and in the light theme', async () => {
    await page.click('[data-testid="theme"]');
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
    await page.screenshot({ path: path.join(SHOTS, 'actions-1440-light.png') });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator('[data-testid="controls"]').scrollIntoViewIfNeeded();
    await steerInput().fill('wrap up and report');
    const box = await page.locator('[data-testid="controls"]').boundingBox();
    expect(box && box.x >= 0 && box.x + box.width <= 390).toBe(true);
    for (const name of ['Send', 'Abort']) {
      const b = await page.getByRole('button', { name }).boundingBox();
      expect(b && b.x >= 0 && b.x + b.width <= 390, name).toBe(true);
    }
    await page.screenshot({ path: path.join(SHOTS, 'actions-390-light.png') });
    await page.click('[data-testid="theme"]');
    await page.screenshot({ path: path.join(SHOTS, 'actions-390-dark.png') });
    await page.setViewportSize({ width: 1440, height: 900 });
    // the browser logs the refused steer (409) as a failed resource; nothing else may fail
    expect(consoleErrors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
  });

  it('with DASHBOARD_TOKEN: the login cookie carries the steer; no cookie, no steer', async () => {
    const t = await createHarness({
      listen: true,
      uiDir: ensureUiBuilt(),
      clock: systemClock,
      actions: rec.actions,
      http: { dashboardToken: TOKEN },
    });
    try {
      const r = sessionEvents(RUNNING, 'main');
      t.pipeline.ingest([r.seen({ label: 'migrate the billing tables' }), r.started()]);
      const p = await ctx.newPage();
      await p.goto(`${t.url}/login`);
      await p.fill('#token', TOKEN);
      await p.click('button[type="submit"]');
      await p.click(`li[data-key="${RUNNING}"] .row-main`);
      const before = rec.calls.length;
      await p.getByLabel('Steer').fill('authenticated steer');
      await p.getByLabel('Steer').press('Enter');
      await p.locator('[data-testid="controls"]').getByText('steered (steer)').waitFor();
      expect(rec.calls[before]?.message).toBe('authenticated steer');

      await ctx.clearCookies();
      await p.getByLabel('Steer').fill('after logout');
      await p.getByLabel('Steer').press('Enter');
      await p.locator('[data-testid="controls"]').getByText('a valid dashboard token is required').waitFor();
      expect(rec.calls.length).toBe(before + 1);
      await p.close();
    } finally {
      await t.close();
    }
  });
});

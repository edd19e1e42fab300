/** With DASHBOARD_TOKEN set, the browser signs in on /login and the live stream works on the cookie. */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/infra/clock.js';
import { ensureUiBuilt, launchBrowser } from './browser.js';
import { createHarness, type Harness, sessionEvents } from './harness.js';

const TOKEN = 'e2e-dashboard-token-5d9c';
let h: Harness;
let browser: Browser;

beforeAll(async () => {
  h = await createHarness({
    listen: true,
    uiDir: ensureUiBuilt(),
    clock: systemClock,
    http: { dashboardToken: TOKEN, host: '0.0.0.0' },
  });
  browser = await launchBrowser();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

describe('dashboard login (Chromium)', () => {
  it('redirects to the login form, signs in, and streams live on an HttpOnly cookie', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(h.url);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.fill('#token', 'not the token');
    await page.click('button[type="submit"]');
    await page.waitForSelector('[role="alert"]');
    await page.fill('#token', TOKEN);
    await page.click('button[type="submit"]');
    await page.waitForSelector('[data-testid="conn"]:has-text("live")');
    expect(await page.evaluate(() => document.cookie)).toBe(''); // HttpOnly: scripts cannot read it
    const ev = sessionEvents('agent:main:secure', 'main');
    h.pipeline.ingest([ev.seen({ label: 'behind the login' }), ev.started()]);
    await page.waitForSelector('li[data-key="agent:main:secure"] >> text=behind the login');
    expect(await page.content()).not.toContain(TOKEN);
  });
});

/**
 * Elapsed clocks tick in the page without any server message, in server time: the browser's
 * clock is Playwright's fake clock (moved by the test, never waited on) and is set 10 minutes
 * off the server's, which the page must correct for.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/infra/clock.js';
import { ensureUiBuilt, launchBrowser } from './browser.js';
import { createHarness, type Harness, sessionEvents } from './harness.js';

let h: Harness;
let browser: Browser;

beforeAll(async () => {
  h = await createHarness({ listen: true, uiDir: ensureUiBuilt(), clock: systemClock });
  browser = await launchBrowser();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

const seconds = (t: string) => {
  const m = /^(?:(\d+)m)?(\d+)s$/.exec(t.trim());
  return m ? Number(m[1] ?? 0) * 60 + Number(m[2]) : Number.NaN;
};

describe('elapsed clocks (Chromium, fake browser clock)', () => {
  it('tick for running sessions in server time and stand still for finished ones', async () => {
    const started = Date.now() - 90_000;
    const run = sessionEvents('agent:main:long', 'main', () => started);
    h.pipeline.ingest([run.seen({ label: 'long run' }), run.started()]);
    const fin = sessionEvents('agent:main:short', 'main', () => started);
    h.pipeline.ingest([fin.seen({ label: 'short run' }), fin.started(), fin.finished('error', 'boom')]);

    const page = await (await browser.newContext()).newPage();
    // the browser's clock runs 10 minutes behind the server's
    await page.clock.install({ time: Date.now() - 600_000 });
    await page.goto(h.url);
    await page.waitForSelector('li[data-key="agent:main:long"]');
    const read = (key: string) =>
      page.$eval(`li[data-key="${key}"] [data-testid="elapsed"]`, (e) => e.textContent ?? '');
    await page.clock.runFor(1000);
    const a = seconds(await read('agent:main:long'));
    expect(a).toBeGreaterThanOrEqual(90); // server time: ~90 s, not 90 s minus the 10 min skew
    expect(a).toBeLessThan(150);
    await page.clock.runFor(5000);
    expect(seconds(await read('agent:main:long'))).toBe(a + 5);
    expect(await read('agent:main:short')).toBe('0s');
  }, 30_000);
});

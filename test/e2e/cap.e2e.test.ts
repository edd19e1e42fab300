/**
 * At the stream client cap the server answers 503; the browser's EventSource then gives up,
 * and the dashboard must come back by itself (with ?after=) once a slot frees up.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/infra/clock.js';
import { ensureUiBuilt, launchBrowser } from './browser.js';
import { createHarness, type Harness, sessionEvents } from './harness.js';

let h: Harness;
let browser: Browser;

beforeAll(async () => {
  h = await createHarness({
    listen: true,
    uiDir: ensureUiBuilt(),
    clock: systemClock,
    http: { sseMaxClients: 1 },
  });
  browser = await launchBrowser();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

describe('stream client cap (Chromium)', () => {
  it('a refused page shows reconnecting, then goes live when a slot frees, without missing events', async () => {
    const first = await (await browser.newContext()).newPage();
    await first.goto(h.url);
    await first.waitForSelector('[data-testid="conn"]:has-text("live")');
    const second = await (await browser.newContext()).newPage();
    await second.goto(h.url);
    await second.waitForSelector('[data-testid="conn"]:has-text("reconnecting")');
    expect(h.sse.stats().rejected).toBeGreaterThanOrEqual(1);

    const ev = sessionEvents('agent:main:cap', 'main');
    h.pipeline.ingest([ev.seen({ label: 'capped' }), ev.started(), ev.text('while the second page waits')]);
    await first.close();
    // the page retries with a backoff (1 s, then doubling): bounded by the wait below
    await second.waitForSelector('[data-testid="conn"]:has-text("live")', { timeout: 15_000 });
    await second.waitForSelector('li[data-key="agent:main:cap"] >> text=capped');
    h.pipeline.ingest([ev.text('after the slot freed')]);
    await second.waitForSelector('[data-testid="feed"] >> text=after the slot freed');
  }, 40_000);
});

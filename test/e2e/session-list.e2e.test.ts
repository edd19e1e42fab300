/**
 * The virtualized session list in real Chromium against the real server (SQLite store, the
 * tracker keeping finished sessions as briefs): 5,000 sessions on three hosts; only the rows in
 * view are in the DOM, scrolling fetches the next pages, the host filter asks the server, rows
 * and the detail show host and gateway, and live changes still arrive.
 * Screenshots land in test-output/dashboard/ (gitignored).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/infra/clock.js';
import type { PulseEvent } from '../../src/model/events.js';
import { ensureUiBuilt, launchBrowser, SHOTS } from './browser.js';
import { createHarness, type Harness, sessionEvents } from './harness.js';

const N = 5000;
const key = (i: number) => `agent:main:task:${String(i).padStart(5, '0')}`;

let h: Harness;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

/** N finished sessions, session i's events i seconds older than session i-1's, on hosts h0..h2 */
function feed(h: Harness): void {
  const t0 = Date.now() - 10 * 60_000;
  for (let i = 0; i < N; i += 250) {
    const batch: PulseEvent[] = [];
    for (let j = i; j < Math.min(N, i + 250); j++) {
      const at = t0 - j * 1000;
      const e = sessionEvents(key(j), 'main', () => at);
      const where = { host: `h${j % 3}`, gateway: j % 2 ? 'gw-b' : 'gw-a' };
      batch.push(
        { ...e.seen({ label: `task ${j}` }), ...where },
        { ...e.started(), ...where },
        { ...e.text(`did step ${j}`), ...where },
        { ...e.finished(), ...where },
      );
    }
    h.pipeline.ingest(batch);
  }
  h.pipeline.tick(Date.now()); // idle past the timeout: done
  h.pipeline.flushSnapshots(); // the store holds their states: they can become briefs
}

const rowsInDom = () => page.$$eval('li[data-key]', (els) => els.length);

/** scrolls the list to its end until `selector` is in the DOM (pages load as the end shows) */
async function scrollUntil(selector: string): Promise<number> {
  for (let i = 0; i < 400; i++) {
    if (await page.$(selector)) return i;
    await page.$eval('section.list-pane', (el) => {
      el.scrollTop = el.scrollHeight;
    });
    await page.waitForTimeout(60);
  }
  throw new Error(`${selector} never showed`);
}

beforeAll(async () => {
  const uiDir = ensureUiBuilt();
  fs.mkdirSync(SHOTS, { recursive: true });
  h = await createHarness({ listen: true, uiDir, clock: systemClock, briefs: { afterMs: 1000, everyMs: 0 } });
  feed(h);
  await new Promise((r) => setTimeout(r, 1100));
  // each tick summarizes what 25 ms allow
  for (let i = 0; i < 200 && h.pipeline.tracker.briefCount() < N; i++) h.pipeline.tick(Date.now());
  expect(h.pipeline.tracker.briefCount()).toBe(N);
  browser = await launchBrowser();
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 }, colorScheme: 'dark' });
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

describe('virtualized session list (Chromium, 5,000 sessions)', () => {
  it('draws only the rows in view, and the counts are the whole model', async () => {
    await page.goto(h.url);
    await page.waitForSelector(`li[data-key="${key(0)}"]`);
    expect(await rowsInDom()).toBeLessThan(60);
    await page.waitForSelector('[data-testid="list-count"] >> text=5000 of 5000 sessions');
    expect(await page.textContent('[data-testid="counts"]')).toContain('5000');
    // rows say where each session lives
    expect(await page.textContent(`li[data-key="${key(0)}"] [data-testid="place"]`)).toBe('h0/gw-a');
  });

  it('scrolling to the end fetches the next pages until the oldest session', async () => {
    const scrolls = await scrollUntil(`li[data-key="${key(N - 1)}"]`);
    expect(scrolls).toBeGreaterThan(3); // several pages, not one answer
    expect(await rowsInDom()).toBeLessThan(60);
    expect(await page.$(`li[data-key="${key(0)}"]`)).toBeNull(); // scrolled out: not in the DOM
  });

  it('live changes arrive while scrolled: a finished session getting a new turn moves to the top', async () => {
    const e = sessionEvents(key(4321), 'main');
    h.pipeline.ingest([e.started(), e.text('back at work')]);
    await page.$eval('section.list-pane', (el) => {
      el.scrollTop = 0;
    });
    await page.waitForSelector(`li[data-key="${key(4321)}"][data-status="active"]`);
    const first = await page.$eval('li[data-key]', (el) => el.getAttribute('data-key'));
    expect(first).toBe(key(4321));
  });

  it('the host filter asks the server: only that host, every page of it', async () => {
    await page.selectOption('[data-testid="host-filter"]', 'h2');
    await page.waitForSelector('[data-testid="list-count"] >> text=/^1666 of 5000/');
    const hosts = await page.$$eval('li[data-key]', (els) => [
      ...new Set(els.map((e) => e.getAttribute('data-host'))),
    ]);
    expect(hosts).toEqual(['h2']);
    // the oldest h2 session, reached by paging the filtered list
    await scrollUntil(`li[data-key="${key(4997)}"]`);
    const after = await page.$$eval('li[data-key]', (els) => [
      ...new Set(els.map((e) => e.getAttribute('data-host'))),
    ]);
    expect(after).toEqual(['h2']);
    await page.$eval('section.list-pane', (el) => {
      el.scrollTop = 0;
    });
    await page.screenshot({ path: path.join(SHOTS, 'session-list-5k-host-h2.png') });
    await page.selectOption('[data-testid="host-filter"]', '');
    await page.waitForSelector('[data-testid="list-count"] >> text=5000 of 5000 sessions');
  });

  it('the detail of a brief shows its host, gateway and its status box from the store', async () => {
    await page.click(`li[data-key="${key(3)}"] .row-main`);
    await page.waitForSelector('[data-testid="detail-host"] >> text=h0');
    expect(await page.textContent('[data-testid="detail-gateway"]')).toBe('gw-b');
    expect(h.pipeline.tracker.briefCount()).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(SHOTS, 'session-list-5k-detail.png') });
    expect(consoleErrors).toEqual([]);
  });
});

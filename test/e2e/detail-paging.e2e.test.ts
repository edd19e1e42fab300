/**
 * A session bigger than its detail carries: the dashboard shows the newest tool calls and
 * events, fetches older ones a page at a time when asked, and stays live meanwhile.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/infra/clock.js';
import { ensureUiBuilt, launchBrowser } from './browser.js';
import { createHarness, type Harness, sessionEvents } from './harness.js';

const KEY = 'agent:main:paging';
const TOOLS = 250;
let h: Harness;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  h = await createHarness({ listen: true, uiDir: ensureUiBuilt(), clock: systemClock });
  const ev = sessionEvents(KEY, 'main');
  h.pipeline.ingest([ev.seen({ label: 'a long session' }), ev.started()]);
  for (let i = 0; i < TOOLS; i++) {
    h.pipeline.ingest([
      ev.text(`step ${i}`),
      ev.tool(`c${i}`, 'exec', `make step-${i}`),
      ev.toolOk(`c${i}`, 'exec'),
    ]);
  }
  browser = await launchBrowser();
  page = await (await browser.newContext()).newPage();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

const rows = (sel: string) => page.locator(sel).count();

describe('session detail paging (Chromium)', () => {
  it('shows the newest tool calls and events, loads older ones on demand, and stays live', async () => {
    await page.goto(`${h.url}/session/${encodeURIComponent(KEY)}`);
    await page.waitForSelector('[data-testid="detail"]');
    await page.getByText(`Tools (${TOOLS})`).waitFor();
    expect(await rows('[data-testid="timeline"] li.tl-row')).toBe(60);
    const moreTools = page.locator('[data-testid="more-tools"]');
    expect(await moreTools.textContent()).toBe(`Show earlier calls (${TOOLS - 60} more)`);
    // the first clicks show what the detail brought (100), the next ones fetch 100 at a time
    // one click at a time: the next only once the last one's rows are in (a click on a button
    // that the last page's arrival removes would wait for it forever)
    for (let i = 0; i < 10 && (await moreTools.count()); i++) {
      const before = await rows('[data-testid="timeline"] li.tl-row');
      await moreTools.click();
      await page.waitForFunction(
        (n) => document.querySelectorAll('[data-testid="timeline"] li.tl-row').length > n,
        before,
      );
    }
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-testid="timeline"] li.tl-row').length === n,
      TOOLS,
    );
    expect(await moreTools.count()).toBe(0);
    const names = await page.$$eval('[data-testid="timeline"] li.tl-row .muted', (els) =>
      els.map((e) => e.textContent),
    );
    expect(names[0]).toBe('make step-0');
    expect(new Set(names).size).toBe(TOOLS);

    // events: 40 at first, then older pages until the first
    const stored = h.store.readSession(KEY).filter((e) => e.event.type !== 'session.seen').length;
    expect(await rows('[data-testid="detail-events"] li.feed-row')).toBe(40);
    const moreEvents = page.locator('[data-testid="more-events"]');
    for (let i = 0; i < 40 && (await moreEvents.count()); i++) {
      const before = await rows('[data-testid="detail-events"] li.feed-row');
      await moreEvents.click();
      await page.waitForFunction(
        (n) => document.querySelectorAll('[data-testid="detail-events"] li.feed-row').length > n,
        before,
      );
    }
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-testid="detail-events"] li.feed-row').length === n,
      stored,
    );
    const seqs = await page.$$eval('[data-testid="detail-events"] li.feed-row', (els) =>
      els.map((e) => Number(e.getAttribute('data-seq'))),
    );
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a)); // newest on top, none twice
    expect(new Set(seqs).size).toBe(stored);

    // live: a new event lands on top, a new tool call at the end of the timeline
    const ev = sessionEvents(KEY, 'main');
    h.pipeline.ingest([ev.text('and one more thing'), ev.tool('late', 'exec', 'make late')]);
    await page.waitForSelector('[data-testid="detail-events"] li.feed-row >> nth=0 >> text=make late');
    await page.getByText(`Tools (${TOOLS + 1})`).waitFor();
    await page.waitForSelector('[data-testid="timeline"] li.tl-row[data-status="running"] >> text=make late');
  }, 60_000);
});

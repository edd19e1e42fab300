/**
 * A new user's first hour with the dashboard (issue 17), in real Chromium:
 * 1. a daemon with a state dir that does not exist, a gateway nothing listens on and a
 *    Mattermost that never answers shows one banner per problem with its reason and fix, and
 *    the header chip says so (not a green "live");
 * 2. a stuck session's note counts its real age and keeps counting, and names the stuck tool;
 *    the STUCK badge is high-contrast in both themes;
 * 6. sessions are named by label or key without `agent:<id>:`, the full key on hover and in
 *    the detail; the sub-agent section lists sub-agents, not the session itself;
 * 9. the token chart has axes with values, tokens and cost on their own scales and the split;
 *    fleet totals in the header;
 * 10. at 390 px nothing scrolls sideways and the detail replaces the list, with a back control.
 * Screenshots at 1440 and 390 px, light and dark: test-output/dashboard-*.png.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { type Daemon, startDaemon } from '../../src/daemon/daemon.js';
import { systemClock } from '../../src/infra/clock.js';
import { silentLogger } from '../../src/infra/logger.js';
import type { PulseEvent } from '../../src/model/events.js';
import { ensureUiBuilt, launchBrowser, ROOT } from './browser.js';
import { createHarness, type Harness, sessionEvents } from './harness.js';

const OUT = path.join(ROOT, 'test-output');

let browser: Browser;
let h: Harness;
const contexts: BrowserContext[] = [];

async function newPage(
  opts: { width?: number; height?: number; scheme?: 'light' | 'dark' } = {},
): Promise<Page> {
  const ctx = await browser.newContext({
    viewport: { width: opts.width ?? 1280, height: opts.height ?? 820 },
    colorScheme: opts.scheme ?? 'light',
  });
  contexts.push(ctx);
  return ctx.newPage();
}

const parent = 'agent:main:mattermost:channel:relay-ops';
const child = 'agent:main:subagent:7f3e21';
const grandchild = 'agent:main:subagent:a19c04';
const stuck = 'agent:main:cron:db-migrate';
const unlabelled = 'agent:main:explicit:triage-42';
const failed = 'agent:ops:hook:deploy-check';

/** a fleet with a parent, a two-deep sub-agent tree, a stuck tool, a 529 and token usage */
function seed(): void {
  const now = Date.now();
  const at = (ms: number) => () => now - ms;
  const p = sessionEvents(parent, 'main', at(150_000));
  const pLate = sessionEvents(parent, 'main', at(20_000));
  const tokens = (
    s: string,
    ago: number,
    input: number,
    output: number,
    cacheRead: number,
    reasoning: number,
    cost: number,
  ): PulseEvent => ({
    ts: now - ago,
    source: 'demo',
    sessionKey: s,
    agentId: 'main',
    dedupeKey: `${s}#tok#${ago}`,
    type: 'llm.tokens',
    runId: 'run-1',
    input,
    output,
    cacheRead,
    cacheWrite: 0,
    reasoning,
    costUsd: cost,
  });
  h.pipeline.ingest([
    p.seen({ label: 'release notes for 2.4', channel: { provider: 'mattermost', channelId: 'relayops' } }),
    p.started(),
    p.text('Collecting merged PRs since v2.3...'),
    p.tool('t1', 'exec', 'git log v2.3..HEAD --oneline'),
    p.toolOk('t1', 'exec', 640),
    tokens(parent, 140_000, 8200, 900, 1200, 300, 0.041),
    p.spawn(child, 'summarise the changelog'),
    tokens(parent, 90_000, 12_400, 1800, 6400, 900, 0.077),
    pLate.text('Drafting the notes now.'),
    tokens(parent, 20_000, 15_100, 2600, 9800, 1400, 0.104),
  ]);
  const c = sessionEvents(child, 'main', at(120_000));
  h.pipeline.ingest([
    c.seen({ parentKey: parent, label: 'summarise the changelog' }),
    c.started(),
    c.text('Reading 48 merged PRs...'),
    c.spawn(grandchild, 'check breaking changes'),
    c.tokens(6100, 700, 0.029),
  ]);
  const g = sessionEvents(grandchild, 'main', at(100_000));
  h.pipeline.ingest([
    g.seen({ parentKey: child }),
    g.started(),
    g.tool('g1', 'read', 'CHANGELOG.md'),
    g.toolOk('g1', 'read', 80),
    g.tokens(3000, 240, 0.012),
    g.finished('ok'),
  ]);
  // stuck: a tool started 400 s ago and nothing since
  const s = sessionEvents(stuck, 'main', at(400_000));
  h.pipeline.ingest([
    s.seen({ label: 'nightly DB migration' }),
    s.started(),
    s.text('Running the migration...'),
    s.tool('m1', 'exec', 'psql -f migrate.sql'),
  ]);
  const u = sessionEvents(unlabelled, 'main', at(30_000));
  h.pipeline.ingest([u.started(), u.text('Triaging issue 42'), u.tokens(2100, 300, 0.008)]);
  const f = sessionEvents(failed, 'ops', at(60_000));
  h.pipeline.ingest([
    f.seen({ label: 'deploy check' }),
    f.started(),
    f.tool('d1', 'web_fetch', 'https://status.example.com'),
    f.toolErr('d1', 'web_fetch', 'HTTP 503'),
    { ...f.started(), type: 'llm.error', status: 529, message: 'Overloaded', retryable: false } as PulseEvent,
    f.finished('error', '529 Overloaded'),
  ]);
  // the stuck check runs as of 305 s after the tool started: the note it writes says 5m05s
  h.pipeline.tick(now - 400_000 + 305_000);
}

beforeAll(async () => {
  const uiDir = ensureUiBuilt();
  fs.mkdirSync(OUT, { recursive: true });
  h = await createHarness({
    listen: true,
    uiDir,
    clock: systemClock,
    // a fleet that works but whose gateway is down: the screenshots show a banner too
    health: (base) => ({
      ...base,
      status: 'degraded',
      sources: [
        {
          id: 'gateway',
          kind: 'gateway',
          state: 'down',
          lagMs: 0,
          malformed: 0,
          detail: 'connect ECONNREFUSED ws://127.0.0.1:18789; retry 4 in 8000ms',
        },
        ...base.sources,
      ],
      sinks: [],
    }),
  });
  browser = await launchBrowser();
  seed();
}, 240_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await h?.close();
});

const seconds = (t: string): number => {
  const m = /(?:(\d+)h)?(?:(\d+)m)?(\d+)s/.exec(t);
  if (!m) return Number.NaN;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3]);
};

/** a computed CSS colour as 0-255 channels: rgb()/rgba(), or color(srgb …) (what color-mix computes to) */
function channels(c: string): number[] {
  const n = (c.match(/[\d.]+/g) ?? []).map(Number);
  return c.startsWith('color(') ? n.slice(0, 3).map((v) => v * 255) : n.slice(0, 3);
}

function luminance(c: string): number {
  const [r, g, b] = channels(c).map((v) => {
    const x = v / 255;
    return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (b ?? 0);
}

/** WCAG contrast of an element's text colour on the background of `bgSelector`'s match (default: itself) */
async function contrast(page: Page, selector: string, bgSelector?: string): Promise<number> {
  const [fg, bg] = await page.$eval(
    selector,
    (el, bgSel) => {
      const back = (bgSel ? el.closest(bgSel) : el) ?? el;
      return [getComputedStyle(el).color, getComputedStyle(back).backgroundColor];
    },
    bgSelector,
  );
  const a = luminance(fg);
  const b = luminance(bg);
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}

describe('first hour: a truthful dashboard (Chromium)', () => {
  it('1: a daemon with no state dir, no gateway and no Mattermost shows banners with reasons and fixes, and a chip that is not "live"', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawpulse-first-hour-'));
    const missing = path.join(dir, 'no-such-openclaw');
    let daemon: Daemon | undefined;
    try {
      daemon = await startDaemon(
        loadConfig({
          OPENCLAW_STATE_DIR: missing,
          CLAWPULSE_HOME: path.join(dir, 'home'),
          HEALTH_PORT: 'any',
          // a port nothing listens on (the daemon's own HTTP port is taken later; 9 is discard)
          OPENCLAW_GATEWAY_URL: 'ws://127.0.0.1:9',
          OPENCLAW_GATEWAY_TOKEN: 'wrong-or-right-nobody-answers',
          MM_URL: 'http://127.0.0.1:9',
          MM_TOKEN: 'bot-token',
          LOG_LEVEL: 'silent',
        }),
        { logger: silentLogger, uiDir: ensureUiBuilt() },
      );
      const page = await newPage({ width: 1440, height: 900 });
      await page.goto(`http://127.0.0.1:${daemon.port}/`);
      const chip = page.locator('[data-testid="conn"]');
      await page.waitForSelector('[data-problem="source:gateway"]', { timeout: 20_000 });
      await page.waitForSelector('[data-problem="source:files"]');
      await page.waitForSelector('[data-problem="sink:mattermost"]', { timeout: 20_000 });
      expect(['degraded', 'down']).toContain((await chip.textContent())?.trim());
      expect(await chip.getAttribute('data-health')).not.toBe('ok');

      const gw = (await page.locator('[data-problem="source:gateway"]').textContent()) ?? '';
      expect(gw).toMatch(/ECONNREFUSED/);
      expect(gw).toContain('ws://127.0.0.1:9');
      expect(gw).toContain('OPENCLAW_GATEWAY_URL');
      const files = (await page.locator('[data-problem="source:files"]').textContent()) ?? '';
      expect(files).toContain(missing);
      expect(files).toContain('does not exist');
      expect(files).toContain('OPENCLAW_STATE_DIR');
      const mm = (await page.locator('[data-problem="sink:mattermost"]').textContent()) ?? '';
      expect(mm).toMatch(/never answered/);
      expect(mm).toMatch(/ECONNREFUSED/);
      expect(mm).toContain('MM_URL');
      expect(mm).toContain('MM_TOKEN');
      // no "they show up here" promise while nothing can be seen
      expect(await page.locator('[data-testid="empty"]').textContent()).toMatch(/fix the problems above/);
      await page.screenshot({ path: path.join(OUT, 'dashboard-1440-light-problems.png'), fullPage: true });

      // /health carries what the banners say
      const health = (await (await fetch(`http://127.0.0.1:${daemon.port}/health`)).json()) as {
        status: string;
        sources: { id: string; problem?: string }[];
      };
      expect(health.status).not.toBe('ok');
      expect(health.sources.find((s) => s.id === 'files')?.problem).toContain('does not exist');
    } finally {
      await daemon?.stop('test end');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('1: a fleet whose gateway is down says "degraded" with the fix, though its sessions show', async () => {
    const page = await newPage();
    await page.goto(h.url);
    await page.waitForSelector('[data-problem="source:gateway"]');
    expect((await page.locator('[data-testid="conn"]').textContent())?.trim()).toBe('degraded');
    const text = (await page.locator('[data-testid="banners"]').textContent()) ?? '';
    expect(text).toContain('OPENCLAW_GATEWAY_URL');
  }, 30_000);

  it('2: the stuck note counts its real age, keeps counting, names the tool; STUCK is high-contrast', async () => {
    // the API: the age as of the request, not the 5m05s the stuck check wrote
    const api = (await (await fetch(`${h.url}/api/sessions?status=stuck`)).json()) as {
      sessions: { key: string; note?: string; runningTool?: string }[];
    };
    const row = api.sessions.find((s) => s.key === stuck);
    expect(row?.runningTool).toBe('exec');
    expect(seconds(row?.note ?? '')).toBeGreaterThanOrEqual(400);

    const page = await newPage();
    await page.clock.install({ time: Date.now() });
    await page.goto(h.url);
    const activity = page.locator(`li[data-key="${stuck}"] [data-testid="activity"]`);
    await activity.waitFor();
    await page.clock.runFor(1000);
    const first = (await activity.textContent()) ?? '';
    expect(first).toContain('stuck in exec');
    const a = seconds(first);
    expect(a).toBeGreaterThanOrEqual(400);
    await page.clock.runFor(7000);
    expect(seconds((await activity.textContent()) ?? '')).toBe(a + 7);

    // the detail banner too
    await page.click(`li[data-key="${stuck}"] .row-main`);
    const note = page.locator('[data-testid="detail-note"]');
    await note.waitFor();
    const b = seconds((await note.textContent()) ?? '');
    expect(b).toBeGreaterThanOrEqual(a + 7);
    await page.clock.runFor(3000);
    expect(seconds((await note.textContent()) ?? '')).toBe(b + 3);

    for (const scheme of ['light', 'dark'] as const) {
      const p = await newPage({ scheme });
      await p.goto(h.url);
      const sel = `li[data-key="${stuck}"] .badge.st-stuck`;
      await p.waitForSelector(sel);
      expect(await contrast(p, sel), `STUCK badge contrast, ${scheme}`).toBeGreaterThanOrEqual(4.5);
      // the note text on its row too
      const act = `li[data-key="${stuck}"] [data-testid="activity"]`;
      const ratio = await contrast(p, act, 'li');
      expect(ratio, `stuck note contrast, ${scheme}`).toBeGreaterThanOrEqual(4.5);
    }
  }, 60_000);

  it('6: names without agent:<id>:, full key on hover and in the detail; sub-agents without the session itself', async () => {
    const page = await newPage({ width: 1440 });
    await page.goto(h.url);
    const title = page.locator(`li[data-key="${unlabelled}"] .title`);
    await title.waitFor();
    expect((await title.textContent())?.trim()).toBe('explicit:triage-42');
    expect(await title.getAttribute('title')).toBe(unlabelled);
    expect((await page.locator(`li[data-key="${parent}"] .title`).textContent())?.trim()).toBe(
      'release notes for 2.4',
    );
    // the feed names sessions the same way
    const who = await page.$$eval('[data-testid="feed"] .feed-who', (els) => els.map((e) => e.textContent));
    expect(who).toContain('explicit:triage-42');
    expect(who.some((w) => w?.startsWith('agent:'))).toBe(false);

    // the child: its own sub-agent listed, not itself; its parent named and linked
    await page.click(`li[data-key="${child}"] .row-main`);
    await page.waitForSelector('[data-testid="detail"]');
    expect(await page.locator('.key-line').textContent()).toBe(child);
    expect(await page.locator('.detail-head h2').getAttribute('title')).toBe(child);
    const subs = await page.$$eval('[data-testid="subtree"] .tree-item .title', (els) =>
      els.map((e) => [e.textContent, e.getAttribute('title')]),
    );
    expect(subs).toEqual([['check breaking changes', grandchild]]);
    expect(await page.locator('.facts button.link').textContent()).toBe('release notes for 2.4');
    // with the detail open the compact list still reads (no "a.", "age…")
    const compact = await page.$$eval('.sessions.compact .title', (els) =>
      els.map((e) => e.textContent ?? ''),
    );
    expect(compact.every((t) => !t.startsWith('agent:'))).toBe(true);

    // the parent: both levels below it, never itself
    await page.click('.facts button.link');
    await page.waitForSelector(`[data-testid="detail"] .key-line:text-is("${parent}")`);
    const keys = await page.$$eval('[data-testid="subtree"] .tree-item .title', (els) =>
      els.map((e) => e.getAttribute('title')),
    );
    expect(keys).toEqual([child, grandchild]);
  }, 30_000);

  it('9: the token chart has valued axes, two scales and the split; the header has fleet totals', async () => {
    const page = await newPage({ width: 1440 });
    await page.goto(`${h.url}/session/${encodeURIComponent(parent)}`);
    const chart = page.locator('[data-testid="token-chart"]');
    await chart.waitFor();
    const tokTicks = await chart.locator('.tick-tok').allTextContents();
    const costTicks = await chart.locator('.tick-cost').allTextContents();
    const timeTicks = await chart.locator('.tick-time').allTextContents();
    expect(tokTicks.length).toBeGreaterThanOrEqual(2);
    expect(costTicks.length).toBeGreaterThanOrEqual(2);
    expect(timeTicks.length).toBeGreaterThanOrEqual(2);
    expect(costTicks.every((t) => t.startsWith('$'))).toBe(true);
    // the scales differ: tokens top out near 60k, cost near $0.22
    expect(tokTicks.some((t) => /k$/.test(t))).toBe(true);
    expect(await chart.locator('.axis-title').allTextContents()).toEqual(
      expect.arrayContaining(['tokens', 'cost']),
    );
    const legend = (await chart.locator('figcaption').textContent()) ?? '';
    for (const k of ['input', 'output', 'cache', 'reasoning']) expect(legend).toContain(k);
    expect(await chart.locator('.split-input').count()).toBeGreaterThan(0);

    // parent, child, the unlabelled one and the stuck one run; the grandchild and the failed one do not
    expect((await page.locator('[data-testid="total-running"]').textContent())?.trim()).toBe('4');
    expect(await page.locator('[data-testid="total-tokens"]').textContent()).toMatch(/k$/);
    expect(await page.locator('[data-testid="total-cost"]').textContent()).toMatch(/^\$0\.\d\d$/);
  }, 30_000);

  it('10: at 390 px nothing scrolls sideways; the detail replaces the list, with a back control', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      const page = await newPage({ width: 390, height: 844, scheme });
      await page.goto(h.url);
      await page.waitForSelector(`li[data-key="${parent}"]`);
      const wide = () =>
        page.evaluate(() => ({
          scroll: document.documentElement.scrollWidth,
          client: document.documentElement.clientWidth,
        }));
      let w = await wide();
      expect(w.scroll).toBeLessThanOrEqual(w.client);
      // the numbers show on the row, inside the viewport
      const box = await page.locator(`li[data-key="${parent}"] [data-testid="tokens"]`).boundingBox();
      expect(box && box.x + box.width).toBeLessThanOrEqual(390);
      await page.screenshot({ path: path.join(OUT, `dashboard-390-${scheme}.png`), fullPage: true });

      await page.click(`li[data-key="${parent}"] .row-main`);
      await page.waitForSelector('[data-testid="detail"]');
      expect(await page.locator('.list-pane').isVisible()).toBe(false);
      const back = page.locator('[data-testid="back"]');
      expect(await back.isVisible()).toBe(true);
      w = await wide();
      expect(w.scroll).toBeLessThanOrEqual(w.client);
      await page.screenshot({ path: path.join(OUT, `dashboard-390-${scheme}-detail.png`), fullPage: true });
      await back.click();
      await page.waitForSelector(`li[data-key="${parent}"]`);
      expect(await page.locator('[data-testid="detail"]').count()).toBe(0);
    }
  }, 60_000);

  it('screenshots at 1440 px, light and dark', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      const page = await newPage({ width: 1440, height: 900, scheme });
      await page.goto(h.url);
      await page.waitForSelector(`li[data-key="${stuck}"]`);
      await page.waitForSelector('[data-problem="source:gateway"]');
      await page.screenshot({ path: path.join(OUT, `dashboard-1440-${scheme}.png`) });
      await page.click(`li[data-key="${parent}"] .row-main`);
      await page.waitForSelector('[data-testid="token-chart"]');
      await page.screenshot({ path: path.join(OUT, `dashboard-1440-${scheme}-detail.png`) });
      // no back control where list and detail sit side by side
      expect(await page.locator('[data-testid="back"]').isVisible()).toBe(false);
    }
  }, 60_000);
});

/**
 * The dashboard in real Chromium against a real server and pipeline (SQLite store, tracker):
 * sessions appear and change live, a session opens with its status box, tools and tokens,
 * themes switch and stick, and the page stays live across a server restart.
 * Screenshots land in test-output/dashboard/ (gitignored).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/infra/clock.js';
import { silentLogger } from '../../src/infra/logger.js';
import { countSessions } from '../../src/server/health.js';
import { createHttpApp, type RunningHttpServer, startHttpServer } from '../../src/server/http-app.js';
import { ensureUiBuilt, launchBrowser, SHOTS } from './browser.js';
import { createHarness, type Harness, sessionEvents } from './harness.js';

let h: Harness;
let browser: Browser;
let page: Page;
/** the server the restart test starts in place of the harness's (later tests use it) */
let restarted: { server?: RunningHttpServer; dispose(): void } | undefined;
const consoleErrors: string[] = [];

beforeAll(async () => {
  const uiDir = ensureUiBuilt();
  fs.mkdirSync(SHOTS, { recursive: true });
  h = await createHarness({ listen: true, uiDir, clock: systemClock, sse: { retryMs: 250 } });
  browser = await launchBrowser();
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 860 }, colorScheme: 'dark' });
  page = await ctx.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
}, 240_000);

afterAll(async () => {
  restarted?.dispose();
  await restarted?.server?.close();
  await browser?.close();
  await h?.close();
});

const main = 'agent:main:mattermost:channel:9x3kq1';
const child = 'agent:main:subagent:5b1e';

describe('dashboard (Chromium)', () => {
  it('shows sessions appear and change live, problems first', async () => {
    const now = () => Date.now();
    const m = sessionEvents(main, 'main', now);
    const other = sessionEvents('agent:ops:cron:nightly', 'ops', now);
    h.pipeline.ingest([
      other.seen({ label: 'nightly backup check' }),
      other.started(),
      other.text('Checking backups...'),
      other.tool('o1', 'exec', 'restic snapshots'),
      other.toolOk('o1', 'exec', 812),
      other.tokens(5200, 300, 0.021),
      other.finished('ok'),
    ]);
    // finished runs go idle; the idle timeout (a tick) makes them done
    h.pipeline.tick(Date.now() + 61_000);
    await page.goto(h.url);
    await page.waitForSelector('[data-testid="conn"]:has-text("live")');
    await page.waitForSelector('li[data-key="agent:ops:cron:nightly"][data-status="done"]');

    h.pipeline.ingest([
      m.seen({
        label: 'fix the flaky build',
        channel: { provider: 'mattermost', channelId: '9x3kq1aa2bb3cc4dd5ee6ff7gg' },
      }),
      m.started(),
      m.text('Reading the CI logs...'),
    ]);
    await page.waitForSelector(`li[data-key="${main}"][data-status="active"]`);
    // the active session sorts above the finished one
    const order = await page.$$eval('li[data-key]', (els) => els.map((e) => e.getAttribute('data-key')));
    expect(order.indexOf(main)).toBeLessThan(order.indexOf('agent:ops:cron:nightly'));

    h.pipeline.ingest([
      m.tool('c1', 'exec', 'npm test -- --run'),
      m.tokens(12_000, 800, 0.064),
      m.spawn(child, 'log-reader'),
    ]);
    const c = sessionEvents(child, 'main', now);
    h.pipeline.ingest([
      c.seen({ label: 'log-reader', parentKey: main }),
      c.started(),
      c.text('Scanning 3 log files...'),
    ]);
    h.pipeline.ingest([
      c.tool('k1', 'read', 'ci/build.log'),
      c.toolErr('k1', 'read', 'EACCES: permission denied'),
    ]);
    await page.waitForSelector(`li[data-key="${main}"] >> text=12.8k tok`);
    await page.waitForSelector(`li[data-key="${child}"] >> text=log-reader`);
    // the sub-agent is indented under its parent, right after it
    const keys = await page.$$eval('li[data-key]', (els) => els.map((e) => e.getAttribute('data-key')));
    expect(keys.indexOf(child)).toBe(keys.indexOf(main) + 1);
    await page.waitForSelector('[data-testid="feed"] >> text=EACCES');
    await page.screenshot({ path: path.join(SHOTS, 'overview-dark.png') });
  });

  it('a stuck or failed session stands out and sorts first; filters narrow the list', async () => {
    const s = sessionEvents('agent:research:web:42', 'research');
    h.pipeline.ingest([s.seen({ label: 'summarise papers' }), s.started(), s.text('Fetching arXiv...')]);
    h.pipeline.ingest([
      { ...s.text('x'), type: 'llm.error', status: 529, message: 'overloaded', retryable: false } as never,
    ]);
    h.pipeline.ingest([s.finished('error', 'model overloaded (529)')]);
    await page.waitForSelector('li[data-key="agent:research:web:42"][data-status="error"]');
    const first = await page.$eval('li[data-key]', (e) => e.getAttribute('data-key'));
    expect(first).toBe('agent:research:web:42');
    const border = await page.$eval(
      'li[data-key="agent:research:web:42"]',
      (e) => getComputedStyle(e).borderLeftColor,
    );
    expect(border).toMatch(/rgb\(255, 99, 105\)/); // the error colour (dark theme)

    // a session whose run has been silent past STUCK_AFTER goes stuck on the next tick and
    // moves above everything, the error included
    const past = Date.now() - 400_000;
    const q = sessionEvents('agent:main:cron:stuck', 'main', () => past);
    h.pipeline.ingest([q.seen({ label: 'weekly report' }), q.started(), q.tool('q1', 'exec', 'sleep 9999')]);
    h.pipeline.tick(Date.now());
    await page.waitForSelector('li[data-key="agent:main:cron:stuck"][data-status="stuck"]');
    const order = await page.$$eval('li[data-key]', (els) => els.map((e) => e.getAttribute('data-key')));
    expect(order.slice(0, 2)).toEqual(['agent:main:cron:stuck', 'agent:research:web:42']);
    expect(await page.title()).toBe('(2) clawpulse');
    await page.screenshot({ path: path.join(SHOTS, 'problems-first-dark.png') });

    await page.selectOption('select[aria-label="agent"]', 'ops');
    await page.waitForFunction(() => document.querySelectorAll('li[data-key]').length === 1);
    await page.selectOption('select[aria-label="agent"]', '');
    await page.selectOption('select[aria-label="status"]', 'stuck');
    await page.waitForFunction(() => document.querySelectorAll('li[data-key]').length === 1);
    await page.selectOption('select[aria-label="status"]', '');
    await page.fill('input[aria-label="search"]', 'log-reader');
    // the match shows inside its tree: parent kept as context
    await page.waitForFunction(() => document.querySelectorAll('li[data-key]').length === 2);
    expect(await page.$eval(`li[data-key="${main}"]`, (e) => e.classList.contains('context'))).toBe(true);
    await page.fill('input[aria-label="search"]', '');
    await page.waitForFunction(() => document.querySelectorAll('li[data-key]').length === 5);
  });

  it('opens a session: status box, sub-agent tree, tool timeline and token chart update live', async () => {
    await page.click(`li[data-key="${main}"] .row-main`);
    await page.waitForSelector('[data-testid="detail"]');
    expect(decodeURIComponent(new URL(page.url()).pathname)).toBe(`/session/${main}`);
    const box = page.locator('[data-testid="statusbox"]');
    await box.getByText('[ACTIVE] fix the flaky build').waitFor();
    await box.getByText('exec: npm test -- --run ...').waitFor();
    await box.getByText('Sub-agent: log-reader').waitFor();
    await box.getByText('read: ci/build.log [ERR]').waitFor();

    const m = sessionEvents(main, 'main');
    h.pipeline.ingest([
      m.toolOk('c1', 'exec', 4200),
      m.text('Tests pass after the fix.'),
      m.tokens(3000, 400, 0.02),
    ]);
    await box.getByText('exec: npm test -- --run [OK]').waitFor();
    await box.getByText('Tests pass after the fix.').waitFor();
    await page.waitForSelector('[data-testid="detail-tokens"]:has-text("16.2k")');
    await page.waitForSelector('[data-testid="timeline"] li[data-status="ok"]');
    expect(await page.locator('[data-testid="token-chart"] path.tok-line').count()).toBe(1);
    await page.screenshot({ path: path.join(SHOTS, 'session-dark.png') });

    h.pipeline.ingest([m.finished('ok')]);
    await page.waitForSelector('[data-testid="detail"][data-status="idle"]');
    h.pipeline.tick(Date.now() + 61_000);
    await page.waitForSelector('[data-testid="detail"][data-status="done"]');
    await box.getByText(/^\[DONE\] \d+s \| 16.2k tokens/).waitFor();
    // a deep link loads the same view
    await page.reload();
    await page.waitForSelector('[data-testid="detail"][data-status="done"]');
  });

  it('switches theme, remembers it, and respects prefers-color-scheme', async () => {
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await page.click('[data-testid="theme"]');
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
    await page.reload();
    await page.waitForSelector('[data-testid="detail"]');
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg).toBe('rgb(247, 248, 250)');
    await page.screenshot({ path: path.join(SHOTS, 'session-light.png') });
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid="feed"]');
    expect(new URL(page.url()).pathname).toBe('/');
    await page.screenshot({ path: path.join(SHOTS, 'overview-light.png') });
  });

  it('stays live across a server restart: shows reconnecting, then resumes without a gap', async () => {
    const port = h.server?.port as number;
    h.sse.dispose();
    await h.server?.close();
    await page.waitForSelector('[data-testid="conn"]:has-text("reconnecting")');
    await page.screenshot({ path: path.join(SHOTS, 'reconnecting.png') });
    // events stored while the server is down must show after the reconnect
    const m = sessionEvents(main, 'main');
    h.pipeline.ingest([m.started(), m.text('Second turn while the dashboard was away')]);
    const { app, sse } = createHttpApp({
      pipeline: h.pipeline,
      store: h.store,
      config: { port, host: '127.0.0.1', otlpMaxBodyBytes: 1 << 20, sseMaxClients: 10, sseMaxAgeMs: 60_000 },
      logger: silentLogger,
      health: () => ({
        status: 'ok',
        uptimeMs: 0,
        sources: [],
        sinks: [],
        store: h.store.stats(),
        sessions: countSessions(h.pipeline.tracker),
      }),
      metrics: () => ({
        pipeline: h.pipeline.stats(),
        sources: [],
        sinks: [],
        sessions: countSessions(h.pipeline.tracker),
      }),
      uiDir: ensureUiBuilt(),
      sse: { retryMs: 250 },
    });
    restarted = { dispose: () => sse.dispose() };
    restarted.server = await startHttpServer(app, { host: '127.0.0.1', port });
    await page.waitForSelector('[data-testid="conn"]:has-text("live")', { timeout: 15_000 });
    await page.waitForSelector('[data-testid="feed"] >> text=Second turn while the dashboard was away');
    await page.waitForSelector(`li[data-key="${main}"][data-status="active"]`);
    h.pipeline.ingest([m.text('and live again')]);
    await page.waitForSelector('[data-testid="feed"] >> text=and live again');
    // no event twice in the feed
    const seqs = await page.$$eval('[data-testid="feed"] li[data-seq]', (els) =>
      els.map((e) => e.getAttribute('data-seq')),
    );
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(
      consoleErrors.filter((e) => !/ERR_CONNECTION_REFUSED|Failed to load resource|EventSource/.test(e)),
    ).toEqual([]);
  });

  it('drops a finished session from the list when it leaves the live view, a day after its last event', async () => {
    await page.waitForSelector('li[data-key="agent:ops:cron:nightly"][data-status="done"]');
    // the eviction pass runs at most once a minute: a tick a day on evicts the quiet, finished one
    h.pipeline.tick(Date.now() + 25 * 3600_000);
    await page.waitForSelector('li[data-key="agent:ops:cron:nightly"]', { state: 'detached' });
    expect(await page.$(`li[data-key="${main}"]`)).not.toBeNull(); // it was live: it stays
  });
});

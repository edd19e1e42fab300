/**
 * The real plugin bundle (built and packed by `npm run build:plugin`, loaded from the unpacked
 * tar.gz) running in headless Chromium inside a fake Mattermost host page.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MmPost } from '../src/types.js';
import { CHANNEL, mainTree, node, OTHER_CHANNEL, post, T0 } from './fixtures.js';
import { type Harness, PLUGIN_ID, screenshotDir, startHarness } from './harness.js';

let h: Harness;
let ctx: BrowserContext | null = null;

beforeAll(async () => {
  h = await startHarness();
  fs.mkdirSync(screenshotDir, { recursive: true });
}, 120_000);
afterAll(async () => {
  await h?.close();
});
afterEach(async () => {
  await ctx?.close();
  ctx = null;
});

interface Opened {
  page: Page;
  errors: string[];
}

async function open(
  o: { query?: string; reducedMotion?: 'reduce' | 'no-preference'; roots?: number } = {},
): Promise<Opened> {
  ctx = await h.browser.newContext({
    viewport: { width: 1280, height: 800 },
    timezoneId: 'UTC',
    reducedMotion: o.reducedMotion ?? 'no-preference',
  });
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(h.baseUrl + (o.query ?? ''));
  await page.waitForFunction((n) => (window as any).__host?.registrations().roots === n, o.roots ?? 1);
  return { page, errors };
}

const send = (page: Page, p: MmPost, event: 'posted' | 'post_edited' = 'posted') =>
  page.evaluate(([p, e]) => (window as any).__host.post(p, e), [p, event] as const);
const wsOnly = (page: Page, p: MmPost, event = 'posted') =>
  page.evaluate(([p, e]) => (window as any).__host.wsOnly(p, e), [p, event] as const);
/** moves the host's manual clock, then lets React commit what the timers changed (two frames) */
const advance = (page: Page, ms: number) =>
  page.evaluate(async (ms) => {
    (window as any).__host.advance(ms);
    for (let i = 0; i < 2; i++) await new Promise((r) => requestAnimationFrame(() => r(null)));
  }, ms);
const color = (page: Page, selector: string) =>
  page
    .locator(selector)
    .first()
    .evaluate((el) => getComputedStyle(el).color);
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(screenshotDir, `${name}.png`) });

describe('package', () => {
  it('packs plugin.json and the bundle in the layout Mattermost installs', () => {
    const list = execFileSync('tar', ['-tzf', h.tarball], { encoding: 'utf8' }).trim().split('\n');
    expect(list).toContain(`${PLUGIN_ID}/plugin.json`);
    expect(list).toContain(`${PLUGIN_ID}/webapp/dist/main.js`);
    expect(list.every((p) => p.startsWith(`${PLUGIN_ID}/`))).toBe(true);
    const manifest = JSON.parse(fs.readFileSync(path.join(h.unpacked, PLUGIN_ID, 'plugin.json'), 'utf8'));
    expect(manifest).toMatchObject({ id: PLUGIN_ID, webapp: { bundle_path: 'webapp/dist/main.js' } });
    expect(manifest.name).toBeTruthy();
    expect(manifest.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(manifest.min_server_version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(manifest.server).toBeUndefined();
    const bundle = fs.readFileSync(path.join(h.unpacked, PLUGIN_ID, 'webapp/dist/main.js'), 'utf8');
    // React must come from the host: a bundled copy would carry React's internals
    expect(bundle).not.toContain('__SECRET_INTERNALS');
    expect(bundle).not.toContain('react.transitional.element');
    expect(bundle.length).toBeLessThan(60_000);
    expect(manifest.min_server_version).toBe('7.0.0');
  });
});

describe('registration', () => {
  it('registers the post type, RHS, header + app-bar buttons, root widget and WS handlers', async () => {
    const { page, errors } = await open();
    const r = await page.evaluate(() => (window as any).__host.registrations());
    expect(r).toEqual({
      plugins: [PLUGIN_ID],
      postTypes: ['custom_livestatus'],
      rhsTitle: 'Agent sessions',
      roots: 1,
      ws: ['post_deleted', 'post_edited', 'posted'],
      headerButtons: ['Agent sessions'],
      appBar: ['Agent sessions'],
    });
    // garbage frames are counted, never thrown
    await page.evaluate(() => {
      const host = (window as any).__host;
      host.rawWs('posted', { post: '{not json' });
      host.rawWs('post_edited', {});
      host.rawWs('post_deleted', { post: 42 });
    });
    expect(errors).toEqual([]);
  });
});

describe('LiveStatusPost', () => {
  it('renders the session tree with statuses, tool results, sub-agents and theme colours', async () => {
    const { page, errors } = await open();
    await send(page, post('p1', mainTree()));
    const box = page.getByTestId('ls-box');
    await box.waitFor();
    expect(await page.getByTestId('ls-header').innerText()).toMatch(/\[ACTIVE\]\s*main\s*\|\s*38s/);
    // theme: text colour, ok/error/running tags
    expect(await color(page, '[data-testid=ls-box]')).toBe('rgb(221, 221, 221)');
    expect(await color(page, '[data-tool-status=ok] [data-testid=ls-tool-tag]')).toBe('rgb(6, 214, 160)');
    expect(await color(page, '[data-tool-status=error] [data-testid=ls-tool-tag]')).toBe(
      'rgb(255, 107, 107)',
    );
    expect(await color(page, '[data-tool-status=running] [data-testid=ls-tool-tag]')).toBe(
      'rgb(245, 171, 0)',
    );
    expect(await page.locator('[data-tool-status=error]').innerText()).toContain('[ERR]');
    expect(await page.locator('[data-tool-status=ok]').first().innerText()).toMatch(/\[OK\]/);
    // a finished sub-agent starts folded, a running one open; the fold toggles
    const planner = page.locator('[data-session-key="agent:main:subagent:planner"]');
    const coder = page.locator('[data-session-key="agent:main:subagent:coder"]');
    expect(await planner.getAttribute('data-expanded')).toBe('false');
    expect(await coder.getAttribute('data-expanded')).toBe('true');
    expect(await coder.innerText()).toContain('write: src/watcher.ts');
    expect(await box.innerText()).not.toContain('Reading protocol...');
    await planner.getByTestId('ls-child-toggle').click();
    expect(await planner.getAttribute('data-expanded')).toBe('true');
    expect(await planner.innerText()).toContain('Reading protocol...');
    expect(await planner.getByTestId('ls-footer').innerText()).toMatch(/\[DONE\]\s*28s/);
    const footer = await page.getByTestId('ls-footer').last().innerText();
    expect(footer).toMatch(/\[ACTIVE\]\s*38s \| 12\.4k tokens \| \$0\.42/);
    // lines keep their order with the sub-agents where the daemon placed them
    const text = await box.innerText();
    expect(text.indexOf('grep -r live-status')).toBeLessThan(text.indexOf('Sub-agent: proj035-planner'));
    expect(text.indexOf('Sub-agent: proj035-coder')).toBeLessThan(text.indexOf('read: src/index.ts'));
    await shot(page, 'post-active');
    // the duration follows the injected clock
    await advance(page, 5000);
    await page.waitForFunction(() =>
      document.querySelector('[data-testid=ls-header]')?.textContent?.includes('43s'),
    );
    expect(errors).toEqual([]);
  });

  it('re-renders when the post is edited and keeps the user’s folds', async () => {
    const { page } = await open();
    await send(page, post('p1', mainTree()));
    const planner = page.locator('[data-session-key="agent:main:subagent:planner"]');
    await planner.getByTestId('ls-child-toggle').click();
    const edited = post('p1', mainTree('done'), { update_at: T0 + 20_000 });
    await send(page, edited, 'post_edited');
    await page.waitForFunction(
      () => document.querySelector('[data-testid=ls-box]')?.getAttribute('data-status') === 'done',
    );
    expect(await page.getByTestId('ls-header').innerText()).toMatch(/\[DONE\]\s*main\s*\|\s*53s/);
    expect(await page.locator('[data-tool-status=running]').count()).toBe(0);
    expect(await planner.getAttribute('data-expanded')).toBe('true');
    // the coder finished, so it folds (no user choice for it)
    const coder = page.locator('[data-session-key="agent:main:subagent:coder"]');
    expect(await coder.getAttribute('data-expanded')).toBe('false');
    expect(await page.getByTestId('ls-box').count()).toBe(1);
    await shot(page, 'post-done');
  });

  it('falls back to the message when props are missing or malformed', async () => {
    const { page, errors } = await open();
    const bad: MmPost[] = [
      post('b1', null, { message: 'fallback one' }),
      { ...post('b2', null, { message: 'fallback two' }), props: { livestatus: '{broken' } },
      {
        ...post('b3', null, { message: 'fallback three' }),
        props: { livestatus: { v: 1, root: { sessionKey: 5 } } },
      },
      {
        ...post('b4', null, { message: 'fallback four' }),
        props: { livestatus: { v: 2, root: mainTree() } },
      },
      { ...post('b5', null, { message: 'fallback five' }), props: null },
    ];
    for (const p of bad) await send(page, p);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=ls-fallback]').length === 5);
    const texts = await page.getByTestId('ls-fallback').allInnerTexts();
    expect(texts).toEqual([
      'fallback one',
      'fallback two',
      'fallback three',
      'fallback four',
      'fallback five',
    ]);
    expect(await page.getByTestId('ls-box').count()).toBe(0);
    // a bad line or child is dropped, the rest still renders
    const partlyBad = mainTree();
    (partlyBad.lines as unknown[]).push({ kind: 'tool' }, 'x', { kind: 'child', childIndex: 99 });
    (partlyBad.children as unknown[]).push({ nope: true });
    await send(page, post('b6', partlyBad));
    await page.getByTestId('ls-box').waitFor();
    expect(await page.locator('[data-testid=ls-box] [data-testid=ls-child]').count()).toBe(2);
    expect(errors).toEqual([]);
  });

  it('follows new lines unless the user scrolled up', async () => {
    const { page } = await open();
    const many = (n: number) =>
      node({
        sessionKey: 'long',
        lines: Array.from({ length: n }, (_, i) => ({ kind: 'text' as const, text: `line ${i}` })),
      });
    await send(page, post('s1', many(80)));
    const scroll = page.getByTestId('ls-scroll');
    await scroll.waitFor();
    const atBottom = () =>
      scroll.evaluate((el) => Math.abs(el.scrollTop + el.clientHeight - el.scrollHeight) <= 2);
    expect(await atBottom()).toBe(true);
    await send(page, post('s1', many(90), { update_at: T0 + 100 }), 'post_edited');
    await page.waitForFunction(() => document.body.innerText.includes('line 89'));
    expect(await atBottom()).toBe(true);
    // user scrolls up to read: new lines must not yank the view
    await scroll.evaluate((el) => {
      el.scrollTop = 0;
      el.dispatchEvent(new Event('scroll'));
    });
    await send(page, post('s1', many(100), { update_at: T0 + 200 }), 'post_edited');
    await page.waitForFunction(() => document.body.innerText.includes('line 99'));
    expect(await scroll.evaluate((el) => el.scrollTop)).toBe(0);
    // back at the bottom, following resumes
    await scroll.evaluate((el) => {
      el.scrollTop = el.scrollHeight;
      el.dispatchEvent(new Event('scroll'));
    });
    await send(page, post('s1', many(110), { update_at: T0 + 300 }), 'post_edited');
    await page.waitForFunction(() => document.body.innerText.includes('line 109'));
    expect(await atBottom()).toBe(true);
  });
});

describe('right-hand panel', () => {
  it('lists running sessions from Redux and from channel posts loaded on open; click opens the post', async () => {
    const { page, errors } = await open();
    h.channelPosts[CHANNEL] = [
      post('old1', node({ sessionKey: 'old-active', label: 'nightly-report', status: 'stuck' })),
      post('old2', node({ sessionKey: 'old-done', label: 'triage', status: 'done', endedAt: T0 - 1000 })),
      { ...post('old3', null), type: '', message: 'a normal post' },
    ];
    await send(page, post('r1', mainTree()));
    expect(h.apiRequests).toHaveLength(0);
    await page.getByTestId('host-header-button').click();
    const rhs = page.getByTestId('ls-rhs');
    await page.waitForFunction(
      () => document.querySelector('[data-testid=ls-rhs]')?.getAttribute('data-load') === 'loaded',
    );
    expect(h.apiRequests).toEqual([
      { url: `/api/v4/channels/${CHANNEL}/posts?per_page=60`, requestedWith: 'XMLHttpRequest' },
    ]);
    const liveKeys = await rhs
      .getByTestId('ls-rhs-live')
      .getByTestId('ls-session')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-session-key')));
    expect(liveKeys.sort()).toEqual(['agent:main:mattermost:channel:abc', 'old-active']);
    const doneKeys = await rhs
      .getByTestId('ls-rhs-done')
      .getByTestId('ls-session')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-session-key')));
    expect(doneKeys).toEqual(['old-done']);
    expect(await rhs.innerText()).toContain('+1 sub-agent');
    await shot(page, 'rhs');
    await rhs.locator('[data-session-key=old-active]').click();
    expect(await page.evaluate(() => (window as any).__host.navigations)).toEqual(['/acme/pl/old1']);
    // after a WebSocket reconnect the panel reloads (edits may have been missed meanwhile)
    h.channelPosts[CHANNEL] = [
      post('old1', node({ sessionKey: 'old-active', label: 'nightly-report', status: 'error' }), {
        update_at: T0 + 99_000,
      }),
    ];
    await page.evaluate(() => (window as any).__host.reconnect());
    await page.waitForFunction(
      () =>
        document
          .querySelector('[data-testid=ls-rhs-done] [data-session-key=old-active]')
          ?.getAttribute('data-status') === 'error',
    );
    expect(h.apiRequests).toHaveLength(2);
    // a session that ends leaves the running list
    await send(page, post('r1', mainTree('done'), { update_at: T0 + 50_000 }), 'post_edited');
    await page.waitForFunction(
      () =>
        !document.querySelector(
          '[data-testid=ls-rhs-live] [data-session-key="agent:main:mattermost:channel:abc"]',
        ),
    );
    expect(errors).toEqual([]);
  });

  it('shows a load error and still lists what it knows', async () => {
    const { page } = await open();
    h.channelPosts[OTHER_CHANNEL] = 403;
    await page.evaluate((c) => (window as any).__host.selectChannel(c), OTHER_CHANNEL);
    await send(page, post('e1', node({ sessionKey: 'k1', label: 'watcher' }), { channel_id: OTHER_CHANNEL }));
    await page.getByTestId('host-header-button').click();
    // the search across channels still answered: the failed channel load is a warning
    await page.waitForFunction(
      () => document.querySelector('[data-testid=ls-rhs]')?.getAttribute('data-load') === 'loaded',
    );
    expect(await page.getByTestId('ls-rhs-load').innerText()).toContain('HTTP 403');
    expect(await page.getByTestId('ls-rhs-live').getByTestId('ls-session').count()).toBe(1);
  });
});

describe('floating widget', () => {
  const active = (id: string, key: string) =>
    post(id, node({ sessionKey: key, label: key }), { channel_id: OTHER_CHANNEL, update_at: T0 });
  const ended = (id: string, key: string, at: number) =>
    post(id, node({ sessionKey: key, label: key, status: 'done', endedAt: T0 }), {
      channel_id: OTHER_CHANNEL,
      update_at: at,
    });

  it('appears on activity anywhere and hides 5 s after the last session ends', async () => {
    const { page, errors } = await open();
    const widget = page.getByTestId('ls-widget');
    expect(await widget.count()).toBe(0);
    await wsOnly(page, active('w1', 'alpha'));
    await widget.waitFor();
    expect(await page.getByTestId('ls-widget-title').innerText()).toBe('1 agent session running');
    await widget.locator('[data-session-key=alpha]').click();
    expect(await page.evaluate(() => (window as any).__host.navigations)).toEqual(['/acme/pl/w1']);
    await wsOnly(page, active('w2', 'beta'));
    await page.waitForFunction(() => document.body.innerText.includes('2 agent sessions running'));
    await wsOnly(page, ended('w1', 'alpha', T0 + 10), 'post_edited');
    await wsOnly(page, ended('w2', 'beta', T0 + 10), 'post_edited');
    await page.waitForFunction(() => document.body.innerText.includes('Agents finished'));
    // ended sessions stay listed with their final status during the grace period
    expect(await widget.locator('[data-status=done]').count()).toBe(2);
    await advance(page, 4999);
    expect(await widget.count()).toBe(1);
    await advance(page, 1);
    await widget.waitFor({ state: 'detached' });
    // new activity during the grace period cancels the hide
    await wsOnly(page, active('w3', 'gamma'));
    await widget.waitFor();
    await wsOnly(page, ended('w3', 'gamma', T0 + 20), 'post_edited');
    await advance(page, 3000);
    await wsOnly(page, active('w4', 'delta'));
    await advance(page, 10_000);
    expect(await widget.count()).toBe(1);
    expect(await page.getByTestId('ls-widget-title').innerText()).toBe('1 agent session running');
    expect(errors).toEqual([]);
  });

  it('drags, folds into a dot with the count, and restores both after a reload', async () => {
    const { page } = await open();
    await wsOnly(page, active('d1', 'alpha'));
    await wsOnly(page, active('d2', 'beta'));
    const widget = page.getByTestId('ls-widget');
    await widget.waitFor();
    const before = await widget.boundingBox();
    const handle = await page.getByTestId('ls-widget-handle').boundingBox();
    if (!before || !handle) throw new Error('widget not laid out');
    expect(before.x + before.width).toBeCloseTo(1280 - 24, 0);
    const gx = handle.x + 40;
    const gy = handle.y + handle.height / 2;
    await page.mouse.move(gx, gy);
    await page.mouse.down();
    await page.mouse.move(gx - 200, gy - 100, { steps: 5 });
    await page.mouse.move(gx - 400, gy - 300, { steps: 5 });
    await page.mouse.up();
    const after = await widget.boundingBox();
    expect(after?.x).toBeCloseTo(before.x - 400, 0);
    expect(after?.y).toBeCloseTo(before.y - 300, 0);
    await shot(page, 'widget-expanded');
    await page.getByTestId('ls-widget-collapse').click();
    await page.waitForFunction(
      () => document.querySelector('[data-testid=ls-widget]')?.getAttribute('data-collapsed') === 'true',
    );
    expect(await page.getByTestId('ls-widget-count').innerText()).toBe('2');
    const dot = await widget.boundingBox();
    expect(dot?.width).toBe(40);
    expect(dot?.x).toBeCloseTo(after?.x ?? -1, 0);
    const saved = await page.evaluate(() => localStorage.getItem('com.clawpulse.livestatus:widget'));
    expect(JSON.parse(saved ?? '{}')).toEqual({ x: after?.x, y: after?.y, collapsed: true });

    await page.reload();
    await page.waitForFunction(() => (window as any).__host?.registrations().roots === 1);
    await wsOnly(page, active('d1', 'alpha'));
    await widget.waitFor();
    expect(await widget.getAttribute('data-collapsed')).toBe('true');
    const restored = await widget.boundingBox();
    expect(restored?.x).toBe(after?.x);
    expect(restored?.y).toBe(after?.y);
    expect(await page.getByTestId('ls-widget-count').innerText()).toBe('1');
    await shot(page, 'widget-dot');
    // dragging the dot moves it and does not unfold it
    const d0 = { x: (restored?.x ?? 0) + 20, y: (restored?.y ?? 0) + 20 };
    await page.mouse.move(d0.x, d0.y);
    await page.mouse.down();
    await page.mouse.move(d0.x + 50, d0.y + 40, { steps: 5 });
    await page.mouse.up();
    expect(await widget.getAttribute('data-collapsed')).toBe('true');
    const movedDot = await widget.boundingBox();
    expect(movedDot?.x).toBe((after?.x ?? 0) + 50);
    expect(movedDot?.y).toBe((after?.y ?? 0) + 40);
    // a click (no movement) on the dot unfolds it in place; the keyboard works too
    await widget.click();
    await page.waitForFunction(
      () => document.querySelector('[data-testid=ls-widget]')?.getAttribute('data-collapsed') === 'false',
    );
    expect((await widget.boundingBox())?.x).toBe(movedDot?.x);
    await page.getByTestId('ls-widget-collapse').click();
    await widget.focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      () => document.querySelector('[data-testid=ls-widget]')?.getAttribute('data-collapsed') === 'false',
    );
  });
});

// ---- issue 21: what the Live Status v4.1 plugin did ----

/** earlier tests leave channel posts behind in the harness */
const resetChannels = () => {
  for (const k of Object.keys(h.channelPosts)) delete h.channelPosts[k];
};

const THEMES = [
  ['dark', ''],
  ['light', 'theme=light'],
] as const;
const q = (...parts: string[]) => {
  const p = parts.filter(Boolean).join('&');
  return p ? `?${p}` : '';
};

describe('orphaned boxes (stale)', () => {
  for (const [theme, tq] of THEMES) {
    it(`marks a live box with no update for longer than stale_after_ms in the post, panel and widget (${theme})`, async () => {
      resetChannels();
      const { page, errors } = await open({ query: q(tq) });
      const tree = mainTree();
      const p = post('st1', tree, { update_at: T0 });
      (p.props as { livestatus: { stale_after_ms?: number } }).livestatus.stale_after_ms = 600_000;
      await send(page, p);
      await page.getByTestId('host-header-button').click();
      await page.getByTestId('ls-box').waitFor();
      expect(await page.getByTestId('ls-box').getAttribute('data-stale')).toBe('false');
      expect(await page.getByTestId('ls-stale').count()).toBe(0);
      await advance(page, 600_000); // exactly the threshold: not yet
      expect(await page.getByTestId('ls-stale').count()).toBe(0);
      await advance(page, 1_000);
      await page.getByTestId('ls-stale').waitFor();
      const text = 'no update since 12:00 — is clawpulse running?';
      expect(await page.getByTestId('ls-stale').innerText()).toContain(text);
      expect(await page.getByTestId('ls-box').getAttribute('data-stale')).toBe('true');
      // its clock stops at the last update (38 s after the start), not 10 minutes later
      expect(await page.getByTestId('ls-header').innerText()).toMatch(/\|\s*38s/);
      const row = page
        .getByTestId('ls-rhs-live')
        .locator('[data-session-key="agent:main:mattermost:channel:abc"]');
      expect(await row.getAttribute('data-stale')).toBe('true');
      expect(await row.getByTestId('ls-session-stale').innerText()).toBe(text);
      expect(await page.getByTestId('ls-widget-stale').innerText()).toBe(text);
      // a stale box does not make the widget's dot pulse
      expect(await page.getByTestId('ls-widget-pulse').getAttribute('data-pulsing')).toBe('false');
      await shot(page, `stale-${theme}`);
      // a fresh update clears it
      await send(page, post('st1', mainTree(), { update_at: T0 + 601_000 }), 'post_edited');
      await page.getByTestId('ls-stale').waitFor({ state: 'detached' });
      // without stale_after_ms the default is 10 minutes too
      await send(
        page,
        post('st2', node({ sessionKey: 'nolimit', label: 'nolimit' }), { update_at: T0 + 601_000 }),
      );
      await advance(page, 599_000);
      expect(await page.locator('[data-session-key=nolimit][data-stale=true]').count()).toBe(0);
      await advance(page, 2_000);
      await page.locator('[data-testid=ls-rhs-live] [data-session-key=nolimit][data-stale=true]').waitFor();
      expect(errors).toEqual([]);
    });
  }
});

describe('panel: attention first, tokens and cost', () => {
  for (const [theme, tq] of THEMES) {
    it(`puts stuck and stale sessions, then errors, first and shows tokens and cost per row (${theme})`, async () => {
      resetChannels();
      const { page, errors } = await open({ query: q(tq) });
      const mk = (id: string, key: string, status: any, extra: object = {}) =>
        post(id, node({ sessionKey: key, label: key, status, startedAt: T0 - 60_000, ...extra }), {
          update_at: T0,
        });
      await send(
        page,
        mk('a1', 'newest-active', 'active', { startedAt: T0 - 1_000, tokens: 12_400, costUsd: 0.42 }),
      );
      await send(
        page,
        mk('a2', 'old-stuck', 'stuck', { startedAt: T0 - 900_000, tokens: 3_100, costUsd: 0.05 }),
      );
      await send(page, mk('a3', 'idle-one', 'idle', { startedAt: T0 - 2_000 }));
      await send(page, mk('d1', 'fine', 'done', { startedAt: T0 - 5_000, endedAt: T0 }));
      await send(page, mk('d2', 'broke', 'error', { startedAt: T0 - 50_000, endedAt: T0, error: 'boom' }));
      await send(page, mk('d3', 'cut', 'interrupted', { startedAt: T0 - 40_000, endedAt: T0 }));
      await page.getByTestId('host-header-button').click();
      const keys = (part: string) =>
        page
          .getByTestId(part)
          .getByTestId('ls-session')
          .evaluateAll((els) => els.map((e) => e.getAttribute('data-session-key')));
      await page.waitForFunction(
        () => document.querySelectorAll('[data-testid=ls-rhs-live] [data-testid=ls-session]').length === 3,
      );
      expect(await keys('ls-rhs-live')).toEqual(['old-stuck', 'newest-active', 'idle-one']);
      expect(await keys('ls-rhs-done')).toEqual(['broke', 'cut', 'fine']);
      const row = page.getByTestId('ls-rhs-live').locator('[data-session-key=newest-active]');
      expect(await row.getByTestId('ls-session-tokens').innerText()).toBe('12.4k tokens');
      expect(await row.getByTestId('ls-session-cost').innerText()).toBe('$0.42');
      expect(await page.getByTestId('ls-rhs-totals').innerText()).toBe('15.5k tokens · $0.47 running now');
      await shot(page, `rhs-attention-${theme}`);
      expect(errors).toEqual([]);
    });
  }
});

describe('widget as the original', () => {
  const busy = () =>
    node({
      sessionKey: 'busy',
      label: 'proj035',
      agentId: 'coder',
      startedAt: T0 - 95_000,
      lines: [
        { kind: 'text', text: 'line 1' },
        { kind: 'text', text: 'line 2' },
        { kind: 'tool', text: 'exec: npm test', toolStatus: 'ok' },
        { kind: 'child', childIndex: 0 },
        { kind: 'system', text: 'context compacted' },
        { kind: 'tool', text: 'read: src/a.ts', toolStatus: 'running' },
      ],
      children: [node({ sessionKey: 'busy:sub', label: 'helper', status: 'active' })],
    });

  for (const [theme, tq] of THEMES) {
    it(`shows the busiest session's last 5 lines, agent and elapsed time; folded, a pulsing dot with the count (${theme})`, async () => {
      resetChannels();
      const { page, errors } = await open({ query: q(tq) });
      await page.evaluate(() => localStorage.clear());
      await wsOnly(
        page,
        post('w1', node({ sessionKey: 'quiet', label: 'quiet' }), { channel_id: OTHER_CHANNEL }),
      );
      await wsOnly(page, post('w2', busy(), { channel_id: OTHER_CHANNEL, update_at: T0 + 5 }));
      const top = page.getByTestId('ls-widget-busiest');
      await top.waitFor();
      expect(await top.getAttribute('data-session-key')).toBe('busy');
      expect(await page.getByTestId('ls-widget-agent').innerText()).toBe('coder');
      expect(await page.getByTestId('ls-widget-elapsed').innerText()).toBe('1m35s');
      expect(await page.getByTestId('ls-widget-line').allInnerTexts()).toEqual([
        'line 2',
        '› exec: npm test',
        '↳ Sub-agent: helper',
        'context compacted',
        '› read: src/a.ts',
      ]);
      await advance(page, 5_000);
      await page.waitForFunction(
        () => document.querySelector('[data-testid=ls-widget-elapsed]')?.textContent === '1m40s',
      );
      expect(await page.getByTestId('ls-widget-title').innerText()).toBe('2 agent sessions running');
      await shot(page, `widget-busiest-${theme}`);
      // click: jump to the box
      await top.click();
      expect(await page.evaluate(() => (window as any).__host.navigations)).toEqual(['/acme/pl/w2']);
      // folded: the dot pulses and counts
      await page.getByTestId('ls-widget-collapse').click();
      const pulse = page.getByTestId('ls-widget-pulse');
      expect(await pulse.getAttribute('data-pulsing')).toBe('true');
      expect(await pulse.evaluate((el) => getComputedStyle(el).animationName)).toBe('clawpulse-ls-pulse');
      expect(await page.getByTestId('ls-widget-count').innerText()).toBe('2');
      await shot(page, `widget-dot-${theme}`);
      // click: expand
      await page.getByTestId('ls-widget').click();
      await top.waitFor();
      expect(errors).toEqual([]);
    });
  }

  it('does not animate with prefers-reduced-motion', async () => {
    const { page } = await open({ reducedMotion: 'reduce' });
    await page.evaluate(() => localStorage.setItem('com.clawpulse.livestatus:widget', '{"collapsed":true}'));
    await wsOnly(page, post('m1', busy(), { channel_id: OTHER_CHANNEL }));
    const pulse = page.getByTestId('ls-widget-pulse');
    await pulse.waitFor();
    expect(await pulse.getAttribute('data-pulsing')).toBe('true');
    expect(await pulse.evaluate((el) => getComputedStyle(el).animationName)).toBe('none');
  });
});

describe('panel sees every channel (post search)', () => {
  const TEAM = 'faketeamaaaaaaaaaaaaaaaaaa';
  const TEAM2 = 'secondteamaaaaaaaaaaaaaaaa';
  for (const [theme, tq] of THEMES) {
    it(`fills from Mattermost search across three channels and two teams, then stays live (${theme})`, async () => {
      const mm = h.mm;
      const other = 'otheruseraaaaaaaaaaaaaaaaa';
      const c1 = mm.addChannel(undefined, { teamId: TEAM });
      const c2 = mm.addChannel(undefined, { teamId: TEAM });
      const c3 = mm.addChannel(undefined, { teamId: TEAM2 });
      const hidden = mm.addChannel(undefined, { teamId: TEAM, member: false });
      const box = (channel_id: string, key: string, status: any = 'active') =>
        mm.postAs(other, {
          channel_id,
          type: 'custom_livestatus',
          message: `clawpulse live status: ${key} (clawpulsebox)`,
          props: {
            livestatus: {
              v: 1,
              updatedAt: T0,
              root: node({ sessionKey: `${theme}-${key}`, label: key, status, tokens: 1000 }),
            },
          },
        });
      const p1 = box(c1, 'alpha');
      box(c2, 'beta', 'stuck');
      box(c3, 'gamma');
      box(hidden, 'secret');
      mm.postAs(other, { channel_id: c1, message: 'just chatting about clawpulse' });
      const before = h.searchRequests.length;
      resetChannels();
      const { page, errors } = await open({ query: q(tq) });
      await page.getByTestId('host-header-button').click();
      await page.waitForFunction(
        () => document.querySelector('[data-testid=ls-rhs]')?.getAttribute('data-load') === 'loaded',
      );
      const reqs = h.searchRequests.slice(before);
      expect(reqs.map((r) => r.url).sort()).toEqual([
        `/api/v4/teams/${TEAM}/posts/search`,
        `/api/v4/teams/${TEAM2}/posts/search`,
      ]);
      for (const r of reqs) {
        expect(r.body).toEqual({ terms: 'clawpulsebox', is_or_search: false, page: 0, per_page: 100 });
        expect(r.requestedWith).toBe('XMLHttpRequest');
      }
      const live = () =>
        page
          .getByTestId('ls-rhs-live')
          .getByTestId('ls-session')
          .evaluateAll((els) => els.map((e) => e.getAttribute('data-session-key')));
      const mine = (await live()).filter((k) => k?.startsWith(`${theme}-`));
      // the stuck one first, then the active ones; the non-member channel's box never shows
      expect(mine[0]).toBe(`${theme}-beta`);
      expect([...mine].sort()).toEqual([`${theme}-alpha`, `${theme}-beta`, `${theme}-gamma`]);
      expect(mine).not.toContain(`${theme}-secret`);
      await shot(page, `rhs-search-${theme}`);
      // live through the WebSocket from then on: alpha ends in a channel the user is not viewing
      const ended = {
        ...p1,
        update_at: p1.update_at + 1,
        props: {
          livestatus: {
            v: 1,
            updatedAt: T0 + 10_000,
            root: node({ sessionKey: `${theme}-alpha`, label: 'alpha', status: 'done', endedAt: T0 }),
          },
        },
      };
      await wsOnly(page, ended as unknown as MmPost, 'post_edited');
      await page
        .locator(`[data-testid=ls-rhs-done] [data-session-key="${theme}-alpha"][data-status=done]`)
        .waitFor();
      expect(errors).toEqual([]);
    });
  }
});

describe('older servers: registries shaped like each version', () => {
  const cases = [
    {
      mm: '10',
      caps: {
        postType: true,
        rhs: true,
        channelHeaderButton: true,
        appBar: true,
        widget: true,
        websocket: true,
        reconnect: true,
      },
    },
    {
      mm: '9.0',
      caps: {
        postType: true,
        rhs: true,
        channelHeaderButton: true,
        appBar: true,
        widget: true,
        websocket: true,
        reconnect: true,
      },
    },
    {
      mm: '7.0',
      caps: {
        postType: true,
        rhs: true,
        channelHeaderButton: true,
        appBar: true,
        widget: true,
        websocket: true,
        reconnect: true,
      },
    },
    {
      mm: '6.0',
      caps: {
        postType: true,
        rhs: true,
        channelHeaderButton: true,
        appBar: false,
        widget: true,
        websocket: true,
        reconnect: true,
      },
    },
    {
      mm: 'trimmed',
      caps: {
        postType: true,
        rhs: false,
        channelHeaderButton: false,
        appBar: false,
        widget: false,
        websocket: true,
        reconnect: false,
      },
    },
  ];
  for (const c of cases) {
    it(`runs on a ${c.mm} registry and degrades where a call is missing`, async () => {
      const { page, errors } = await open({ query: q(`mm=${c.mm}`), roots: c.caps.widget ? 1 : 0 });
      const caps = await page.evaluate(() => (window as any).__host.capabilities());
      expect(caps).toMatchObject(c.caps);
      if (c.mm === 'trimmed') expect(caps.errors).toEqual(['rhs: RHS not available']);
      else expect(caps.errors).toEqual([]);
      await send(page, post('v1', mainTree()));
      await page.getByTestId('ls-box').waitFor();
      if (c.caps.rhs) {
        await page.getByTestId('host-header-button').click();
        await page.getByTestId('ls-rhs').waitFor();
      }
      if (c.caps.widget) await page.getByTestId('ls-widget').waitFor();
      expect(errors).toEqual([]);
    });
  }
});

// ---- issue 19: a cost the daemon priced from its price table (props `costEstimated`) ----

describe('estimated cost', () => {
  const TITLE = 'estimated from the price table: the source reported no cost';
  for (const [theme, tq] of THEMES) {
    it(`marks it "~$… est." in the post, the panel and the widget; a source's cost stays plain (${theme})`, async () => {
      resetChannels();
      const { page, errors } = await open({ query: q(tq) });
      await page.evaluate(() => localStorage.clear());
      const estimated = node({
        sessionKey: 'agent:main:cron:no-cost-report',
        label: 'no-cost report',
        tokens: 105_000,
        costUsd: 0.375,
        costEstimated: true,
        lines: [
          { kind: 'text', text: 'Summing the nightly numbers...' },
          { kind: 'child', childIndex: 0 },
        ],
        // a running sub-agent makes it the widget's busiest, whatever other tests left live
        children: [node({ sessionKey: 'agent:main:subagent:fetcher', label: 'fetcher' })],
      });
      const priced = node({
        sessionKey: 'agent:main:priced',
        label: 'priced',
        status: 'done',
        endedAt: T0,
        tokens: 20_000,
        costUsd: 0.5,
      });
      await send(page, post('e1', estimated, { update_at: T0 + 10 }));
      await send(page, post('e2', priced, { update_at: T0 }));

      // the post: the footer's cost, with the tooltip
      const box = page.locator('[data-testid=ls-box][data-session-key="agent:main:cron:no-cost-report"]');
      await box.waitFor();
      expect(await box.getByTestId('ls-footer').last().innerText()).toMatch(
        /\[ACTIVE\]\s*38s \| 105\.0k tokens \| ~\$0\.38 est\.$/,
      );
      const cost = box.getByTestId('ls-footer-cost');
      expect(await cost.getAttribute('title')).toBe(TITLE);
      const plain = page.locator('[data-testid=ls-box][data-session-key="agent:main:priced"]');
      expect(await plain.getByTestId('ls-footer-cost').innerText()).toBe('$0.50');
      expect(await plain.getByTestId('ls-footer-cost').getAttribute('title')).toBeNull();

      // the panel: the row and the running total
      await page.getByTestId('host-header-button').click();
      const row = page
        .getByTestId('ls-rhs-live')
        .locator('[data-session-key="agent:main:cron:no-cost-report"]');
      await row.waitFor();
      expect(await row.getByTestId('ls-session-cost').innerText()).toBe('~$0.38 est.');
      expect(await row.getByTestId('ls-session-cost').getAttribute('title')).toBe(TITLE);
      const doneRow = page.getByTestId('ls-rhs-done').locator('[data-session-key="agent:main:priced"]');
      expect(await doneRow.getByTestId('ls-session-cost').innerText()).toBe('$0.50');
      // the running total (with live boxes other tests left on the fake server's search) is marked
      expect(await page.getByTestId('ls-rhs-totals').innerText()).toMatch(
        /^[\d.]+k tokens · ~\$\d+\.\d\d est\. running now$/,
      );
      expect(await page.getByTestId('ls-rhs-totals').getAttribute('title')).toBe(TITLE);

      // the widget: the busiest session's cost
      const top = page.getByTestId('ls-widget-busiest');
      await top.waitFor();
      expect(await top.getAttribute('data-session-key')).toBe('agent:main:cron:no-cost-report');
      expect(await page.getByTestId('ls-widget-cost').innerText()).toBe('~$0.38 est.');
      expect(await page.getByTestId('ls-widget-cost').getAttribute('title')).toBe(TITLE);
      await shot(page, `estimated-cost-${theme}`);

      // the daemon's next update without the mark (an older daemon): the plain cost again
      await send(
        page,
        post('e1', { ...estimated, costEstimated: undefined }, { update_at: T0 + 20 }),
        'post_edited',
      );
      await page.waitForFunction(
        () => document.querySelector('[data-testid=ls-widget-cost]')?.textContent === '$0.38',
      );
      expect(await box.getByTestId('ls-footer-cost').innerText()).toBe('$0.38');
      expect(errors).toEqual([]);
    });
  }
});

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchChannelPosts } from './api.js';
import { formatCost, formatCostMarked, formatDuration, formatTokens, formatToolDuration } from './format.js';
import { paletteOf, statusColor, withAlpha } from './theme.js';
import { clampPosition, loadWidgetPrefs, saveWidgetPrefs, WIDGET_PREFS_KEY } from './widget-prefs.js';

describe('format', () => {
  it('formats durations, tokens and cost like the text box', () => {
    expect(formatDuration(38_400)).toBe('38s');
    expect(formatDuration(125_000)).toBe('2m05s');
    expect(formatDuration(3_726_000)).toBe('1h02m');
    expect(formatDuration(-5)).toBe('0s');
    expect(formatToolDuration(120)).toBe('120ms');
    expect(formatToolDuration(2300)).toBe('2.3s');
    expect(formatTokens(999)).toBe('999 tokens');
    expect(formatTokens(12_400)).toBe('12.4k tokens');
    expect(formatTokens(2_500_000)).toBe('2.50M tokens');
    expect(formatCost(0)).toBe('');
    expect(formatCost(0.004)).toBe('<$0.01');
    expect(formatCost(0.42)).toBe('$0.42');
    // a cost the daemon priced from its price table reads as the text box marks it
    expect(formatCostMarked(0.42, true)).toBe('~$0.42 est.');
    expect(formatCostMarked(0.42, undefined)).toBe('$0.42');
    expect(formatCostMarked(0, true)).toBe('');
  });
});

describe('theme', () => {
  it('derives colours from the Mattermost theme with defaults for missing keys', () => {
    expect(withAlpha('#3f4350', 0.5)).toBe('rgba(63, 67, 80, 0.5)');
    expect(withAlpha('#fff', 1)).toBe('rgba(255, 255, 255, 1)');
    expect(withAlpha('red', 0.5)).toBe('red');
    const p = paletteOf({ onlineIndicator: '#00ff00', errorTextColor: 42 as never });
    expect(statusColor(p, 'done')).toBe('#00ff00');
    expect(statusColor(p, 'error')).toBe('#d24b4e');
    expect(statusColor(paletteOf(null), 'active')).toBe('#386fe5');
  });
});

describe('widget prefs', () => {
  it('round-trips, tolerates garbage and broken storage', () => {
    const data = new Map<string, string>();
    const storage = {
      getItem: (k: string) => data.get(k) ?? null,
      setItem: (k: string, v: string) => void data.set(k, v),
    };
    expect(loadWidgetPrefs(storage)).toEqual({ collapsed: false });
    saveWidgetPrefs({ x: 10, y: 20, collapsed: true }, storage);
    expect(loadWidgetPrefs(storage)).toEqual({ x: 10, y: 20, collapsed: true });
    data.set(WIDGET_PREFS_KEY, '{oops');
    expect(loadWidgetPrefs(storage)).toEqual({ collapsed: false });
    data.set(WIDGET_PREFS_KEY, '{"x":"1","y":2,"collapsed":"yes"}');
    expect(loadWidgetPrefs(storage)).toEqual({ collapsed: false });
    const broken = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('quota');
      },
    };
    expect(loadWidgetPrefs(broken)).toEqual({ collapsed: false });
    expect(() => saveWidgetPrefs({ collapsed: true }, broken)).not.toThrow();
    expect(clampPosition(-50, 900, 40, 40, 1280, 800)).toEqual({ x: 0, y: 760 });
    expect(clampPosition(100.4, 50.6, 40, 40, 1280, 800)).toEqual({ x: 100, y: 51 });
  });
});

describe('fetchChannelPosts (real HTTP)', () => {
  let server: http.Server;
  let base = '';
  const seen: Array<{ url: string; xrw: unknown }> = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push({ url: req.url ?? '', xrw: req.headers['x-requested-with'] });
      const id = /channels\/(\w+)\//.exec(req.url ?? '')?.[1];
      if (id === 'denied') return void res.writeHead(401).end('{}');
      if (id === 'garbage') return void res.writeHead(200).end('not json');
      if (id === 'shape') return void res.writeHead(200).end('{"order":[]}');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ order: ['a'], posts: { a: { id: 'a', type: 'custom_livestatus' }, b: 5 } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  const f = (url: string, init?: RequestInit) => fetch(base + url, init);

  it('loads posts with the webapp headers and reports failures as values', async () => {
    expect(await fetchChannelPosts(f, 'chan1')).toEqual({
      ok: true,
      posts: [{ id: 'a', type: 'custom_livestatus' }],
    });
    expect(seen[0]).toEqual({ url: '/api/v4/channels/chan1/posts?per_page=60', xrw: 'XMLHttpRequest' });
    expect(await fetchChannelPosts(f, 'denied')).toEqual({ ok: false, error: 'HTTP 401' });
    expect((await fetchChannelPosts(f, 'garbage')).ok).toBe(false);
    expect(await fetchChannelPosts(f, 'shape')).toEqual({ ok: false, error: 'unexpected response' });
    expect(await fetchChannelPosts(f, '../etc')).toEqual({ ok: false, error: 'no channel' });
    const refused = await fetchChannelPosts((u, i) => fetch(`http://127.0.0.1:1${u}`, i), 'chan1');
    expect(refused.ok).toBe(false);
  });
});

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../infra/clock.js';
import type { LiveStatusProps } from '../../render/livestatus-props.js';
import { FAKE_TEAM_ID } from '../../test-support/fake-mattermost/server.js';
import { PLUGIN_ID, PLUGIN_SECRET_HEADER } from './plugin-mode.js';
import { createHarness, type Harness, settle, waitFor, waitForBoxes } from './test-harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function setup(config: Parameters<typeof createHarness>[0]['config'], plugins: string[] = [PLUGIN_ID]) {
  const clock = new ManualClock(1_700_000_000_000);
  const hh = await createHarness({
    clock,
    config: { pluginEnabled: true, ...config },
    fake: { webappPlugins: plugins },
  });
  h = hh;
  await hh.sink.start();
  return { clock, h: hh, key: `agent:main:mattermost:channel:${hh.channel}` };
}

const livestatus = (p: { props: Record<string, unknown> } | undefined) =>
  p?.props.livestatus as LiveStatusProps | undefined;

describe('Mattermost sink: plugin mode', () => {
  it('creates a custom_livestatus post and updates it by props-only patches: edit_at stays 0', async () => {
    const { h, clock, key } = await setup({});
    expect(h.sink.health().mode).toBe('plugin');
    h.push({ type: 'agent.started', sessionKey: key, runId: 'r1' });
    await waitForBoxes(h, 1);
    const created = h.mm.livePosts()[0];
    expect(created?.type).toBe('custom_livestatus');
    expect(created?.props.from_bot).toBe('true');
    const message = created?.message;
    expect(message).toMatch(/clawpulse live status/);
    for (const text of ['first step', 'second step']) {
      h.push({ type: 'assistant.text', sessionKey: key, runId: 'r1', text });
      clock.advance(500);
      await waitFor(() => JSON.stringify(livestatus(h.mm.livePosts()[0])).includes(text), text);
    }
    const patchBodies = h.mm.requests('PUT').map((r) => r.body as Record<string, unknown>);
    expect(patchBodies.length).toBe(2);
    expect(patchBodies.every((b) => !('message' in b) && 'props' in b)).toBe(true);
    const post = h.mm.livePosts()[0];
    expect(post?.edit_at).toBe(0);
    expect(post?.message).toBe(message);
    // patch replaces the whole props map: the server's from_bot must be sent back
    expect(post?.props.from_bot).toBe('true');
    expect(livestatus(post)?.root.sessionKey).toBe(key);
    expect(livestatus(post)?.v).toBe(1);
  });

  it('keeps a live box fresh with a props patch every third of its stale threshold; a finished box rests', async () => {
    const { h, clock, key } = await setup({ pluginStaleAfterMs: 600_000 });
    h.push({ type: 'agent.started', sessionKey: key, runId: 'r1' });
    await waitForBoxes(h, 1);
    await settle(h.mm);
    const puts = () => h?.mm.requests('PUT').length ?? 0;
    const before = puts();
    const first = livestatus(h.mm.livePosts()[0])?.updatedAt ?? 0;
    // nothing happens in the session (a long tool call): no patch before the keepalive period
    clock.advance(150_000);
    await settle(h.mm);
    expect(puts()).toBe(before);
    clock.advance(60_000);
    await waitFor(() => puts() === before + 1, 'a keepalive patch');
    const kept = livestatus(h.mm.livePosts()[0])?.updatedAt ?? 0;
    expect(kept - first).toBeGreaterThanOrEqual(200_000);
    expect(livestatus(h.mm.livePosts()[0])?.stale_after_ms).toBe(600_000);
    // a finished session's box is not refreshed (idle, then done after the idle timeout)
    h.push({ type: 'agent.finished', sessionKey: key, runId: 'r1', outcome: 'ok' });
    for (let i = 0; i < 5 && livestatus(h.mm.livePosts()[0])?.root.status !== 'done'; i++) {
      clock.advance(60_000);
      h.pipeline.tick(clock.now());
      await settle(h.mm);
    }
    expect(livestatus(h.mm.livePosts()[0])?.root.status).toBe('done');
    const ended = puts();
    clock.advance(2_000_000);
    await settle(h.mm);
    expect(puts()).toBe(ended);
  });

  it('falls back to REST when the plugin is disabled, checked every 60 s', async () => {
    const { h, clock, key } = await setup({});
    expect(h.sink.health().mode).toBe('plugin');
    h.mm.webappPlugins.clear();
    clock.advance(59_999);
    await settle(h.mm);
    expect(h.sink.health().mode).toBe('plugin');
    clock.advance(1);
    await waitFor(() => h.sink.health().mode === 'rest', 'rest mode');
    h.push({ type: 'agent.started', sessionKey: key, runId: 'r1' });
    await waitForBoxes(h, 1);
    expect(h.mm.livePosts()[0]?.type).toBe('');
    expect(h.mm.livePosts()[0]?.message.startsWith('> [ACTIVE]')).toBe(true);
  });

  it('a plugin box whose plugin went away gets the text in its message again', async () => {
    const { h, clock, key } = await setup({});
    h.push({ type: 'agent.started', sessionKey: key, runId: 'r1' });
    await waitForBoxes(h, 1);
    h.mm.webappPlugins.clear();
    clock.advance(60_000);
    await waitFor(() => h.sink.health().mode === 'rest', 'rest mode');
    h.push({ type: 'assistant.text', sessionKey: key, runId: 'r1', text: 'visible without plugin' });
    await waitFor(
      () => h.mm.livePosts()[0]?.message.includes('visible without plugin') ?? false,
      'message edit',
    );
    const post = h.mm.livePosts()[0];
    expect(post?.type).toBe('custom_livestatus');
    expect(post?.message.startsWith('> [ACTIVE]')).toBe(true);
    expect(JSON.stringify(livestatus(post))).toContain('visible without plugin');
    expect(post?.props.from_bot).toBe('true');
  });

  it('PLUGIN_ENABLED=false forces REST mode and never asks', async () => {
    const { h } = await setup({ pluginEnabled: false });
    expect(h.sink.health().mode).toBe('rest');
    expect(h.mm.requests('GET', '/api/v4/plugins')).toHaveLength(0);
  });

  it('PLUGIN_URL replaces the check and gets PLUGIN_SECRET in a header', async () => {
    const seen: Array<string | undefined> = [];
    const srv = createServer((req, res) => {
      seen.push(req.headers[PLUGIN_SECRET_HEADER.toLowerCase()] as string | undefined);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ enabled: true }));
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/status`;
      const { h } = await setup({ pluginUrl: url, pluginSecret: 's3cret' }, []);
      expect(h.sink.health().mode).toBe('plugin');
      expect(seen).toEqual(['s3cret']);
      expect(h.mm.requests('GET', '/api/v4/plugins')).toHaveLength(0);
    } finally {
      srv.closeAllConnections();
      await new Promise((r) => srv.close(r));
    }
  });
});

describe('Mattermost sink: start', () => {
  it('a rejected token disables the sink with a reason naming MM_URL and the status', async () => {
    const clock = new ManualClock(0);
    const hh = await createHarness({ clock, config: { token: 'wrong' } });
    h = hh;
    await hh.sink.start();
    const health = hh.sink.health();
    expect(health.state).toBe('disabled');
    expect(health.reason).toContain(`MM_URL=${hh.mm.url}`);
    expect(health.reason).toContain('401');
    hh.push({ type: 'agent.started', sessionKey: `agent:main:mattermost:channel:${hh.channel}`, runId: 'r' });
    await settle(hh.mm);
    expect(hh.mm.requests('POST')).toHaveLength(0);
  });

  it('fits the box within the server MaxPostSize, counted in code points', async () => {
    const clock = new ManualClock(0);
    const hh = await createHarness({ clock, fake: { maxPostSize: 300 } });
    h = hh;
    await hh.sink.start();
    expect(hh.sink.health().maxMessageChars).toBe(300);
    const key = `agent:main:mattermost:channel:${hh.channel}`;
    hh.push({ type: 'agent.started', sessionKey: key, runId: 'r' });
    for (let i = 0; i < 12; i++)
      hh.push({ type: 'assistant.text', sessionKey: key, runId: 'r', text: `${'😀'.repeat(30)} ${i}` });
    clock.advance(500);
    await waitFor(() => hh.mm.livePosts()[0]?.message.includes(' 11') ?? false, 'last line');
    const msg = hh.mm.livePosts()[0]?.message ?? '';
    expect([...msg].length).toBeLessThanOrEqual(300);
    expect(msg.startsWith('> [ACTIVE]')).toBe(true);
    expect(hh.mm.requests().filter((r) => r.status === 400)).toHaveLength(0);
  });

  it('a server that refuses a box as too long despite its published MaxPostSize gets a shorter one', async () => {
    const clock = new ManualClock(0);
    const hh = await createHarness({ clock, fake: { maxPostSize: 1500, publishedMaxPostSize: 16383 } });
    h = hh;
    await hh.sink.start();
    const key = `agent:main:mattermost:channel:${hh.channel}`;
    const lines = Array.from({ length: 14 }, (_, i) => ({
      type: 'assistant.text' as const,
      sessionKey: key,
      runId: 'r',
      text: `${'x'.repeat(190)} ${i}`,
    }));
    hh.push({ type: 'agent.started', sessionKey: key, runId: 'r' }, ...lines);
    await waitFor(
      () => hh.mm.requests('POST', '/api/v4/posts').some((r) => r.status === 400),
      'refused create',
    );
    for (let i = 0; i < 10 && hh.mm.livePosts().length === 0; i++) {
      await settle(hh.mm);
      clock.advance(500);
    }
    await waitFor(() => hh.mm.livePosts().length === 1, 'shorter box accepted');
    const msg = hh.mm.livePosts()[0]?.message ?? '';
    expect([...msg].length).toBeLessThanOrEqual(1500);
    expect(msg).toContain(' 13'); // the newest line survives the cut
    expect(hh.sink.health().maxMessageChars).toBeLessThan(1500);
    expect(
      hh.mm.requests('POST', '/api/v4/posts').filter((r) => r.status === 400).length,
    ).toBeLessThanOrEqual(3);
  });

  it('puts the search marker in the fixed message and the stale threshold in the props (issue 21)', async () => {
    const { h, key } = await setup({ pluginStaleAfterMs: 420_000 });
    h.push({ type: 'agent.started', sessionKey: key, runId: 'r1' });
    await waitForBoxes(h, 1);
    const created = h.mm.livePosts()[0];
    expect(created?.message).toMatch(/^clawpulse live status: .+ \(clawpulsebox\)$/);
    expect(livestatus(created)?.stale_after_ms).toBe(420_000);
    // the plugin's panel query finds it through the (fake) post search
    const res = await fetch(`${h.mm.url}/api/v4/teams/${FAKE_TEAM_ID}/posts/search`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.mm.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ terms: 'clawpulsebox', is_or_search: false, page: 0, per_page: 60 }),
    });
    const found = (await res.json()) as { order: string[] };
    expect(found.order).toEqual([created?.id]);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../infra/clock.js';
import { createHarness, type Harness, settle, waitFor, waitForBoxes } from './test-harness.js';

const CH_KEY = (ch: string, thread?: string) =>
  `agent:main:mattermost:channel:${ch}${thread ? `:thread:${thread}` : ''}`;

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function setup(
  config: Parameters<typeof createHarness>[0]['config'] = {},
  fake = {},
  channel?: string,
) {
  const clock = new ManualClock(1_700_000_000_000);
  h = await createHarness({ clock, config, fake, channel });
  await h.sink.start();
  return { clock, h };
}

const patches = (hh: Harness) => hh.mm.requests('PUT').filter((r) => r.path.endsWith('/patch'));
const creates = (hh: Harness) => hh.mm.requests('POST', '/api/v4/posts');

describe('Mattermost sink: routing and create', () => {
  it('creates one blockquoted box in the session channel and thread, with a pending_post_id', async () => {
    const { h } = await setup();
    const root = (await (async () => {
      const r = await fetch(`${h.mm.url}/api/v4/posts`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${h.mm.token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ channel_id: h.channel, message: 'user asks' }),
      });
      return r.json();
    })()) as { id: string };
    const key = CH_KEY(h.channel, root.id);
    h.push(
      { type: 'agent.started', sessionKey: key, runId: 'r1' },
      { type: 'assistant.text', sessionKey: key, runId: 'r1', text: 'Reading files...' },
    );
    await waitFor(() => h.mm.livePosts().length === 2, 'box post');
    const box = h.mm.livePosts()[1];
    expect(box?.channel_id).toBe(h.channel);
    expect(box?.root_id).toBe(root.id);
    expect(box?.message.split('\n').every((l) => l.startsWith('>'))).toBe(true);
    expect(box?.message).toContain('Reading files...');
    const create = creates(h)[1];
    expect(typeof (create?.body as { pending_post_id?: string } | undefined)?.pending_post_id).toBe('string');
    expect(create?.headers['content-type']).toBe('application/json');
  });

  it('nests sub-agents in the parent box, never as their own box', async () => {
    const { h, clock } = await setup();
    const parent = CH_KEY(h.channel);
    const child = 'agent:main:subagent:kid1';
    h.push({ type: 'agent.started', sessionKey: parent, runId: 'r1' });
    await waitForBoxes(h, 1);
    h.push({
      type: 'subagent.spawned',
      sessionKey: parent,
      parentKey: parent,
      childKey: child,
      label: 'planner',
    });
    h.push({ type: 'assistant.text', sessionKey: child, text: 'Planning deeply' });
    clock.advance(500);
    await waitFor(
      () => h.mm.livePosts()[0]?.message.includes('Planning deeply') ?? false,
      'child line in parent box',
    );
    expect(h.mm.livePosts()).toHaveLength(1);
  });

  it('sends other sessions to DEFAULT_CHANNEL, or nowhere without it', async () => {
    const { h: h1 } = await setup();
    h1.push({ type: 'agent.started', sessionKey: 'agent:main:telegram:direct:42', runId: 'r' });
    await settle(h1.mm);
    expect(h1.mm.livePosts()).toHaveLength(0);
    await h1.close();
    const def = 'd'.repeat(26);
    const { h: h2 } = await setup({ defaultChannel: def }, {}, def);
    h2.push({ type: 'agent.started', sessionKey: 'agent:main:telegram:direct:42', runId: 'r' });
    await waitFor(() => h2.mm.livePosts().length === 1, 'default channel box');
    expect(h2.mm.livePosts()[0]?.channel_id).toBe(def);
    expect(h2.mm.livePosts()[0]?.root_id).toBe('');
  });

  it('keeps at most MAX_ACTIVE_SESSIONS boxes live; the next waits until one finishes', async () => {
    const { h, clock } = await setup({ maxActiveSessions: 1 });
    const a = CH_KEY(h.channel);
    const b = `agent:other:mattermost:channel:${h.channel}`;
    h.push({ type: 'agent.started', sessionKey: a, runId: 'r1' });
    await waitFor(() => h.mm.livePosts().length === 1, 'first box');
    h.push({ type: 'agent.started', sessionKey: b, runId: 'r2', agentId: 'other' });
    await settle(h.mm);
    expect(h.mm.livePosts()).toHaveLength(1);
    expect(h.sink.health().boxes).toMatchObject({ live: 1, waiting: 1 });
    h.push({ type: 'agent.finished', sessionKey: a, runId: 'r1', outcome: 'error', error: 'boom' });
    await settle(h.mm);
    // the finished box is released only once its final state is delivered (trailing edge)
    expect(h.mm.livePosts()).toHaveLength(1);
    clock.advance(500);
    await waitFor(() => h.mm.livePosts().length === 2, 'second box after the first finished');
    expect(h.mm.livePosts()[0]?.message).toContain('[ERROR]');
    expect(h.sink.health().boxes).toMatchObject({ live: 1, waiting: 0 });
  });
});

describe('Mattermost sink: coalescing', () => {
  it('sends the leading edge, one trailing edit per THROTTLE_MS with the newest text, skips identical', async () => {
    const { h, clock } = await setup({ throttleMs: 500 });
    const key = CH_KEY(h.channel);
    h.push({ type: 'agent.started', sessionKey: key, runId: 'r1' });
    await waitFor(() => creates(h).length === 1 && h.mm.livePosts().length === 1, 'create');
    for (let i = 0; i < 20; i++) {
      clock.advance(10);
      h.push({ type: 'assistant.text', sessionKey: key, runId: 'r1', text: `step ${i}` });
    }
    await settle(h.mm);
    expect(patches(h)).toHaveLength(0);
    clock.advance(500);
    await waitFor(() => patches(h).length === 1, 'trailing edit');
    expect(h.mm.livePosts()[0]?.message).toContain('step 19');
    // a change that leaves the text as it is (tokens while active, same instant) sends nothing
    const n = patches(h).length;
    h.push({
      type: 'llm.tokens',
      sessionKey: key,
      runId: 'r1',
      input: 10,
      output: 5,
      cacheRead: 0,
      cacheWrite: 0,
      reasoning: 0,
      costUsd: 0,
    });
    clock.advance(1000);
    await settle(h.mm);
    expect(patches(h)).toHaveLength(n);
    expect(h.sink.health().counters.edits).toBe(n);
  });
});

describe('Mattermost sink: server-wide pace', () => {
  it('spreads the creates of many sessions at maxRequestsPerSec', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    h = await createHarness({ clock, maxRequestsPerSec: 2, requestBurst: 1 });
    const hh = h;
    await hh.sink.start();
    for (let i = 0; i < 4; i++)
      hh.push({
        type: 'agent.started',
        sessionKey: `agent:a${i}:mattermost:channel:${hh.channel}`,
        agentId: `a${i}`,
        runId: 'r',
      });
    await waitFor(() => hh.mm.livePosts().length === 1, 'first create');
    await settle(hh.mm);
    expect(hh.mm.livePosts()).toHaveLength(1);
    clock.advance(500);
    await waitFor(() => hh.mm.livePosts().length === 2, 'second create after 500 ms');
    clock.advance(1000);
    await waitFor(() => hh.mm.livePosts().length === 4, 'all four');
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../infra/clock.js';
import { createHarness, type Harness, settle, waitFor, waitForBoxes } from './test-harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function setup(config: Parameters<typeof createHarness>[0]['config'] = {}) {
  const clock = new ManualClock(1_700_000_000_000);
  const hh = await createHarness({ clock, config });
  h = hh;
  await hh.sink.start();
  const key = `agent:main:mattermost:channel:${hh.channel}`;
  return { clock, h: hh, key };
}

const patches = (hh: Harness) => hh.mm.requests('PUT').filter((r) => r.path.endsWith('/patch'));
const creates = (hh: Harness) => hh.mm.requests('POST', '/api/v4/posts');

describe('Mattermost sink: failures', () => {
  it('a create whose answer was lost: the box finds its post by its mark and adopts it, one post', async () => {
    const { h, clock, key } = await setup();
    h.mm.loseAnswerNext(1);
    h.push({ type: 'agent.started', sessionKey: key, runId: 'r1' });
    await waitFor(() => creates(h).length === 1 && creates(h)[0]?.status === -1, 'lost create');
    await settle(h.mm);
    expect(h.mm.livePosts()).toHaveLength(1); // the server did create it
    h.push({ type: 'assistant.text', sessionKey: key, runId: 'r1', text: 'after retry' });
    clock.advance(500);
    await waitFor(
      () => h.mm.livePosts()[0]?.message.includes('after retry') ?? false,
      'edit of the found post',
    );
    // looked up among the channel's posts, not created again
    expect(creates(h)).toHaveLength(1);
    const lookups = h.mm.requests('GET', `/api/v4/channels/${h.channel}/posts`);
    expect(lookups).toHaveLength(1);
    expect(Number(lookups[0]?.query.since)).toBeGreaterThan(0);
    expect(h.mm.livePosts()).toHaveLength(1);
    expect(h.mm.livePosts()[0]?.props.clawpulse_box).toBe(
      (creates(h)[0]?.body as { pending_post_id?: string } | undefined)?.pending_post_id,
    );
  });

  it('a create retried within the server window carries the same pending_post_id: one post', async () => {
    const { h, clock, key } = await setup();
    h.mm.failNext(1, 504); // a proxy timed out: the create may or may not have happened
    h.push({ type: 'agent.started', sessionKey: key, runId: 'r1' });
    await waitFor(() => creates(h).length === 1 && creates(h)[0]?.status === 504, 'gateway timeout');
    clock.advance(500);
    await waitFor(() => creates(h).length === 2 && creates(h)[1]?.status === 201, 'retried create');
    const [a, b] = creates(h).map((r) => (r.body as { pending_post_id: string }).pending_post_id);
    expect(b).toBe(a);
    expect(h.mm.requests('GET', `/api/v4/channels/${h.channel}/posts`)).toHaveLength(1);
    expect(h.mm.livePosts()).toHaveLength(1);
  });

  it('opens the breaker after THRESHOLD failures, sends nothing while open, probes after the cooldown', async () => {
    const { h, clock, key } = await setup({ breakerThreshold: 3, breakerCooldownMs: 30_000 });
    h.mm.failNext(100, 503);
    h.push({ type: 'agent.started', sessionKey: key, runId: 'r1' });
    await waitFor(() => creates(h).length === 1 && creates(h)[0]?.status === 503, 'first failure');
    for (let i = 2; i <= 3; i++) {
      clock.advance(500);
      await waitFor(() => creates(h).length === i && creates(h)[i - 1]?.status === 503, `failure ${i}`);
    }
    await settle(h.mm);
    expect(h.sink.health().breaker?.state).toBe('open');
    expect(h.sink.health().state).toBe('degraded');
    const before = h.mm.log.length;
    h.push({ type: 'assistant.text', sessionKey: key, runId: 'r1', text: 'while open' });
    clock.advance(29_000);
    await settle(h.mm);
    expect(h.mm.log.length).toBe(before); // fails fast, no request reaches the server
    h.mm.failNext(0);
    clock.advance(1_000);
    await waitFor(() => h.mm.livePosts().length === 1, 'probe creates the box');
    expect(h.mm.livePosts()[0]?.message).toContain('while open');
    await waitFor(() => h.sink.health().breaker?.state === 'closed', 'breaker closed by the probe');
    expect(h.mm.log.length).toBe(before + 1); // exactly one probe
  });

  it('a 429 pauses sending for Retry-After', async () => {
    const { h, clock, key } = await setup();
    h.push({ type: 'agent.started', sessionKey: key, runId: 'r1' });
    await waitForBoxes(h, 1);
    h.mm.rateLimitNext(1, 3);
    h.push({ type: 'assistant.text', sessionKey: key, runId: 'r1', text: 'limited' });
    clock.advance(500);
    await waitFor(() => patches(h).length === 1 && patches(h)[0]?.status === 429, '429');
    await settle(h.mm);
    clock.advance(2_999);
    await settle(h.mm);
    expect(patches(h)).toHaveLength(1);
    clock.advance(1);
    await waitFor(() => patches(h).length === 2 && patches(h)[1]?.status === 200, 'edit after Retry-After');
    expect(h.mm.livePosts()[0]?.message).toContain('limited');
    expect(h.sink.health().counters.rateLimited).toBe(1);
    expect(h.sink.health().breaker?.state).toBe('closed');
  });

  it('recreates a box a user deleted, once', async () => {
    const { h, clock, key } = await setup();
    h.push({ type: 'agent.started', sessionKey: key, runId: 'r1' });
    await waitForBoxes(h, 1);
    const first = h.mm.livePosts()[0]?.id as string;
    h.mm.deletePost(first);
    h.push({ type: 'assistant.text', sessionKey: key, runId: 'r1', text: 'one' });
    clock.advance(500);
    await waitFor(() => h.mm.livePosts().length === 1 && h.mm.livePosts()[0]?.id !== first, 'recreated box');
    expect(patches(h)[0]?.status).toBe(403);
    expect(h.mm.livePosts()[0]?.message).toContain('one');
    h.mm.deletePost(h.mm.livePosts()[0]?.id as string);
    h.push({ type: 'assistant.text', sessionKey: key, runId: 'r1', text: 'two' });
    clock.advance(500);
    await settle(h.mm);
    h.push({ type: 'assistant.text', sessionKey: key, runId: 'r1', text: 'three' });
    clock.advance(500);
    await settle(h.mm);
    expect(h.mm.livePosts()).toHaveLength(0);
    expect(creates(h)).toHaveLength(2);
    expect(h.sink.health().counters.recreated).toBe(1);
  });
});

describe('Mattermost sink: refused creates', () => {
  it('gives up on a box whose channel the server refuses, after 3 tries', async () => {
    const { h, clock } = await setup();
    const key = `agent:main:mattermost:channel:${'q'.repeat(26)}`; // no such channel on the server
    for (let i = 0; i < 6; i++) {
      h.push({ type: 'assistant.text', sessionKey: key, text: `try ${i}` });
      await settle(h.mm);
      clock.advance(500);
    }
    await settle(h.mm);
    expect(creates(h).map((r) => r.status)).toEqual([403, 403, 403]);
    expect(h.sink.health().counters.dropped).toBe(3);
  });
});

describe('Mattermost sink: restart, shutdown, turns', () => {
  it('after a restart the same box is edited, never duplicated', async () => {
    const { h, clock, key } = await setup();
    h.push({ type: 'agent.started', sessionKey: key, runId: 'r1' });
    await waitForBoxes(h, 1);
    const postId = h.mm.livePosts()[0]?.id;
    const h2 = await h.restart();
    await h2.sink.start();
    h2.push({ type: 'assistant.text', sessionKey: key, runId: 'r1', text: 'after restart' });
    clock.advance(500); // start refreshed the box at once; this edit waits its interval
    await waitFor(
      () => h2.mm.livePosts()[0]?.message.includes('after restart') ?? false,
      'edit after restart',
    );
    expect(h2.mm.livePosts()).toHaveLength(1);
    expect(h2.mm.livePosts()[0]?.id).toBe(postId);
    await h2.sink.stop();
    h2.store.close();
  });

  it('on shutdown every open box shows [INTERRUPTED], pending final states delivered', async () => {
    const { h, clock, key } = await setup({ throttleMs: 60_000 });
    const other = `agent:b:mattermost:channel:${h.channel}`;
    h.push(
      { type: 'agent.started', sessionKey: key, runId: 'r1' },
      { type: 'agent.started', sessionKey: other, runId: 'r2', agentId: 'b' },
    );
    await waitForBoxes(h, 2);
    h.push({ type: 'assistant.text', sessionKey: key, runId: 'r1', text: 'working' });
    h.pipeline.interruptAll(clock.now(), 'clawpulse stopped');
    await h.sink.stop();
    const msgs = h.mm.livePosts().map((p) => p.message);
    expect(msgs.every((m) => m.includes('[INTERRUPTED]'))).toBe(true);
    expect(msgs.some((m) => m.includes('working'))).toBe(true);
    expect(h.sink.health().state).toBe('stopped');
  });

  it('at the production pace, 20 open boxes are all marked interrupted at stop', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const hh = await createHarness({ clock, maxRequestsPerSec: 8, requestBurst: 1, stopTimeoutMs: 5000 });
    h = hh;
    await hh.sink.start();
    for (let i = 0; i < 20; i++)
      hh.push({
        type: 'agent.started',
        sessionKey: `agent:a${i}:mattermost:channel:${hh.channel}`,
        agentId: `a${i}`,
        runId: 'r',
      });
    await waitForBoxes(hh, 1);
    await settle(hh.mm);
    expect(hh.mm.livePosts()).toHaveLength(1); // the rest wait for the pace
    hh.pipeline.interruptAll(clock.now(), 'clawpulse stopped');
    await hh.sink.stop();
    const posts = hh.mm.livePosts();
    expect(posts).toHaveLength(20);
    expect(posts.filter((p) => p.message.includes('[INTERRUPTED]'))).toHaveLength(20);
  });

  it('a session reactivated after done gets a new post for the new turn', async () => {
    const { h, clock, key } = await setup();
    h.push({ type: 'agent.started', sessionKey: key, runId: 'r1' });
    await waitForBoxes(h, 1);
    h.push({ type: 'agent.finished', sessionKey: key, runId: 'r1', outcome: 'ok' });
    clock.advance(61_000);
    h.pipeline.tick(clock.now()); // idle → done
    await waitFor(() => h.mm.livePosts()[0]?.message.includes('[DONE]') ?? false, 'done box');
    h.push({ type: 'agent.started', sessionKey: key, runId: 'r2' });
    await waitFor(() => h.mm.livePosts().length === 2, 'second turn post');
    expect(h.mm.livePosts()[0]?.message).toContain('[DONE]');
    expect(h.mm.livePosts()[1]?.message).toContain('[ACTIVE]');
  });
});

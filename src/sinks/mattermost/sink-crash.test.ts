/**
 * The sink across crashes (kill -9 between a create and its record, between a final state and
 * its delivery), turns read after the fact, the late-box bound, and what /health says about
 * failures. Real SQLite store, the strict fake Mattermost on 127.0.0.1, injected clocks.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../infra/clock.js';
import { startFakeMattermost } from '../../test-support/fake-mattermost/server.js';
import type { BoxRecord } from './box.js';
import { LATE_BOXES_PER_CHANNEL } from './late.js';
import { createHarness, type Harness, settle, waitFor, waitForBoxes } from './test-harness.js';

const T0 = 1_700_000_000_000;
let open: Harness[] = [];
afterEach(async () => {
  for (const h of open.reverse()) await h.close().catch(() => undefined);
  open = [];
});

/** the fake's clock is the test's: the pending_post_id window runs on it */
async function setup(config: Parameters<typeof createHarness>[0]['config'] = {}) {
  let serverNow = T0;
  const mm = await startFakeMattermost({ now: () => serverNow });
  const clock = new ManualClock(T0);
  const h = await createHarness({ clock, mm, config });
  open.push(h);
  await h.sink.start();
  const key = `agent:main:mattermost:channel:${h.channel}`;
  return { clock, h, mm, key, setServerNow: (t: number) => (serverNow = t) };
}

async function crash(h: Harness, at: number): Promise<{ h: Harness; clock: ManualClock }> {
  await settle(h.mm);
  const clock = new ManualClock(at);
  const next = await h.crash(clock);
  open.push(next);
  return { h: next, clock };
}

const creates = (h: Harness) => h.mm.requests('POST', '/api/v4/posts');
const lookups = (h: Harness) => h.mm.requests('GET', `/api/v4/channels/${h.channel}/posts`);
const records = (h: Harness): Array<{ key: string; rec: BoxRecord }> =>
  h.store.kvList('mattermost').map(({ key, value }) => ({ key, rec: JSON.parse(value) as BoxRecord }));

describe('Mattermost sink: kill -9', () => {
  it('killed between the create and its record: the next run finds the post by its mark, no second post', async () => {
    const { h, mm, key, setServerNow } = await setup();
    mm.loseAnswerNext(1);
    h.push({ type: 'agent.started', sessionKey: key, runId: 'r1' });
    h.push({ type: 'assistant.text', sessionKey: key, runId: 'r1', text: 'before the kill' });
    await waitFor(() => creates(h).length === 1 && creates(h)[0]?.status === -1, 'lost create');
    // the intent was recorded before the request; the post id never came back
    const [intent] = records(h);
    expect(intent?.rec.postId).toBeUndefined();
    expect(mm.livePosts()[0]?.props.clawpulse_box).toBe(intent?.rec.pendingPostId);

    // back after the server forgot the pending_post_id (30 s): only the mark can tell
    setServerNow(T0 + 120_000);
    const { h: h2, clock } = await crash(h, T0 + 120_000);
    await h2.sink.start();
    h2.push({ type: 'assistant.text', sessionKey: key, runId: 'r1', text: 'after the kill' });
    clock.advance(500);
    await waitFor(
      () => mm.livePosts()[0]?.message.includes('after the kill') ?? false,
      'edit of the found post',
    );
    expect(creates(h2)).toHaveLength(1);
    expect(lookups(h2)).toHaveLength(1);
    expect(mm.livePosts()).toHaveLength(1);
    expect(records(h2)[0]?.rec.postId).toBe(mm.livePosts()[0]?.id);

    h2.push({ type: 'agent.finished', sessionKey: key, runId: 'r1', outcome: 'ok' });
    clock.advance(61_000);
    h2.pipeline.tick(clock.now());
    await waitFor(() => records(h2)[0]?.rec.closed !== undefined, 'record closed');
    expect(mm.livePosts()[0]?.message).toMatch(/^> \[DONE\]/);
    expect(mm.livePosts()).toHaveLength(1);
  });

  it('killed before the create went out: the next run looks, finds nothing, creates once', async () => {
    const { h, mm, key } = await setup();
    mm.failNext(1, 'drop'); // the request never reached the server's handler
    h.push({ type: 'agent.started', sessionKey: key, runId: 'r1' });
    await waitFor(() => creates(h).length === 1, 'dropped create');
    const { h: h2 } = await crash(h, T0 + 5_000);
    await h2.sink.start();
    await waitForBoxes(h2, 1);
    expect(lookups(h2)).toHaveLength(1);
    expect(mm.livePosts()).toHaveLength(1);
  });

  it('a box left at [IDLE] whose session finished: the next start shows [DONE] and closes the record', async () => {
    const { h, mm, key, clock } = await setup();
    h.push({ type: 'agent.started', sessionKey: key, runId: 'r1' });
    await waitForBoxes(h, 1);
    h.push({ type: 'agent.finished', sessionKey: key, runId: 'r1', outcome: 'ok' });
    clock.advance(500);
    await waitFor(() => mm.livePosts()[0]?.message.startsWith('> [IDLE]') ?? false, 'idle box');
    // done while the last edit waits its interval; the snapshot has it, the server never will
    clock.advance(61_000 - 500);
    h.pipeline.tick(clock.now());
    h.pipeline.flushSnapshots();
    expect(records(h)[0]?.rec.lastStatus).toBe('done');
    const { h: h2 } = await crash(h, clock.now());
    expect(h2.pipeline.tracker.get(key)?.status).toBe('done');
    await h2.sink.start();
    await waitFor(() => mm.livePosts()[0]?.message.startsWith('> [DONE]') ?? false, 'done box');
    await waitFor(() => records(h2)[0]?.rec.closed !== undefined, 'record closed');
    expect(mm.livePosts()).toHaveLength(1);
  });

  it('an earlier turn whose final state never reached the server gets it from its record', async () => {
    const { h, mm, key, clock } = await setup();
    h.push({ type: 'agent.started', sessionKey: key, runId: 'r1' });
    h.push({ type: 'assistant.text', sessionKey: key, runId: 'r1', text: 'first turn' });
    await waitForBoxes(h, 1);
    mm.failNext(1000, 503);
    h.push({ type: 'agent.finished', sessionKey: key, runId: 'r1', outcome: 'ok' });
    clock.advance(61_000);
    h.pipeline.tick(clock.now()); // done, not delivered
    h.push({ type: 'agent.started', sessionKey: key, runId: 'r2' }); // the next turn, no post yet
    await settle(mm);
    const keys = records(h).map((r) => r.key);
    expect(keys).toEqual([`box:${key}`, `open:${key}:1`]);
    expect(records(h).find((r) => r.key.startsWith('open:'))?.rec.final?.status).toBe('done');

    mm.failNext(0);
    const { h: h2, clock: c2 } = await crash(h, clock.now() + 1000);
    await h2.sink.start();
    await waitFor(() => mm.livePosts().length === 2, 'second turn post');
    await waitFor(() => mm.livePosts()[0]?.message.startsWith('> [DONE]') ?? false, 'first turn done');
    c2.advance(1);
    await settle(mm);
    expect(mm.livePosts()[0]?.message).toContain('first turn');
    expect(mm.livePosts()[1]?.message).toMatch(/^> \[ACTIVE\]/);
    expect(records(h2).map((r) => r.key)).toEqual([`box:${key}`]);
  });

  it('a box of a session the next run no longer knows is closed as interrupted, from its own text', async () => {
    const { h, mm } = await setup();
    const ghost = 'agent:ghost:main';
    const post = mm.store.create(
      {
        channel_id: h.channel,
        message: '> [ACTIVE] ghost | 12s\n> doing things',
        props: { clawpulse_box: 'u:1' },
      },
      mm.userId,
      true,
    );
    const rec: BoxRecord = {
      v: 1,
      rootKey: ghost,
      turn: 1,
      pendingPostId: 'u:1',
      postId: post.id,
      channelId: h.channel,
      type: '',
      recreated: 0,
      createdAt: T0,
      lastStatus: 'active',
    };
    h.store.kvSet('mattermost', `box:${ghost}`, JSON.stringify(rec));
    const { h: h2 } = await crash(h, T0 + 1000);
    await h2.sink.start();
    await waitFor(() => mm.post(post.id)?.message.startsWith('> [INTERRUPTED]') ?? false, 'interrupted');
    expect(mm.post(post.id)?.message).toBe(
      '> [INTERRUPTED] ghost | 12s\n> doing things\n> [INTERRUPTED] clawpulse restarted and no longer knows this session',
    );
    await waitFor(() => records(h2)[0]?.rec.closed !== undefined, 'record closed');
  });
});

describe('Mattermost sink: turns read after the fact', () => {
  it('three turns that began and ended while the daemon was down get a box each, with their own final text', async () => {
    const { h, mm, key } = await setup();
    const t = T0;
    h.push(
      { type: 'agent.started', sessionKey: key, runId: 'r1', ts: t },
      { type: 'assistant.text', sessionKey: key, runId: 'r1', text: 'turn 1 final', ts: t + 100 },
      { type: 'agent.finished', sessionKey: key, runId: 'r1', outcome: 'ok', ts: t + 200 },
    );
    await waitForBoxes(h, 1);
    // down for 5 minutes: the backlog comes in one batch, the model never ticks between turns
    const { h: h2, clock: c2 } = await crash(h, t + 300_000);
    await h2.sink.start();
    h2.push(
      { type: 'agent.started', sessionKey: key, runId: 'r2', ts: t + 100_000 },
      { type: 'assistant.text', sessionKey: key, runId: 'r2', text: 'turn 2 final', ts: t + 100_100 },
      { type: 'agent.finished', sessionKey: key, runId: 'r2', outcome: 'ok', ts: t + 100_200 },
      { type: 'agent.started', sessionKey: key, runId: 'r3', ts: t + 200_000 },
      { type: 'assistant.text', sessionKey: key, runId: 'r3', text: 'turn 3 failed', ts: t + 200_100 },
      {
        type: 'agent.finished',
        sessionKey: key,
        runId: 'r3',
        outcome: 'error',
        error: 'boom',
        ts: t + 200_200,
      },
      { type: 'agent.started', sessionKey: key, runId: 'r4', ts: t + 290_000 },
      { type: 'assistant.text', sessionKey: key, runId: 'r4', text: 'turn 4 running', ts: t + 290_100 },
    );
    await waitFor(() => mm.livePosts().length === 4, 'four boxes');
    c2.advance(1000);
    await settle(mm);
    // the posts race each other here (the test pace has no queue); the production pace keeps their order
    const msgs = mm.livePosts().map((p) => p.message);
    const last = (m: string) =>
      m
        .split('\n')
        .filter((l) => /turn \d/.test(l))
        .at(-1) ?? '';
    const byTurn = new Map(msgs.map((m) => [last(m).replace(/^> /, ''), m]));
    expect([...byTurn.keys()].sort()).toEqual([
      'turn 1 final',
      'turn 2 final',
      'turn 3 failed',
      'turn 4 running',
    ]);
    expect(byTurn.get('turn 1 final')).toMatch(/^> \[DONE\]/);
    expect(byTurn.get('turn 2 final')).toMatch(/^> \[DONE\]/);
    expect(byTurn.get('turn 3 failed')).toMatch(/^> \[ERROR\][\s\S]*boom/);
    expect(byTurn.get('turn 4 running')).toMatch(/^> \[ACTIVE\]/);
    expect(creates(h2).filter((r) => r.status === 201)).toHaveLength(4); // one per turn, the first before the kill
    c2.advance(60_000); // nothing more to send
    await settle(mm);
    expect(mm.livePosts()).toHaveLength(4);
  });

  it('a turn after a quiet idle session (no tick between) starts a new box, the old one ends [DONE]', async () => {
    const { h, mm, key } = await setup();
    h.push(
      { type: 'agent.started', sessionKey: key, runId: 'r1', ts: T0 },
      { type: 'assistant.text', sessionKey: key, runId: 'r1', text: 'one', ts: T0 + 10 },
      { type: 'agent.finished', sessionKey: key, runId: 'r1', outcome: 'ok', ts: T0 + 20 },
    );
    await waitForBoxes(h, 1);
    h.push({ type: 'agent.started', sessionKey: key, runId: 'r2', ts: T0 + 61_000 });
    await waitFor(() => mm.livePosts().length === 2, 'second box');
    await waitFor(() => mm.livePosts()[0]?.message.startsWith('> [DONE]') ?? false, 'first box done');
    expect(mm.livePosts()[1]?.message).toMatch(/^> \[ACTIVE\]/);
  });
});

describe('Mattermost sink: late boxes', () => {
  it(`after a long outage at most ${LATE_BOXES_PER_CHANNEL} late boxes go to a channel; the rest are summarised in one post`, async () => {
    const { h, mm, clock } = await setup({ breakerThreshold: 3, breakerCooldownMs: 5_000 });
    mm.outage(503);
    const n = LATE_BOXES_PER_CHANNEL + 3;
    for (let i = 0; i < n; i++) {
      const key = `agent:a${i}:mattermost:channel:${h.channel}`;
      h.push(
        { type: 'agent.started', sessionKey: key, agentId: `a${i}`, runId: `r${i}` },
        { type: 'assistant.text', sessionKey: key, agentId: `a${i}`, runId: `r${i}`, text: `answer ${i}` },
        { type: 'agent.finished', sessionKey: key, agentId: `a${i}`, runId: `r${i}`, outcome: 'ok' },
      );
    }
    await settle(mm);
    clock.advance(61_000);
    h.pipeline.tick(clock.now()); // all done, none posted
    clock.advance(120_000);
    await settle(mm);
    const during = mm.log.length;
    await mm.restore();
    for (let i = 0; i < 200 && mm.livePosts().length < LATE_BOXES_PER_CHANNEL + 1; i++) {
      clock.advance(1000);
      await settle(mm);
    }
    for (let i = 0; i < 10; i++) {
      clock.advance(1000);
      await settle(mm);
    }
    const posts = mm.livePosts();
    const boxes = posts.filter((p) => p.message.startsWith('> [DONE]'));
    const summaries = posts.filter((p) => p.message.startsWith('> clawpulse:'));
    expect(boxes).toHaveLength(LATE_BOXES_PER_CHANNEL);
    expect(summaries).toHaveLength(1);
    expect(summaries[0]?.message).toContain('3 more turns ended');
    expect(new Set(boxes.map((b) => b.message)).size).toBe(LATE_BOXES_PER_CHANNEL);
    expect(h.sink.health().late).toEqual({ late: LATE_BOXES_PER_CHANNEL, summarised: 3 });
    expect(during).toBeLessThan(20); // the breaker kept the retries few
    // every record is closed: posted, or summarised
    await waitFor(() => records(h).every((r) => r.rec.closed !== undefined), 'records closed');
  });

  it('a turn that ended moments before its box is posted is not late', async () => {
    const { h, mm, key } = await setup();
    h.push(
      { type: 'agent.started', sessionKey: key, runId: 'r1' },
      { type: 'agent.finished', sessionKey: key, runId: 'r1', outcome: 'error', error: 'boom' },
    );
    await waitForBoxes(h, 1);
    expect(mm.livePosts()[0]?.message).toMatch(/^> \[ERROR\]/);
    expect(h.sink.health().late).toEqual({ late: 0, summarised: 0 });
  });
});

describe('Mattermost sink: /health', () => {
  it('a 429 counts and shows; once requests succeed the current reason clears, the last error stays with its time', async () => {
    const { h, mm, key, clock } = await setup();
    h.push({ type: 'agent.started', sessionKey: key, runId: 'r1' });
    await waitForBoxes(h, 1);
    mm.rateLimitNext(1, 2);
    h.push({ type: 'assistant.text', sessionKey: key, runId: 'r1', text: 'limited' });
    clock.advance(500);
    await waitFor(() => h.sink.health().rateLimited === 1, '429 counted');
    const during = h.sink.health();
    expect(during.reason).toContain('429');
    expect(during.lastError).toContain('429');
    expect(during.lastErrorAt).toBe(clock.now());
    const at = clock.now();
    clock.advance(2000);
    await waitFor(() => mm.livePosts()[0]?.message.includes('limited') ?? false, 'edit after the pause');
    const after = h.sink.health();
    expect(after.reason).toBeUndefined();
    expect(after.lastError).toContain('429');
    expect(after.lastErrorAt).toBe(at);
    expect(after.lastSuccessAt).toBeGreaterThan(at);
    expect(after.breaker?.state).toBe('closed');
  });

  it('a connection error: current while failing, then only the last error once the server answers', async () => {
    const { h, mm, key, clock } = await setup();
    mm.failNext(1, 'drop');
    h.push({ type: 'agent.started', sessionKey: key, runId: 'r1' });
    await waitFor(() => h.sink.health().failures === 1, 'failure');
    expect(h.sink.health().reason).toMatch(/the last request failed: POST \/api\/v4\/posts: /);
    clock.advance(500);
    await waitForBoxes(h, 1);
    expect(h.sink.health().reason).toBeUndefined();
    expect(h.sink.health().lastError).toMatch(/POST \/api\/v4\/posts: /);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/support/http-receiver.js';
import { type FakeMattermost, startFakeMattermost } from '../../test-support/fake-mattermost/server.js';
import type { AlertDestination } from '../alert.js';
import { createMattermostDestination, routeAlert } from './mattermost.js';
import {
  expectNoSecrets,
  firing,
  type Harness,
  harness,
  NO_PACE,
  resolved,
  TEST_QUEUE,
} from './test-kit.helper.js';

const TOKEN = 'mmAlertTok3nSecretValue0000000';
const SESSION_CHANNEL = 'sessionchannel000000000001';
const ALERT_CHANNEL = 'alertchannel00000000000001';
const OTHER_USER = 'otheruser00000000000000001';
let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(o: { token?: string; alertChannel?: string | null; maxPostSize?: number } = {}) {
  const mm: FakeMattermost = await startFakeMattermost({
    token: TOKEN,
    channels: [SESSION_CHANNEL, ALERT_CHANNEL],
    ...(o.maxPostSize ? { maxPostSize: o.maxPostSize } : {}),
  });
  const h = harness((clock, logger) =>
    createMattermostDestination({
      url: mm.url,
      token: o.token ?? TOKEN,
      alertChannel: o.alertChannel === null ? undefined : (o.alertChannel ?? ALERT_CHANNEL),
      clock,
      logger,
      queue: TEST_QUEUE,
      pace: NO_PACE,
    }),
  );
  cleanup.push(mm.close, h.stop);
  return { h, mm };
}

const sent = (h: Harness<AlertDestination>) => h.dest.health().detail?.sent;
const posts = (mm: FakeMattermost) => mm.livePosts().filter((p) => p.user_id === mm.userId);

describe('Mattermost alerts', () => {
  it('a session talking in Mattermost gets its alerts in its own thread, the resolved one included', async () => {
    const { h, mm } = await setup();
    const root = mm.postAs(OTHER_USER, { channel_id: SESSION_CHANNEL, message: 'hi agent' });
    const a = firing({ channel: { provider: 'mattermost', channelId: SESSION_CHANNEL, threadId: root.id } });
    await h.dest.send(a);
    await h.dest.send(resolved(a));
    await waitFor(() => sent(h) === 2, 'two posts');
    const [p1, p2] = posts(mm);
    expect(p1).toMatchObject({ channel_id: SESSION_CHANNEL, root_id: root.id });
    expect(p1?.message.split('\n')[0]).toBe(
      '🔴 **FIRING critical · stuck**: session agent:main:main stuck for 12 min in exec',
    );
    expect(p2).toMatchObject({ channel_id: SESSION_CHANNEL, root_id: root.id });
    expect(p2?.message).toContain('**RESOLVED · stuck**');
    expect(h.dest.health().detail).toMatchObject({ origin: 2, default: 0, state: 'ok' });
  });

  it('any other session goes to ALERT_CHANNEL; its resolved alert replies to the firing post', async () => {
    const { h, mm } = await setup();
    const a = firing({ sessionKey: 'agent:main:telegram:direct:42' });
    await h.dest.send(a);
    await h.dest.send(resolved(a));
    await waitFor(() => sent(h) === 2, 'two posts');
    const [p1, p2] = posts(mm);
    expect(p1).toMatchObject({ channel_id: ALERT_CHANNEL, root_id: '' });
    expect(p2).toMatchObject({ channel_id: ALERT_CHANNEL, root_id: p1?.id });
    expect(h.dest.health().detail).toMatchObject({ default: 2 });
  });

  it('routes by the session key when the alert carries no channel', () => {
    const key = `agent:main:mattermost:channel:${SESSION_CHANNEL}`;
    expect(routeAlert(firing({ sessionKey: key }), ALERT_CHANNEL)).toMatchObject({
      channelId: SESSION_CHANNEL,
      via: 'origin',
    });
    expect(routeAlert(firing({ sessionKey: `gw-eu|${key}` }))).toMatchObject({ channelId: SESSION_CHANNEL });
    expect(routeAlert(firing({ sessionKey: undefined }), ALERT_CHANNEL)).toMatchObject({
      channelId: ALERT_CHANNEL,
      via: 'default',
    });
    expect(routeAlert(firing({ sessionKey: undefined }))).toBeUndefined();
  });

  it('without ALERT_CHANNEL an alert with no Mattermost route is counted, not posted', async () => {
    const { h, mm } = await setup({ alertChannel: null });
    await h.dest.send(firing({ sessionKey: undefined }));
    await waitFor(() => h.dest.health().detail?.unrouted === 1, 'unrouted');
    expect(mm.requests('POST', '/api/v4/posts')).toHaveLength(0);
  });

  it("waits a 429's Retry-After on the clock, then posts", async () => {
    const { h, mm } = await setup();
    mm.rateLimitNext(1, 3);
    await h.dest.send(firing());
    await waitFor(() => h.dest.health().detail?.nextAttemptAt !== undefined, '429');
    expect(h.dest.health().detail?.nextAttemptAt).toBe(h.clock.now() + 3000);
    h.clock.advance(2999);
    await new Promise((r) => setTimeout(r, 30));
    expect(posts(mm)).toHaveLength(0);
    h.clock.advance(1);
    await waitFor(() => sent(h) === 1, 'posted');
    expect(mm.requests('POST', '/api/v4/posts').map((r) => r.status)).toEqual([429, 201]);
  });

  it('a refused token (401) is a clear error, opens the breaker, and the token never shows', async () => {
    const { h, mm } = await setup({ token: 'mmWrongTokenWrongToken00000000' });
    for (const id of ['a1', 'a2', 'a3']) await h.dest.send(firing({ id }));
    await waitFor(() => h.dest.health().breaker === 'open', 'breaker open');
    expect(mm.requests('POST', '/api/v4/posts')).toHaveLength(2);
    expect(h.dest.health().lastError).toMatch(
      /^Mattermost: POST \/api\/v4\/posts: 401 .*\(Mattermost refused MM_TOKEN\)$/,
    );
    expectNoSecrets(h, ['mmWrongTokenWrongToken00000000', TOKEN]);
  });

  it("a session's own channel refusing the bot (403) drops that alert only; ALERT_CHANNEL refusing it opens the breaker", async () => {
    const { h, mm } = await setup();
    const closed = mm.addChannel(undefined, { member: false });
    const own = { channel: { provider: 'mattermost', channelId: closed } };
    for (const id of ['s1', 's2', 's3']) await h.dest.send(firing({ id, ...own }));
    await h.dest.send(firing({ id: 'fleet', sessionKey: undefined }));
    await waitFor(() => sent(h) === 1, 'the ALERT_CHANNEL alert still goes');
    expect(h.dest.health()).toMatchObject({ breaker: 'closed', detail: { failed: 3, refused: 0 } });
    expect(h.dest.health().lastError).toContain('403');
    // now ALERT_CHANNEL itself refuses the bot: that is configuration, every alert there fails
    mm.channels.delete(ALERT_CHANNEL);
    for (const id of ['f1', 'f2', 'f3']) await h.dest.send(firing({ id, sessionKey: undefined }));
    await waitFor(() => h.dest.health().breaker === 'open', 'breaker open');
    expect(h.dest.health().lastError).toContain('check ALERT_CHANNEL');
  });

  it('clips a long alert to the server limit, which the server takes', async () => {
    const { h, mm } = await setup();
    await h.dest.send(firing({ message: 'z'.repeat(40_000) }));
    await waitFor(() => sent(h) === 1, 'posted');
    const m = posts(mm)[0]?.message ?? '';
    expect(m.length).toBeLessThanOrEqual(16_383);
    expect(m.length).toBeGreaterThan(16_383 - 20);
    expect(m).toContain('session `agent:main:main`');
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { type FakeDiscord, startFakeDiscord } from '../../../test/support/fake-discord.js';
import { waitFor } from '../../../test/support/http-receiver.js';
import type { AlertDestination } from '../alert.js';
import { createDiscordDestination, DISCORD_CONTENT_MAX } from './discord.js';
import {
  expectNoSecrets,
  firing,
  type Harness,
  harness,
  NO_PACE,
  resolved,
  TEST_QUEUE,
} from './test-kit.helper.js';

const TOKEN = 'dscTok_4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a';
const ID = '123456789012345678';
let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(o: { rateLimit?: { max: number; windowMs: number }; token?: string } = {}) {
  let h: Harness<AlertDestination> | undefined;
  const discord: FakeDiscord = await startFakeDiscord({
    id: ID,
    token: TOKEN,
    rateLimit: o.rateLimit,
    now: () => h?.clock.now() ?? 0,
  });
  const url = `${discord.url}/api/webhooks/${ID}/${o.token ?? TOKEN}`;
  h = harness((clock, logger) =>
    createDiscordDestination({ url, clock, logger, queue: TEST_QUEUE, pace: NO_PACE }),
  );
  cleanup.push(discord.close, h.stop);
  return { h, discord };
}

const sent = (h: Harness<AlertDestination>) => h.dest.health().detail?.sent;

describe('Discord alerts', () => {
  it('delivers the firing and the resolved alert with wait=true and no mentions', async () => {
    const { h, discord } = await setup();
    const a = firing({ message: 'stuck; @everyone look' });
    await h.dest.send(a);
    await h.dest.send(resolved(a));
    await waitFor(() => sent(h) === 2, 'two messages');
    expect(discord.received.every((r) => r.query.get('wait') === 'true' && r.status === 200)).toBe(true);
    const [m1, m2] = discord.messages;
    expect(m1?.content).toMatch(/^🔴 \*\*FIRING critical · stuck\*\*: stuck; @everyone look\n/);
    expect(m1?.allowed_mentions).toEqual({ parse: [] });
    expect(m2?.content).toMatch(/^✅ \*\*RESOLVED · stuck\*\*/);
  });

  it("waits the 429 body's retry_after (a float, finer than the whole-second header) on the clock", async () => {
    const { h, discord } = await setup({ rateLimit: { max: 1, windowMs: 1500 } });
    await h.dest.send(firing({ id: 'one' }));
    await h.dest.send(firing({ id: 'two' }));
    await waitFor(
      () => discord.received.length === 2 && h.dest.health().detail?.nextAttemptAt !== undefined,
      '429',
    );
    expect(discord.received[1]?.status).toBe(429);
    expect(h.dest.health().detail?.nextAttemptAt).toBe(h.clock.now() + 1500);
    h.clock.advance(1499);
    await new Promise((r) => setTimeout(r, 30));
    expect(discord.received).toHaveLength(2);
    h.clock.advance(1);
    await waitFor(() => sent(h) === 2, 'sent after the wait');
    expect(discord.received.map((r) => r.status)).toEqual([200, 429, 200]);
  });

  it('a wrong token (401) is a clear error, opens the breaker, and the token is never shown', async () => {
    const wrong = 'dscTok_wrongwrongwrongwrongwrongwrong0000000000';
    const { h, discord } = await setup({ token: wrong });
    for (const id of ['a1', 'a2', 'a3']) await h.dest.send(firing({ id }));
    await waitFor(() => h.dest.health().breaker === 'open', 'breaker open');
    expect(discord.received.map((r) => r.status)).toEqual([401, 401]);
    expect(h.dest.health().lastError).toBe(
      'Discord refused the alert: 401 50027 Invalid Webhook Token (the webhook was deleted or its URL is wrong (ALERT_DISCORD_WEBHOOK_URL))',
    );
    expectNoSecrets(h, [wrong, ID]);
  });

  it('a deleted webhook answers 404 10015 and is refused, not retried', async () => {
    const { h, discord } = await setup();
    discord.deleteWebhook();
    await h.dest.send(firing());
    await waitFor(() => h.dest.health().detail?.failed === 1, 'refused');
    expect(h.dest.health().lastError).toContain('404 10015 Unknown Webhook');
    expect(h.dest.health().detail).toMatchObject({ retries: 0, state: 'refused' });
    expectNoSecrets(h, [TOKEN, ID]);
  });

  it('clips a long alert to 2,000 characters, which Discord takes', async () => {
    const { h, discord } = await setup();
    await h.dest.send(firing({ message: '🙂'.repeat(3000) }));
    await waitFor(() => sent(h) === 1, 'sent');
    const content = discord.messages[0]?.content ?? '';
    expect(content.length).toBeLessThanOrEqual(DISCORD_CONTENT_MAX);
    expect(content.length).toBeGreaterThan(DISCORD_CONTENT_MAX - 20);
    // no half surrogate pair at the cut
    expect(content).toBe(Buffer.from(content, 'utf8').toString('utf8'));
    expect(content).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });
});

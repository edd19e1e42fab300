import { afterEach, describe, expect, it } from 'vitest';
import { type FakeTelegram, startFakeTelegram } from '../../../test/support/fake-telegram.js';
import { waitFor } from '../../../test/support/http-receiver.js';
import type { AlertDestination } from '../alert.js';
import { createTelegramDestination, TELEGRAM_TEXT_MAX } from './telegram.js';
import {
  expectNoSecrets,
  firing,
  type Harness,
  harness,
  NO_PACE,
  resolved,
  TEST_QUEUE,
} from './test-kit.helper.js';

const TOKEN = '987654321:AAHsecretTelegramTokenZZZ_0123456789abc';
const CHAT = '-1001234567890';
let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(
  o: { rateLimit?: { max: number; windowMs: number }; token?: string; chat?: string } = {},
) {
  let h: Harness<AlertDestination> | undefined;
  const tg: FakeTelegram = await startFakeTelegram({
    token: TOKEN,
    chats: [CHAT],
    rateLimit: o.rateLimit,
    now: () => h?.clock.now() ?? 0,
  });
  h = harness((clock, logger) =>
    createTelegramDestination({
      token: o.token ?? TOKEN,
      chatId: o.chat ?? CHAT,
      apiUrl: tg.apiUrl,
      clock,
      logger,
      queue: TEST_QUEUE,
      pace: NO_PACE,
    }),
  );
  cleanup.push(tg.close, h.stop);
  return { h, tg };
}

const sent = (h: Harness<AlertDestination>) => h.dest.health().detail?.sent;

describe('Telegram alerts', () => {
  it('sends the firing and the resolved alert as plain text to the chat', async () => {
    const { h, tg } = await setup();
    const a = firing({ message: 'snake_case *not* markup' });
    await h.dest.send(a);
    await h.dest.send(resolved(a));
    await waitFor(() => sent(h) === 2, 'two messages');
    expect(tg.received[0]?.path).toBe(`/bot${TOKEN}/sendMessage`);
    const [m1, m2] = tg.messages;
    expect(m1).toMatchObject({ chat_id: CHAT });
    expect(m1?.parse_mode).toBeUndefined();
    expect(m1?.text.split('\n')[0]).toBe('🔴 FIRING critical · stuck: snake_case *not* markup');
    expect(m1?.text).toContain('session agent:main:main · label triage inbox · agent main');
    expect(m2?.text.split('\n')[0]).toBe('✅ RESOLVED · stuck: snake_case *not* markup (cleared)');
    expect(h.dest.health().detail).toMatchObject({
      state: 'ok',
      chat: CHAT,
      target: `${tg.apiUrl}/bot[redacted]/sendMessage`,
    });
  });

  it('flood control: waits parameters.retry_after from the body (no header) on the clock', async () => {
    const { h, tg } = await setup({ rateLimit: { max: 1, windowMs: 3000 } });
    await h.dest.send(firing({ id: 'one' }));
    await h.dest.send(firing({ id: 'two' }));
    await waitFor(
      () => tg.received.length === 2 && h.dest.health().detail?.nextAttemptAt !== undefined,
      '429',
    );
    expect(tg.received[1]?.status).toBe(429);
    expect(h.dest.health().detail?.nextAttemptAt).toBe(h.clock.now() + 3000);
    h.clock.advance(2999);
    await new Promise((r) => setTimeout(r, 30));
    expect(tg.received).toHaveLength(2);
    h.clock.advance(1);
    await waitFor(() => sent(h) === 2, 'sent after the wait');
    expect(tg.received.map((r) => r.status)).toEqual([200, 429, 200]);
  });

  it('a bad token (401) is a clear error, opens the breaker, and the token never shows', async () => {
    const bad = '111111111:AAHwrongTokenwrongTokenwrongToken00000';
    const { h, tg } = await setup({ token: bad });
    for (const id of ['a1', 'a2', 'a3']) await h.dest.send(firing({ id }));
    await waitFor(() => h.dest.health().breaker === 'open', 'breaker open');
    expect(tg.received.map((r) => r.status)).toEqual([401, 401]);
    expect(h.dest.health().lastError).toBe(
      'Telegram refused the alert: 401 Unauthorized (check ALERT_TELEGRAM_BOT_TOKEN)',
    );
    expectNoSecrets(h, [bad, bad.split(':')[1] as string]);
  });

  it('a chat the bot is not in is refused with its reason', async () => {
    const { h } = await setup({ chat: '-100999' });
    await h.dest.send(firing());
    await waitFor(() => h.dest.health().detail?.failed === 1, 'refused');
    expect(h.dest.health().lastError).toBe(
      'Telegram refused the alert: 400 Bad Request: chat not found (check ALERT_TELEGRAM_CHAT_ID and that the bot is in that chat)',
    );
    expect(h.dest.health().detail).toMatchObject({ refused: 1, retries: 0 });
    expectNoSecrets(h, [TOKEN]);
  });

  it('clips a long alert to 4,096 characters, which Telegram takes', async () => {
    const { h, tg } = await setup();
    await h.dest.send(firing({ message: 'ü'.repeat(10_000) }));
    await waitFor(() => sent(h) === 1, 'sent');
    const text = tg.messages[0]?.text ?? '';
    expect(text.length).toBeLessThanOrEqual(TELEGRAM_TEXT_MAX);
    expect(text.length).toBeGreaterThan(TELEGRAM_TEXT_MAX - 20);
    expect(text).toContain('session agent:main:main');
  });
});

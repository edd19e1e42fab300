import { afterEach, describe, expect, it } from 'vitest';
import { startFakeDiscord } from '../../../test/support/fake-discord.js';
import { startFakeSlack } from '../../../test/support/fake-slack.js';
import { startFakeTelegram } from '../../../test/support/fake-telegram.js';
import { captureLogger, startReceiver, waitFor } from '../../../test/support/http-receiver.js';
import { loadConfig, redactConfig } from '../../config/config.js';
import { ManualClock } from '../../infra/clock.js';
import { silentLogger } from '../../infra/logger.js';
import { startFakeMattermost } from '../../test-support/fake-mattermost/server.js';
import { createAlertDestinations } from './index.js';
import { firing, NO_PACE, T0 } from './test-kit.helper.js';

const CHANNEL = 'alertchannel00000000000001';
let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

describe('createAlertDestinations', () => {
  it('builds nothing when nothing is configured', () => {
    const config = loadConfig({ HOME: '/tmp' });
    expect(createAlertDestinations(config, { clock: new ManualClock(T0), logger: silentLogger })).toEqual([]);
  });

  it('builds every configured destination from the environment; one alert reaches all five', async () => {
    const clock = new ManualClock(T0);
    const [mm, rx, slack, discord, tg] = await Promise.all([
      startFakeMattermost({ token: 'mm-token-for-the-factory-test', channels: [CHANNEL] }),
      startReceiver(),
      startFakeSlack(),
      startFakeDiscord(),
      startFakeTelegram({ chats: ['-1001'] }),
    ]);
    cleanup.push(mm.close, rx.close, slack.close, discord.close, tg.close);
    const config = loadConfig({
      HOME: '/tmp',
      MM_URL: mm.url,
      MM_TOKEN: 'mm-token-for-the-factory-test',
      ALERT_CHANNEL: CHANNEL,
      ALERT_WEBHOOK_URL: `${rx.url}/hook`,
      ALERT_WEBHOOK_SECRET: 'factory-hmac-secret',
      ALERT_SLACK_WEBHOOK_URL: slack.hookUrl,
      ALERT_DISCORD_WEBHOOK_URL: discord.webhookUrl,
      ALERT_TELEGRAM_BOT_TOKEN: tg.token,
      ALERT_TELEGRAM_CHAT_ID: '-1001',
      TELEGRAM_API_URL: tg.apiUrl,
      CIRCUIT_BREAKER_THRESHOLD: '3',
    });
    const { logger, lines } = captureLogger();
    const dests = createAlertDestinations(config, { clock, logger, pace: NO_PACE });
    cleanup.push(async () => {
      const p = Promise.all(dests.map((d) => d.stop?.()));
      clock.advance(60_000);
      await p;
    });
    expect(dests.map((d) => d.name)).toEqual(['mattermost', 'webhook', 'slack', 'discord', 'telegram']);
    for (const d of dests) await d.send(firing({ sessionKey: undefined }));
    await waitFor(() => dests.every((d) => d.health().detail?.sent === 1), 'every destination delivered');
    expect(mm.livePosts().filter((p) => p.channel_id === CHANNEL)).toHaveLength(1);
    expect(rx.requests).toHaveLength(1);
    expect(slack.messages).toHaveLength(1);
    expect(discord.messages).toHaveLength(1);
    expect(tg.messages).toHaveLength(1);
    const shown = JSON.stringify(dests.map((d) => d.health())) + lines.join('\n');
    for (const secret of [
      'mm-token-for-the-factory-test',
      'factory-hmac-secret',
      new URL(slack.hookUrl).pathname.split('/').pop() as string,
      new URL(discord.webhookUrl).pathname.split('/').pop() as string,
      tg.token.split(':')[1] as string,
    ])
      expect(shown).not.toContain(secret);
    expect(dests.map((d) => d.health().id)).toEqual([
      'alert-mattermost',
      'alert-webhook',
      'alert-slack',
      'alert-discord',
      'alert-telegram',
    ]);
  });

  it('the config refuses a Telegram token without a chat id, and never echoes a secret URL it refuses', () => {
    expect(() => loadConfig({ HOME: '/tmp', ALERT_TELEGRAM_BOT_TOKEN: '1:abc' })).toThrow(
      /ALERT_TELEGRAM_CHAT_ID/,
    );
    let message = '';
    try {
      loadConfig({
        HOME: '/tmp',
        ALERT_SLACK_WEBHOOK_URL: 'ftp://hooks.slack.com/services/T0/B0/sekritsekrit',
      });
    } catch (err) {
      message = String(err);
    }
    expect(message).toContain('ALERT_SLACK_WEBHOOK_URL');
    expect(message).not.toContain('sekritsekrit');
  });

  it('the config as logged shows each alert secret as [set]', () => {
    const config = loadConfig({
      HOME: '/tmp',
      ALERT_WEBHOOK_URL: 'https://hooks.example.com/catch/hookpath0secret',
      ALERT_WEBHOOK_SECRET: 'hmac0secret0value',
      ALERT_SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/slack0secret0path',
      ALERT_DISCORD_WEBHOOK_URL: 'https://discord.com/api/webhooks/1/discord0secret0token',
      ALERT_TELEGRAM_BOT_TOKEN: '42:telegram0secret0token',
      ALERT_TELEGRAM_CHAT_ID: '-42',
    });
    expect(config.alertDestinations).toMatchObject({
      telegramChatId: '-42',
      telegramApiUrl: 'https://api.telegram.org',
    });
    const logged = JSON.stringify(redactConfig(config));
    for (const s of [
      'hookpath0secret',
      'hmac0secret0value',
      'slack0secret0path',
      'discord0secret0token',
      'telegram0secret0token',
    ])
      expect(logged).not.toContain(s);
    expect(logged).toContain('"slackWebhookUrl":"[set]"');
  });
});

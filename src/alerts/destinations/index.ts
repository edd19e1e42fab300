/**
 * Builds the alert destinations the configuration asks for, for the alert engine
 * (src/daemon/alerts.ts): Mattermost when MM_URL and MM_TOKEN are set, the generic webhook,
 * Slack, Discord and Telegram when their variables are. Each goes through the shared delivery
 * layers (queued-destination.ts) with the breaker settings of the other outputs
 * (CIRCUIT_BREAKER_THRESHOLD / _COOLDOWN_S).
 *
 * One that cannot be built (a URL undici refuses) is logged without its URL and becomes a row in
 * /health that counts what it could not send: a bad optional output never stops the daemon.
 */
import type { AlertDestinationsConfig } from '../../config/alert-destinations-env.js';
import type { Config } from '../../config/config.js';
import type { Clock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import type { QueueTuning } from '../../sinks/delivery-queue.js';
import type { AlertDestination } from '../alert.js';
import { createDiscordDestination } from './discord.js';
import { createMattermostDestination } from './mattermost.js';
import type { Pace } from './queued-destination.js';
import { createSlackDestination } from './slack.js';
import { createTelegramDestination } from './telegram.js';
import { createWebhookDestination } from './webhook.js';

export interface AlertDestinationsSettings {
  alertDestinations: AlertDestinationsConfig;
  mattermost: Pick<
    Config['mattermost'],
    'url' | 'token' | 'maxMessageChars' | 'breakerThreshold' | 'breakerCooldownMs'
  >;
}

export interface AlertDestinationDeps {
  clock: Clock;
  logger: Logger;
  /** jitter source for backoff (tests) */
  random?: () => number;
  /** per request (default 10 s) */
  timeoutMs?: number;
  /** queue knobs for every destination (tests, the bench) */
  queue?: QueueTuning;
  /** one pace for every destination instead of each service's own (tests, the bench) */
  pace?: Pace;
}

export function createAlertDestinations(
  config: AlertDestinationsSettings,
  deps: AlertDestinationDeps,
): AlertDestination[] {
  const c = config.alertDestinations;
  const mm = config.mattermost;
  const { clock, logger, timeoutMs, pace } = deps;
  const queue: QueueTuning = {
    breakerThreshold: mm.breakerThreshold,
    breakerCooldownMs: mm.breakerCooldownMs,
    ...(deps.random ? { random: deps.random } : {}),
    ...deps.queue,
  };
  const out: AlertDestination[] = [];
  const build = (name: string, make: () => AlertDestination) => {
    try {
      out.push(make());
    } catch (err) {
      // never echo the URL or token: either may be the secret
      const reason = `alert destination ${name} not started: ${err instanceof Error ? err.constructor.name : 'error'}`;
      logger.error({ sink: `alert-${name}` }, reason);
      out.push(brokenDestination(name, reason));
    }
  };
  const common = { clock, logger, queue, timeoutMs, ...(pace ? { pace } : {}) };

  if (mm.url && mm.token) {
    const { url, token } = mm;
    build('mattermost', () =>
      createMattermostDestination({
        url,
        token,
        alertChannel: c.mattermostChannel,
        maxMessageChars: mm.maxMessageChars,
        ...common,
      }),
    );
  }
  if (c.webhookUrl) {
    const url = c.webhookUrl;
    build('webhook', () => createWebhookDestination({ url, secret: c.webhookSecret, ...common }));
  }
  if (c.slackWebhookUrl) {
    const url = c.slackWebhookUrl;
    build('slack', () => createSlackDestination({ url, ...common }));
  }
  if (c.discordWebhookUrl) {
    const url = c.discordWebhookUrl;
    build('discord', () => createDiscordDestination({ url, ...common }));
  }
  if (c.telegramBotToken && c.telegramChatId) {
    const { telegramBotToken: token, telegramChatId: chatId, telegramApiUrl: apiUrl } = c;
    build('telegram', () => createTelegramDestination({ token, chatId, apiUrl, ...common }));
  }
  if (out.length) logger.info({ destinations: out.map((d) => d.name) }, 'alert destinations on');
  return out;
}

/** a destination that could not be built: it counts what it was asked to send */
function brokenDestination(name: string, reason: string): AlertDestination {
  let failed = 0;
  return {
    name,
    send() {
      failed++;
      return Promise.resolve();
    },
    health: () => ({
      id: `alert-${name}`,
      kind: name,
      breaker: 'closed',
      requests: 0,
      failures: 0,
      lastError: reason,
      detail: { state: 'broken', failed },
    }),
    stop: () => Promise.resolve(),
  };
}

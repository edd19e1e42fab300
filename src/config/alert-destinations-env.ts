/**
 * Where alerts go (src/alerts/destinations): the variables, their parsers and the Config part.
 * Kept beside config.ts (as otlp-env.ts is) so that file only spreads them in.
 * Mattermost alerts use MM_URL / MM_TOKEN; ALERT_CHANNEL is where alerts of sessions not
 * talking in Mattermost go. Each other destination is on when its URL (or token + chat) is set.
 */
import { z } from 'zod';
import { urlOf } from './url.js';

const str = z.string().trim().min(1, 'a non-empty value');
const httpUrl = urlOf(['http:', 'https:'], 'an http(s) URL such as https://hooks.example.com/alerts');

export const ALERT_DESTINATION_ENV = {
  ALERT_CHANNEL: z
    .string()
    .trim()
    .regex(/^[a-z0-9]{26}$/, 'a 26-character Mattermost channel id (lowercase letters and digits)')
    .optional(),
  ALERT_WEBHOOK_URL: httpUrl.optional(),
  ALERT_WEBHOOK_SECRET: str.optional(),
  ALERT_SLACK_WEBHOOK_URL: httpUrl.optional(),
  ALERT_DISCORD_WEBHOOK_URL: httpUrl.optional(),
  ALERT_TELEGRAM_BOT_TOKEN: z
    .string()
    .trim()
    .regex(/^\d+:[\w-]+$/, 'a bot token as @BotFather gives it (<digits>:<letters, digits, _ and ->)')
    .optional(),
  ALERT_TELEGRAM_CHAT_ID: z
    .string()
    .trim()
    .regex(/^(-?\d+|@\w{4,})$/, 'a chat id (digits, - for groups) or @channelusername')
    .optional(),
  TELEGRAM_API_URL: httpUrl.transform((v) => v.replace(/\/+$/, '')).default('https://api.telegram.org'),
} as const;

/** values never shown, not even in a ConfigError (a webhook URL's path is its secret) */
export const ALERT_DESTINATION_SECRET_VARS = [
  'ALERT_WEBHOOK_URL',
  'ALERT_WEBHOOK_SECRET',
  'ALERT_SLACK_WEBHOOK_URL',
  'ALERT_DISCORD_WEBHOOK_URL',
  'ALERT_TELEGRAM_BOT_TOKEN',
] as const;

export interface AlertDestinationsConfig {
  /** ALERT_CHANNEL: Mattermost channel id for alerts of sessions not in Mattermost */
  mattermostChannel?: string;
  webhookUrl?: string;
  webhookSecret?: string;
  slackWebhookUrl?: string;
  discordWebhookUrl?: string;
  telegramBotToken?: string;
  telegramChatId?: string;
  telegramApiUrl: string;
}

type Parsed = { [K in keyof typeof ALERT_DESTINATION_ENV]: z.output<(typeof ALERT_DESTINATION_ENV)[K]> };

/** the Config part, or the problems (token without chat id, or the other way round) */
export function alertDestinationsConfig(p: Record<string, unknown>): {
  config: AlertDestinationsConfig;
  problems: Array<{ name: string; value: string; expected: string }>;
} {
  const v = p as Parsed;
  const problems: Array<{ name: string; value: string; expected: string }> = [];
  if (v.ALERT_TELEGRAM_BOT_TOKEN && !v.ALERT_TELEGRAM_CHAT_ID)
    problems.push({
      name: 'ALERT_TELEGRAM_CHAT_ID',
      value: '',
      expected: 'set when ALERT_TELEGRAM_BOT_TOKEN is set',
    });
  if (v.ALERT_TELEGRAM_CHAT_ID && !v.ALERT_TELEGRAM_BOT_TOKEN)
    problems.push({
      name: 'ALERT_TELEGRAM_BOT_TOKEN',
      value: '',
      expected: 'set when ALERT_TELEGRAM_CHAT_ID is set',
    });
  return {
    config: {
      mattermostChannel: v.ALERT_CHANNEL,
      webhookUrl: v.ALERT_WEBHOOK_URL,
      webhookSecret: v.ALERT_WEBHOOK_SECRET,
      slackWebhookUrl: v.ALERT_SLACK_WEBHOOK_URL,
      discordWebhookUrl: v.ALERT_DISCORD_WEBHOOK_URL,
      telegramBotToken: v.ALERT_TELEGRAM_BOT_TOKEN,
      telegramChatId: v.ALERT_TELEGRAM_CHAT_ID,
      telegramApiUrl: v.TELEGRAM_API_URL,
    },
    problems,
  };
}

/** as it may be logged: each secret replaced by whether it is set */
export function redactAlertDestinations(c: AlertDestinationsConfig): Record<string, unknown> {
  const set = (x?: string) => (x ? '[set]' : undefined);
  return {
    ...c,
    webhookUrl: set(c.webhookUrl),
    webhookSecret: set(c.webhookSecret),
    slackWebhookUrl: set(c.slackWebhookUrl),
    discordWebhookUrl: set(c.discordWebhookUrl),
    telegramBotToken: set(c.telegramBotToken),
  };
}

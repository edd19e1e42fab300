/**
 * Alerts to a Telegram chat through a bot (ALERT_TELEGRAM_BOT_TOKEN, ALERT_TELEGRAM_CHAT_ID):
 * POST {TELEGRAM_API_URL}/bot<token>/sendMessage with JSON {chat_id, text}. Plain text, no
 * parse_mode: an agent's message full of _ and * would otherwise be refused as bad markup.
 * What the Bot API documents and this follows:
 * - text 1–4,096 characters after entities parsing ("Bad Request: message is too long");
 * - every answer is {ok, result} or {ok: false, error_code, description, parameters?}, with the
 *   HTTP status equal to error_code: 401 Unauthorized (a bad token), 404 Not Found (a malformed
 *   one), 400 "Bad Request: chat not found", 403 "Forbidden: bot was blocked/kicked";
 * - flood control: 429 with parameters.retry_after (seconds); about 1 message a second per
 *   chat and 20 a minute in a group.
 * The token is in the URL path: /health shows api.telegram.org/bot[redacted]/sendMessage.
 */
import type { Clock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import type { QueueTuning } from '../../sinks/delivery-queue.js';
import { createHttpPoster, DeliveryError } from '../../sinks/http-post.js';
import { VERSION } from '../../version.js';
import type { Alert, AlertDestination } from '../alert.js';
import { createQueuedDestination, type Pace } from './queued-destination.js';
import { createRedactor } from './redact.js';
import { fitAlertText, plainText } from './text.js';

export const TELEGRAM_TEXT_MAX = 4_096;
export const TELEGRAM_API_DEFAULT = 'https://api.telegram.org';
/** 20 messages a minute in a group, with a small burst */
export const TELEGRAM_PACE: Pace = { perSec: 1 / 3, burst: 3 };

export interface TelegramDestinationOptions {
  token: string;
  chatId: string;
  /** TELEGRAM_API_URL (tests, a local Bot API server) */
  apiUrl?: string;
  clock: Clock;
  logger: Logger;
  timeoutMs?: number;
  queue?: QueueTuning;
  pace?: Pace;
}

export function telegramBody(alert: Alert, chatId: string): { chat_id: string; text: string } {
  return { chat_id: chatId, text: fitAlertText(alert, plainText, TELEGRAM_TEXT_MAX) };
}

export function createTelegramDestination(o: TelegramDestinationOptions): AlertDestination {
  const api = (o.apiUrl ?? TELEGRAM_API_DEFAULT).replace(/\/+$/, '');
  const poster = createHttpPoster({
    url: `${api}/bot${o.token}/sendMessage`,
    clock: o.clock,
    timeoutMs: o.timeoutMs,
    headers: { 'content-type': 'application/json', 'user-agent': `clawpulse/${VERSION}` },
  });
  const target = `${api}/bot[redacted]/sendMessage`;
  const redact = createRedactor([o.token], [[poster.target, target]]);
  return createQueuedDestination({
    name: 'telegram',
    target,
    clock: o.clock,
    logger: o.logger,
    pace: o.pace ?? TELEGRAM_PACE,
    queue: o.queue,
    redact,
    async deliver(alert, signal) {
      try {
        await poster.post(JSON.stringify(telegramBody(alert, o.chatId)), {}, signal);
      } catch (err) {
        throw explain(err);
      }
    },
    refusesConfig: (e) =>
      e.status === 401 || e.status === 403 || e.status === 404 || /chat not found/i.test(e.responseText),
    detail: () => ({ chat: o.chatId }),
    close: () => poster.close(),
  });
}

interface TelegramError {
  ok?: boolean;
  error_code?: number;
  description?: string;
  parameters?: { retry_after?: number };
}

function explain(err: unknown): unknown {
  if (!(err instanceof DeliveryError) || err.status === 0) return err;
  let body: TelegramError = {};
  try {
    const j = JSON.parse(err.responseText) as unknown;
    if (j && typeof j === 'object') body = j as TelegramError;
  } catch {
    // not the Bot API answering (a proxy): the status says enough
  }
  let retryAfterMs = err.retryAfterMs;
  const ra = body.parameters?.retry_after;
  if (err.status === 429 && typeof ra === 'number' && Number.isFinite(ra))
    retryAfterMs = Math.max(0, ra) * 1000;
  const description = body.description ?? err.responseText.split('\n')[0] ?? '';
  const hint =
    err.status === 401 || err.status === 404
      ? 'check ALERT_TELEGRAM_BOT_TOKEN'
      : /chat not found/i.test(description) || err.status === 403
        ? 'check ALERT_TELEGRAM_CHAT_ID and that the bot is in that chat'
        : '';
  return new DeliveryError(
    err.status,
    `Telegram refused the alert: ${err.status} ${description}${hint ? ` (${hint})` : ''}`.trim(),
    err.responseText,
    retryAfterMs,
  );
}

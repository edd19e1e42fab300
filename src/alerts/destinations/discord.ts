/**
 * Alerts to a Discord webhook (ALERT_DISCORD_WEBHOOK_URL): Execute Webhook, POST JSON
 * {content, allowed_mentions} with ?wait=true, so Discord answers 200 with the message once it
 * is saved (without it, 204 and a message that was not saved reports no error).
 * What Discord documents and this follows:
 * - `content` at most 2,000 characters; an empty message is 400 {code: 50006}; an invalid
 *   field 400 {code: 50035, errors: …} ("Invalid Form Body");
 * - an unknown or deleted webhook, or a wrong token: 401/404 {code: 10015, "Unknown Webhook"};
 * - 429 with a JSON body {message, retry_after (seconds, a float), global} plus Retry-After and
 *   X-RateLimit-* headers; the body's float is the precise one (Retry-After is whole seconds).
 * `allowed_mentions: {parse: []}`: an agent's text quoted in an alert must not ping @everyone.
 * The URL's id and token are the secret: /health shows discord.com/[redacted].
 */
import type { Clock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import type { QueueTuning } from '../../sinks/delivery-queue.js';
import { createHttpPoster, DeliveryError } from '../../sinks/http-post.js';
import { VERSION } from '../../version.js';
import type { Alert, AlertDestination } from '../alert.js';
import { createQueuedDestination, type Pace } from './queued-destination.js';
import { createRedactor, safeTarget, urlSecrets } from './redact.js';
import { fitAlertText, markdown } from './text.js';

export const DISCORD_CONTENT_MAX = 2_000;
/** a webhook's bucket is about 5 requests per 2 s, and a channel takes about 30 messages a minute */
export const DISCORD_PACE: Pace = { perSec: 0.5, burst: 5 };

export interface DiscordDestinationOptions {
  url: string;
  clock: Clock;
  logger: Logger;
  timeoutMs?: number;
  queue?: QueueTuning;
  pace?: Pace;
}

export function discordBody(alert: Alert): { content: string; allowed_mentions: { parse: string[] } } {
  return { content: fitAlertText(alert, markdown, DISCORD_CONTENT_MAX), allowed_mentions: { parse: [] } };
}

/** the webhook URL with wait=true added (a thread_id the user put in it stays) */
export function withWait(raw: string): string {
  const u = new URL(raw);
  u.searchParams.set('wait', 'true');
  return u.toString();
}

export function createDiscordDestination(o: DiscordDestinationOptions): AlertDestination {
  const poster = createHttpPoster({
    url: withWait(o.url),
    clock: o.clock,
    timeoutMs: o.timeoutMs,
    headers: { 'content-type': 'application/json', 'user-agent': `clawpulse/${VERSION}` },
  });
  const target = safeTarget(o.url);
  const redact = createRedactor(
    [...urlSecrets(o.url), ...urlSecrets(withWait(o.url))],
    [[poster.target, target]],
  );
  return createQueuedDestination({
    name: 'discord',
    target,
    clock: o.clock,
    logger: o.logger,
    pace: o.pace ?? DISCORD_PACE,
    queue: o.queue,
    redact,
    async deliver(alert, signal) {
      try {
        await poster.post(JSON.stringify(discordBody(alert)), {}, signal);
      } catch (err) {
        throw explain(err);
      }
    },
    refusesConfig: (e) => e.status === 401 || e.status === 403 || e.status === 404,
    close: () => poster.close(),
  });
}

interface DiscordError {
  code?: number;
  message?: string;
  retry_after?: number;
}

function explain(err: unknown): unknown {
  if (!(err instanceof DeliveryError) || err.status === 0) return err;
  let body: DiscordError = {};
  try {
    const j = JSON.parse(err.responseText) as unknown;
    if (j && typeof j === 'object') body = j as DiscordError;
  } catch {
    // a proxy's page: the status says enough
  }
  let retryAfterMs = err.retryAfterMs;
  if (err.status === 429 && typeof body.retry_after === 'number' && Number.isFinite(body.retry_after))
    retryAfterMs = Math.ceil(Math.max(0, body.retry_after) * 1000);
  const hint =
    body.code === 10015 || err.status === 401 || err.status === 404
      ? 'the webhook was deleted or its URL is wrong (ALERT_DISCORD_WEBHOOK_URL)'
      : body.code === 50006 || body.code === 50035
        ? 'Discord could not take the alert body (a clawpulse bug)'
        : err.status === 429
          ? 'rate limited'
          : '';
  const what = [body.code !== undefined ? String(body.code) : '', body.message ?? '']
    .filter(Boolean)
    .join(' ');
  return new DeliveryError(
    err.status,
    `Discord refused the alert: ${err.status}${what ? ` ${what}` : ''}${hint ? ` (${hint})` : ''}`,
    err.responseText,
    retryAfterMs,
  );
}

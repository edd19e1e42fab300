/**
 * Alerts to a Slack incoming webhook (ALERT_SLACK_WEBHOOK_URL): POST JSON {text, blocks}.
 * What Slack documents and this follows (api.slack.com, "Improving error conditions for
 * Incoming Webhooks", rate limits, the 2018 text limit):
 * - 200 with body "ok" is taken; 400 invalid_payload / no_text (our body: a bug), 403
 *   invalid_token / action_prohibited, 404 no_service / channel_not_found (the URL was revoked
 *   or is wrong), 410 channel_is_archived; 500 rollup_error.
 * - `text` is cut by Slack past 40,000 characters; a section block's text must be at most
 *   3,000. The alert is short, so one section carries it (clipped to 3,000) and `text` is the
 *   same words for notifications (clipped to 40,000 — in practice the same 3,000).
 * - about one message per second, short bursts allowed, then 429 with Retry-After (seconds).
 * - mrkdwn needs &, <, > escaped (text.ts).
 * The URL's path is the secret: /health shows hooks.slack.com/[redacted].
 */
import type { Clock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import type { QueueTuning } from '../../sinks/delivery-queue.js';
import { createHttpPoster, DeliveryError } from '../../sinks/http-post.js';
import { VERSION } from '../../version.js';
import type { Alert, AlertDestination } from '../alert.js';
import { createQueuedDestination, type Pace } from './queued-destination.js';
import { createRedactor, safeTarget, urlSecrets } from './redact.js';
import { clip, fitAlertText, slackMrkdwn } from './text.js';

export const SLACK_TEXT_MAX = 40_000;
export const SLACK_SECTION_MAX = 3_000;
export const SLACK_PACE: Pace = { perSec: 1, burst: 3 };

export interface SlackDestinationOptions {
  url: string;
  clock: Clock;
  logger: Logger;
  timeoutMs?: number;
  queue?: QueueTuning;
  pace?: Pace;
}

export function slackBody(alert: Alert): { text: string; blocks: unknown[] } {
  const text = fitAlertText(alert, slackMrkdwn, SLACK_SECTION_MAX);
  return {
    text: clip(text, SLACK_TEXT_MAX),
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }],
  };
}

const HINTS: Record<string, string> = {
  invalid_token: 'the webhook was revoked or its URL is wrong (ALERT_SLACK_WEBHOOK_URL)',
  no_service: 'the webhook was removed or its URL is wrong (ALERT_SLACK_WEBHOOK_URL)',
  no_team: 'the workspace is gone or the URL is wrong (ALERT_SLACK_WEBHOOK_URL)',
  channel_not_found: "the webhook's channel no longer exists",
  channel_is_archived: "the webhook's channel is archived",
  action_prohibited: 'the workspace restricts this webhook',
  invalid_payload: 'Slack could not read the alert body (a clawpulse bug)',
  no_text: 'Slack found no text in the alert (a clawpulse bug)',
};

export function createSlackDestination(o: SlackDestinationOptions): AlertDestination {
  const poster = createHttpPoster({
    url: o.url,
    clock: o.clock,
    timeoutMs: o.timeoutMs,
    headers: { 'content-type': 'application/json', 'user-agent': `clawpulse/${VERSION}` },
  });
  const target = safeTarget(o.url);
  const redact = createRedactor(urlSecrets(o.url), [[poster.target, target]]);
  return createQueuedDestination({
    name: 'slack',
    target,
    clock: o.clock,
    logger: o.logger,
    pace: o.pace ?? SLACK_PACE,
    queue: o.queue,
    redact,
    async deliver(alert, signal) {
      try {
        await poster.post(JSON.stringify(slackBody(alert)), {}, signal);
      } catch (err) {
        throw explain(err);
      }
    },
    refusesConfig: (e) => e.status === 403 || e.status === 404 || e.status === 410,
    close: () => poster.close(),
  });
}

function explain(err: unknown): unknown {
  if (!(err instanceof DeliveryError) || err.status === 0) return err;
  const code = err.responseText.trim().split(/\s/)[0] ?? '';
  const hint = HINTS[code] ?? (err.status === 429 ? 'rate limited' : err.status >= 500 ? 'Slack failed' : '');
  return new DeliveryError(
    err.status,
    `Slack refused the alert: ${err.status} ${code}${hint ? ` (${hint})` : ''}`.trim(),
    err.responseText,
    err.retryAfterMs,
  );
}

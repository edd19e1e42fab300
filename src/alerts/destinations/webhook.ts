/**
 * Alerts to ALERT_WEBHOOK_URL: one JSON POST per alert (fired, then resolved), signed with
 * ALERT_WEBHOOK_SECRET exactly as the dispatch lifecycle webhook is (src/sinks/webhook/signature.ts:
 * X-Clawpulse-Timestamp, X-Clawpulse-Signature = sha256=HMAC(secret, "<timestamp>.<raw body>"),
 * signed afresh on every try). X-Clawpulse-Event is alert.firing or alert.resolved;
 * X-Clawpulse-Delivery is `<alert id>:<state>`, the same across retries, so a receiver can drop
 * a repeat. The body is `alertPayload(alert)`.
 *
 * A generic receiver documents no limit; the message is clipped at 16,000 characters so a runaway
 * message cannot make a huge body. 401/403/404/410 mean the URL or its secret is wrong: they
 * open the breaker (queued-destination.ts). The URL is shown as scheme and host only: its path or
 * query may be the secret (many hook services put the token there).
 */
import type { Clock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import type { QueueTuning } from '../../sinks/delivery-queue.js';
import { createHttpPoster, DeliveryError } from '../../sinks/http-post.js';
import {
  DELIVERY_HEADER,
  SIGNATURE_HEADER,
  signWebhook,
  TIMESTAMP_HEADER,
} from '../../sinks/webhook/signature.js';
import { VERSION } from '../../version.js';
import type { Alert, AlertDestination } from '../alert.js';
import { createQueuedDestination, type Pace } from './queued-destination.js';
import { createRedactor, safeTarget, urlSecrets } from './redact.js';
import { clip } from './text.js';

export const WEBHOOK_MAX_MESSAGE = 16_000;
export const WEBHOOK_PACE: Pace = { perSec: 5, burst: 10 };

export interface WebhookDestinationOptions {
  url: string;
  secret?: string;
  clock: Clock;
  logger: Logger;
  timeoutMs?: number;
  queue?: QueueTuning;
  pace?: Pace;
}

/** What a receiver gets: the alert's fields by their names, absent ones left out. */
export function alertPayload(a: Alert): Record<string, unknown> {
  return {
    id: a.id,
    key: a.key,
    rule: a.rule,
    severity: a.severity,
    state: a.state,
    sessionKey: a.sessionKey,
    label: a.label,
    agentId: a.agentId,
    host: a.host,
    gateway: a.gateway,
    message: clip(a.message, WEBHOOK_MAX_MESSAGE),
    value: a.value,
    threshold: a.threshold,
    unit: a.unit,
    firedAt: a.firedAt,
    resolvedAt: a.resolvedAt,
    action: a.action,
  };
}

export function createWebhookDestination(o: WebhookDestinationOptions): AlertDestination {
  const { clock, secret } = o;
  const poster = createHttpPoster({
    url: o.url,
    clock,
    timeoutMs: o.timeoutMs,
    headers: { 'content-type': 'application/json', 'user-agent': `clawpulse/${VERSION}` },
  });
  const target = safeTarget(o.url);
  const redact = createRedactor([...urlSecrets(o.url), secret], [[poster.target, target]]);
  return createQueuedDestination({
    name: 'webhook',
    target,
    clock,
    logger: o.logger,
    pace: o.pace ?? WEBHOOK_PACE,
    queue: o.queue,
    redact,
    async deliver(alert, signal) {
      const body = Buffer.from(JSON.stringify(alertPayload(alert)), 'utf8');
      const headers: Record<string, string> = {
        'x-clawpulse-event': `alert.${alert.state}`,
        [DELIVERY_HEADER]: `${alert.id}:${alert.state}`.replace(/[^\w.:|-]/g, '_'),
      };
      if (secret) {
        // signed per attempt: a receiver's freshness window must accept a late retry
        const ts = Math.trunc(clock.now());
        headers[TIMESTAMP_HEADER] = String(ts);
        headers[SIGNATURE_HEADER] = signWebhook(secret, ts, body);
      }
      try {
        await poster.post(body, headers, signal);
      } catch (err) {
        throw explain(err, target);
      }
    },
    refusesConfig: (e) => [401, 403, 404, 410].includes(e.status),
    detail: () => ({ signed: Boolean(secret) }),
    close: () => poster.close(),
  });
}

function explain(err: unknown, target: string): unknown {
  if (!(err instanceof DeliveryError) || err.status === 0) return err;
  const why =
    err.status === 401 || err.status === 403
      ? ': the receiver refused us (check ALERT_WEBHOOK_SECRET and what the receiver expects)'
      : err.status === 404 || err.status === 410
        ? ': no such hook (check ALERT_WEBHOOK_URL)'
        : '';
  return new DeliveryError(
    err.status,
    `alert webhook ${target} answered ${err.status}${why}: ${err.responseText.split('\n')[0] ?? ''}`.trim(),
    err.responseText,
    err.retryAfterMs,
  );
}

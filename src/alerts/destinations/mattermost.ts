/**
 * Alerts to Mattermost, with the status boxes' client and configuration (MM_URL, MM_TOKEN):
 * - a session that talks in Mattermost (its channel, or its key, names a Mattermost channel and
 *   thread: the boxes' routing) gets the alert in its own channel and thread;
 * - any other alert goes to ALERT_CHANNEL; with no ALERT_CHANNEL it is not sent (counted as
 *   `unrouted` in /health);
 * - a resolved alert is a reply in the thread its firing post started or joined, so the two
 *   read together.
 * The message is Markdown, within MAX_MESSAGE_CHARS and the server's stock 16,383 runes.
 * Errors become DeliveryErrors (status, Retry-After of a 429) for the shared queue. A refused
 * token (401), or ALERT_CHANNEL refusing the bot (403), opens the breaker: every alert would
 * fail alike. A session's own channel refusing the bot is that alert's problem only: it is
 * dropped and counted, the others still go. The token never leaves the Authorization header.
 */
import type { Clock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import { openclawKey } from '../../model/session-scope.js';
import { parseSessionKey } from '../../openclaw/session-key.js';
import type { QueueTuning } from '../../sinks/delivery-queue.js';
import { DeliveryError } from '../../sinks/http-post.js';
import { createMattermostClient, MattermostError } from '../../sinks/mattermost/client.js';
import { DEFAULT_MAX_POST_SIZE } from '../../sinks/mattermost/index.js';
import { type BoxRoute, fromChannel } from '../../sinks/mattermost/routing.js';
import type { Alert, AlertDestination } from '../alert.js';
import { createQueuedDestination, type Pace } from './queued-destination.js';
import { createRedactor } from './redact.js';
import { fitAlertText, markdown } from './text.js';

/** the boxes share the server's limiter (10/s when an admin turns it on): alerts take little of it */
export const MATTERMOST_PACE: Pace = { perSec: 2, burst: 5 };
/** firing posts remembered for their resolved reply */
const THREADS_KEPT = 1000;

export interface MattermostDestinationOptions {
  url: string;
  token: string;
  /** ALERT_CHANNEL: where alerts of sessions not talking in Mattermost go */
  alertChannel?: string;
  /** MAX_MESSAGE_CHARS (the server's 16,383 runes is the ceiling) */
  maxMessageChars?: number;
  clock: Clock;
  logger: Logger;
  queue?: QueueTuning;
  pace?: Pace;
}

/** where an alert goes: the session's own Mattermost thread, else ALERT_CHANNEL */
export function routeAlert(alert: Alert, alertChannel?: string): BoxRoute | undefined {
  const own =
    fromChannel(alert.channel) ??
    (alert.sessionKey ? fromChannel(parseSessionKey(openclawKey(alert.sessionKey)).channel) : undefined);
  if (own) return own;
  return alertChannel ? { channelId: alertChannel, via: 'default' } : undefined;
}

export function createMattermostDestination(o: MattermostDestinationOptions): AlertDestination {
  const { clock } = o;
  const client = createMattermostClient({ url: o.url, token: o.token, now: () => clock.now() });
  const maxChars = Math.min(o.maxMessageChars ?? DEFAULT_MAX_POST_SIZE, DEFAULT_MAX_POST_SIZE);
  /** alert id → the thread root its firing post is in */
  const threads = new Map<string, string>();
  let unrouted = 0;
  /** the route of the post in flight: the queue sends one alert at a time, so it is the failed one's */
  let via: BoxRoute['via'] = 'default';
  const counts = { origin: 0, default: 0 };
  return createQueuedDestination({
    name: 'mattermost',
    target: client.baseUrl,
    clock,
    logger: o.logger,
    pace: o.pace ?? MATTERMOST_PACE,
    queue: o.queue,
    redact: createRedactor([o.token]),
    async deliver(alert) {
      const route = routeAlert(alert, o.alertChannel);
      if (!route) {
        unrouted++;
        return;
      }
      via = route.via;
      const root = alert.state === 'resolved' ? (threads.get(alert.id) ?? route.rootId) : route.rootId;
      try {
        const post = await client.createPost({
          channel_id: route.channelId,
          message: fitAlertText(alert, markdown, maxChars),
          ...(root ? { root_id: root } : {}),
        });
        counts[route.via]++;
        if (alert.state === 'firing') {
          threads.set(alert.id, post.root_id || post.id);
          if (threads.size > THREADS_KEPT) threads.delete(threads.keys().next().value as string);
        } else threads.delete(alert.id);
      } catch (err) {
        throw asDeliveryError(err);
      }
    },
    refusesConfig: (e) => e.status === 401 || (e.status === 403 && via === 'default'),
    detail: () => ({ alertChannel: o.alertChannel ?? null, unrouted, ...counts }),
    close: () => client.close(),
  });
}

/** the queue decides on DeliveryError: status (0 = no answer) and a 429's wait */
function asDeliveryError(err: unknown): unknown {
  if (!(err instanceof MattermostError)) return err;
  const hint =
    err.status === 401
      ? ' (Mattermost refused MM_TOKEN)'
      : err.status === 403
        ? ' (the bot may not post in that channel: add it, or check ALERT_CHANNEL)'
        : '';
  return new DeliveryError(err.status, `Mattermost: ${err.message}${hint}`, err.id, err.retryAfterMs);
}

/**
 * A strict fake of Discord's Execute Webhook (POST /api/webhooks/{id}/{token}) as Discord
 * documents it (discord.com/developers/docs: Webhook resource, Rate Limits, JSON error codes):
 * - with ?wait=true, 200 and the message object once saved; without, 204 No Content;
 * - the body must be application/json here (Discord also takes multipart for files, which
 *   clawpulse never sends); anything else is read as no fields: 400 {code: 50006};
 * - 400 {code: 50006, "Cannot send an empty message"} with neither content nor embeds;
 * - 400 {code: 50035, "Invalid Form Body", errors: {...BASE_TYPE_MAX_LENGTH}} for content over
 *   2,000 characters, more than 10 embeds, a username over 80, a bad allowed_mentions.parse;
 * - 404 {code: 10015, "Unknown Webhook"} for an unknown (or deleted) webhook id, 401
 *   {code: 50027, "Invalid Webhook Token"} for a wrong token;
 * - after `rateLimit.max` requests in a window (Discord: about 5 per 2 s per webhook), 429 with
 *   JSON {message, retry_after: seconds as a float, global: false} and the headers Retry-After
 *   (whole seconds), X-RateLimit-Limit/-Remaining/-Reset-After/-Scope. Successful answers carry
 *   X-RateLimit-* too. The window runs on `now` (give it the test's clock).
 */
import { type FakeService, mediaType, startFakeService, windowLimit } from './fake-service-kit.js';

export const DISCORD_CONTENT_MAX = 2_000;

export interface DiscordMessage {
  id: string;
  content?: string;
  embeds?: unknown[];
  allowed_mentions?: unknown;
}

export interface FakeDiscord extends FakeService {
  /** the working webhook's URL (…/api/webhooks/<id>/<token>) */
  webhookUrl: string;
  /** messages saved, in order */
  messages: DiscordMessage[];
  /** deletes the webhook: later requests get 404 10015 */
  deleteWebhook(): void;
}

export interface FakeDiscordOptions {
  id?: string;
  token?: string;
  rateLimit?: { max: number; windowMs: number };
  now?: () => number;
}

const PATH = /^\/api(?:\/v\d+)?\/webhooks\/([^/]+)\/([^/]+)$/;
const MENTIONS = new Set(['roles', 'users', 'everyone']);

export async function startFakeDiscord(o: FakeDiscordOptions = {}): Promise<FakeDiscord> {
  const now = o.now ?? Date.now;
  const id = o.id ?? '112233445566778899';
  const token = o.token ?? `tok_${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  const max = o.rateLimit?.max ?? 5;
  const windowMs = o.rateLimit?.windowMs ?? 2000;
  const limit = windowLimit({ max, windowMs, now });
  const messages: DiscordMessage[] = [];
  let deleted = false;
  let seq = 0;

  const err = (status: number, code: number, message: string, errors?: unknown) => ({
    status,
    body: { code, message, ...(errors ? { errors } : {}) },
  });
  const tooLong = (field: string, n: number) =>
    err(400, 50035, 'Invalid Form Body', {
      [field]: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${n} or fewer in length.` }] },
    });

  const svc = await startFakeService((req) => {
    const m = PATH.exec(req.path);
    if (req.method !== 'POST' || !m) return err(404, 0, '404: Not Found');
    if (deleted || m[1] !== id) return err(404, 10015, 'Unknown Webhook');
    if (m[2] !== token) return err(401, 50027, 'Invalid Webhook Token');
    const l = limit.hit(id);
    if (l.limited) {
      const s = l.retryAfterMs / 1000;
      return {
        status: 429,
        headers: {
          'retry-after': String(Math.ceil(s)),
          'x-ratelimit-limit': String(max),
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset-after': s.toFixed(3),
          'x-ratelimit-scope': 'shared',
        },
        body: { message: 'You are being rate limited.', retry_after: Number(s.toFixed(3)), global: false },
      };
    }
    const b =
      mediaType(req) === 'application/json' && req.json && typeof req.json === 'object' ? req.json : {};
    const body = b as { content?: unknown; embeds?: unknown; username?: unknown; allowed_mentions?: unknown };
    if (body.content !== undefined && typeof body.content !== 'string')
      return err(400, 50035, 'Invalid Form Body', { content: { _errors: [{ code: 'BASE_TYPE_STRING' }] } });
    const content = body.content as string | undefined;
    if (content && content.length > DISCORD_CONTENT_MAX) return tooLong('content', DISCORD_CONTENT_MAX);
    if (typeof body.username === 'string' && body.username.length > 80) return tooLong('username', 80);
    if (body.embeds !== undefined && (!Array.isArray(body.embeds) || body.embeds.length > 10))
      return err(400, 50035, 'Invalid Form Body', {
        embeds: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH' }] },
      });
    if (body.allowed_mentions !== undefined) {
      const parse = (body.allowed_mentions as { parse?: unknown })?.parse;
      if (parse !== undefined && (!Array.isArray(parse) || parse.some((p) => !MENTIONS.has(String(p)))))
        return err(400, 50035, 'Invalid Form Body', {
          allowed_mentions: { _errors: [{ code: 'ENUM_TYPE_COERCE' }] },
        });
    }
    const embeds = Array.isArray(body.embeds) ? body.embeds : [];
    if (!content?.trim() && embeds.length === 0) return err(400, 50006, 'Cannot send an empty message');
    const msg: DiscordMessage = {
      id: String(1_000_000_000_000_000 + ++seq),
      ...(content !== undefined ? { content } : {}),
      ...(embeds.length ? { embeds } : {}),
      ...(body.allowed_mentions !== undefined ? { allowed_mentions: body.allowed_mentions } : {}),
    };
    messages.push(msg);
    const headers = { 'x-ratelimit-limit': String(max), 'x-ratelimit-scope': 'user' };
    if (req.query.get('wait') === 'true')
      return {
        status: 200,
        headers,
        body: {
          ...msg,
          type: 0,
          channel_id: '998877665544332211',
          webhook_id: id,
          timestamp: new Date(now()).toISOString(),
        },
      };
    return { status: 204, headers };
  }, now);

  return {
    ...svc,
    webhookUrl: `${svc.url}/api/webhooks/${id}/${token}`,
    messages,
    deleteWebhook() {
      deleted = true;
    },
  };
}

/**
 * A strict fake of the Telegram Bot API's sendMessage (POST /bot<token>/sendMessage) as
 * core.telegram.org/bots/api documents it:
 * - every answer is JSON {ok: true, result: Message} or {ok: false, error_code, description
 *   [, parameters]}, with the HTTP status equal to error_code;
 * - 401 "Unauthorized" for a token the server does not know; 404 "Not Found" for a path that is
 *   not /bot<token>/<method> (a malformed token);
 * - 400 "Bad Request: chat not found" for a chat the bot is not in, "Bad Request: message text is
 *   empty", "Bad Request: message is too long" past 4,096 characters, "Bad Request: unsupported
 *   parse_mode", "Bad Request: chat_id is empty";
 * - the Bot API also takes form-encoded and query parameters, which clawpulse never sends: this
 *   fake takes application/json only (400 otherwise), so a drift shows;
 * - flood control: after `rateLimit.max` messages to a chat in a window, 429 {error_code: 429,
 *   description: "Too Many Requests: retry after N", parameters: {retry_after: N}} (no
 *   Retry-After header: the body is where Telegram says it). The window runs on `now`.
 */
import { type FakeService, mediaType, startFakeService, windowLimit } from './fake-service-kit.js';

export const TELEGRAM_TEXT_MAX = 4096;

export interface TelegramMessage {
  message_id: number;
  chat_id: string;
  text: string;
  parse_mode?: string;
}

export interface FakeTelegram extends FakeService {
  /** TELEGRAM_API_URL for the destination */
  apiUrl: string;
  token: string;
  messages: TelegramMessage[];
}

export interface FakeTelegramOptions {
  token?: string;
  /** chats the bot is in (chat ids as strings: "-100123", "42", "@channel") */
  chats?: string[];
  rateLimit?: { max: number; windowMs: number };
  now?: () => number;
}

const PARSE_MODES = new Set(['MarkdownV2', 'Markdown', 'HTML']);

export async function startFakeTelegram(o: FakeTelegramOptions = {}): Promise<FakeTelegram> {
  const now = o.now ?? Date.now;
  const token = o.token ?? '123456789:AAFakeTelegramTokenForTests_0123456789';
  const chats = new Set(o.chats ?? ['-1001234567890']);
  const limit = windowLimit({ max: o.rateLimit?.max ?? 20, windowMs: o.rateLimit?.windowMs ?? 60_000, now });
  const messages: TelegramMessage[] = [];
  let seq = 0;

  const fail = (code: number, description: string, parameters?: Record<string, unknown>) => ({
    status: code,
    body: { ok: false, error_code: code, description, ...(parameters ? { parameters } : {}) },
  });

  const svc = await startFakeService((req) => {
    const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(req.path);
    if (!m || !/^\d+:[\w-]+$/.test(m[1] ?? '')) return fail(404, 'Not Found');
    if (m[1] !== token) return fail(401, 'Unauthorized');
    if (m[2] !== 'sendMessage') return fail(404, 'Not Found: method not found');
    if (
      req.method !== 'POST' ||
      mediaType(req) !== 'application/json' ||
      !req.json ||
      typeof req.json !== 'object'
    )
      return fail(400, 'Bad Request: the fake takes a JSON body only');
    const b = req.json as { chat_id?: unknown; text?: unknown; parse_mode?: unknown };
    if (b.chat_id === undefined || b.chat_id === '') return fail(400, 'Bad Request: chat_id is empty');
    const chat = String(b.chat_id);
    if (typeof b.text !== 'string' || b.text.trim() === '')
      return fail(400, 'Bad Request: message text is empty');
    if (b.parse_mode !== undefined && !PARSE_MODES.has(String(b.parse_mode)))
      return fail(400, 'Bad Request: unsupported parse_mode');
    if (!chats.has(chat)) return fail(400, 'Bad Request: chat not found');
    if (b.text.length > TELEGRAM_TEXT_MAX) return fail(400, 'Bad Request: message is too long');
    const l = limit.hit(chat);
    if (l.limited) {
      const s = Math.max(1, Math.ceil(l.retryAfterMs / 1000));
      return fail(429, `Too Many Requests: retry after ${s}`, { retry_after: s });
    }
    const msg: TelegramMessage = {
      message_id: ++seq,
      chat_id: chat,
      text: b.text,
      ...(b.parse_mode !== undefined ? { parse_mode: String(b.parse_mode) } : {}),
    };
    messages.push(msg);
    return {
      status: 200,
      body: {
        ok: true,
        result: {
          message_id: msg.message_id,
          date: Math.floor(now() / 1000),
          chat: { id: Number(chat) || chat },
          text: msg.text,
        },
      },
    };
  }, now);

  return { ...svc, apiUrl: svc.url, token, messages };
}

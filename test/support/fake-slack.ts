/**
 * A strict fake of Slack incoming webhooks (POST https://hooks.slack.com/services/T…/B…/<secret>)
 * as Slack documents them (api.slack.com: incoming webhooks, "Improving error conditions for
 * Incoming Webhooks" 2016, rate limits, "Truncating really long messages" 2018):
 * - 200 text "ok" for a message taken;
 * - 400 invalid_payload (a body that is not a JSON object, or not sent as application/json:
 *   Slack also takes form-encoded `payload=`, which clawpulse never sends, so this fake refuses it),
 *   400 no_text (neither text nor blocks nor attachments), 400 invalid_blocks (a block Slack would
 *   refuse: more than 50, an unknown type, section text empty or over 3,000 characters);
 * - 403 invalid_token (a revoked hook), 403 action_prohibited, 404 no_service (an unknown hook
 *   path), 404 channel_not_found, 410 channel_is_archived;
 * - text over 40,000 characters is cut (and counted in `truncated`), as Slack does;
 * - after `rateLimit.max` messages in a window, 429 with Retry-After (whole seconds) and body
 *   "rate_limited" until the window ends (the window runs on `now`: give it the test's clock).
 */
import { type FakeService, mediaType, startFakeService, windowLimit } from './fake-service-kit.js';

export const SLACK_TEXT_MAX = 40_000;
export const SLACK_SECTION_MAX = 3_000;

export type SlackHookState = 'ok' | 'revoked' | 'removed' | 'channel_not_found' | 'archived' | 'prohibited';

export interface SlackMessage {
  hook: string;
  text?: string;
  blocks?: unknown[];
}

export interface FakeSlack extends FakeService {
  /** a hook URL that works, e.g. http://127.0.0.1:port/services/T0/B0/secret */
  hookUrl: string;
  /** messages Slack took, in order */
  messages: SlackMessage[];
  /** messages whose text Slack cut at 40,000 */
  truncated: number;
  /** changes a hook's state (revoke it, archive its channel …) */
  setHook(path: string, state: SlackHookState): void;
}

export interface FakeSlackOptions {
  /** the path of the working hook (default /services/T0FAKE000/B0FAKE000/<random>) */
  path?: string;
  rateLimit?: { max: number; windowMs: number };
  now?: () => number;
}

const ERRORS: Record<Exclude<SlackHookState, 'ok'>, [number, string]> = {
  revoked: [403, 'invalid_token'],
  prohibited: [403, 'action_prohibited'],
  removed: [404, 'no_service'],
  channel_not_found: [404, 'channel_not_found'],
  archived: [410, 'channel_is_archived'],
};

export async function startFakeSlack(o: FakeSlackOptions = {}): Promise<FakeSlack> {
  const now = o.now ?? Date.now;
  const path =
    o.path ?? `/services/T0FAKE000/B0FAKE000/${Math.random().toString(36).slice(2).padEnd(24, 'x')}`;
  const hooks = new Map<string, SlackHookState>([[path, 'ok']]);
  const messages: SlackMessage[] = [];
  const limit = windowLimit({ max: o.rateLimit?.max ?? 10, windowMs: o.rateLimit?.windowMs ?? 1000, now });
  let truncated = 0;

  const text = (status: number, body: string) => ({ status, body });

  const svc = await startFakeService((req) => {
    if (req.method !== 'POST') return text(405, 'invalid_method');
    const state = hooks.get(req.path);
    if (!state) return text(404, 'no_service');
    if (state !== 'ok') {
      const [status, code] = ERRORS[state];
      return text(status, code);
    }
    const l = limit.hit(req.path);
    if (l.limited)
      return {
        status: 429,
        headers: { 'retry-after': String(Math.ceil(l.retryAfterMs / 1000)) },
        body: 'rate_limited',
      };
    if (mediaType(req) !== 'application/json') return text(400, 'invalid_payload');
    const b = req.json;
    if (!b || typeof b !== 'object' || Array.isArray(b)) return text(400, 'invalid_payload');
    const m = b as { text?: unknown; blocks?: unknown; attachments?: unknown };
    if (m.text !== undefined && typeof m.text !== 'string') return text(400, 'invalid_payload');
    const hasText = typeof m.text === 'string' && m.text.length > 0;
    if (!hasText && m.blocks === undefined && m.attachments === undefined) return text(400, 'no_text');
    if (m.blocks !== undefined && !validBlocks(m.blocks)) return text(400, 'invalid_blocks');
    let t = m.text as string | undefined;
    if (t && t.length > SLACK_TEXT_MAX) {
      t = t.slice(0, SLACK_TEXT_MAX);
      truncated++;
    }
    messages.push({
      hook: req.path,
      ...(t !== undefined ? { text: t } : {}),
      ...(m.blocks ? { blocks: m.blocks as unknown[] } : {}),
    });
    return text(200, 'ok');
  }, now);

  return {
    ...svc,
    hookUrl: `${svc.url}${path}`,
    messages,
    get truncated() {
      return truncated;
    },
    setHook: (p, s) => hooks.set(p, s),
  };
}

function validBlocks(blocks: unknown): boolean {
  if (!Array.isArray(blocks) || blocks.length > 50) return false;
  for (const b of blocks) {
    if (!b || typeof b !== 'object') return false;
    const blk = b as { type?: unknown; text?: { type?: unknown; text?: unknown } };
    if (blk.type === 'divider') continue;
    if (blk.type !== 'section' && blk.type !== 'header') return false;
    const t = blk.text;
    if (!t || (t.type !== 'mrkdwn' && t.type !== 'plain_text') || typeof t.text !== 'string') return false;
    const max = blk.type === 'header' ? 150 : SLACK_SECTION_MAX;
    if (t.text.length === 0 || t.text.length > max) return false;
  }
  return true;
}

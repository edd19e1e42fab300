/**
 * Write routes that act on a running session: steer it with a message, abort its run.
 * Errors here are `{ error: "<message>" }` (the dashboard shows the text as it is).
 * The read auth has run before these; writeGuard adds the cross-site checks.
 */
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { type ActionActor, ActionError, type SessionActions } from '../dispatch/session-actions.js';
import type { Logger } from '../infra/logger.js';
import { clientIp, writeGuard } from './write-guard.js';

export const MAX_STEER_BYTES = 32 * 1024;
/** room for a 32 KiB message JSON-escaped (`\uXXXX` is 6 bytes for 1); more is refused unread */
const MAX_BODY_BYTES = 256 * 1024;
const MAX_KEY_LENGTH = 1024;
export const UNAVAILABLE = 'actions unavailable: no gateway connection (set OPENCLAW_GATEWAY_URL / token)';

export interface ActionRoutesDeps {
  actions?: SessionActions;
  logger: Logger;
  token: string | undefined;
  listenHost: string;
  /** the gateway call's answer is awaited this long (default 30 s), then 502 */
  timeoutMs?: number;
}

type ActionResult = Record<string, string | boolean | undefined>;
const ACTION_STATUSES = new Set<number>([400, 404, 409, 502, 503]);
const fail = (c: Context, status: ContentfulStatusCode, error: string) => c.json({ error }, status);

function actorOf(c: Context): ActionActor {
  const ua = c.req.header('user-agent');
  return {
    ip: clientIp(c),
    userAgent: ua ? ua.slice(0, 256) : undefined,
    // the dashboard's fetch is same-origin; scripts send no Sec-Fetch-Site (only for the log)
    via: c.req.header('sec-fetch-site') === 'same-origin' ? 'dashboard' : 'api',
  };
}

export function createActionRoutes(deps: ActionRoutesDeps): Hono {
  const log = deps.logger.child({ component: 'actions' });
  const timeoutMs = deps.timeoutMs ?? 30_000;
  const r = new Hono();
  const guard = writeGuard({ token: deps.token, listenHost: deps.listenHost, logger: log });
  const limit = bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => fail(c, 413, 'body too large') });

  /** runs one action: key check, timeout, error mapping and the audit line */
  async function run(
    c: Context,
    action: 'steer' | 'abort',
    what: Record<string, unknown>,
    call: (actions: SessionActions, key: string, actor: ActionActor) => Promise<ActionResult>,
  ): Promise<Response> {
    const actions = deps.actions;
    if (!actions) return fail(c, 503, UNAVAILABLE);
    const key = c.req.param('key') ?? '';
    if (!key || key.length > MAX_KEY_LENGTH) return fail(c, 400, 'bad session key');
    const actor = actorOf(c);
    const line = { action, sessionKey: key, ...what, ...actor };
    const t0 = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TimeoutError()), timeoutMs);
      });
      const result = await Promise.race([call(actions, key, actor), timeout]);
      log.info({ ...line, ...result, ms: Math.round(performance.now() - t0) }, 'session action');
      return c.json({ ok: true, ...result });
    } catch (err) {
      if (err instanceof ActionError && ACTION_STATUSES.has(err.status)) {
        log.warn({ ...line, status: err.status, error: err.message }, 'session action refused');
        return fail(c, err.status, err.message);
      }
      if (err instanceof TimeoutError) {
        log.warn({ ...line, timeoutMs }, 'session action timed out');
        return fail(
          c,
          502,
          `the gateway did not answer within ${timeoutMs / 1000} s (the ${action} may still happen)`,
        );
      }
      // unknown failures may carry internals (URLs, stack text): logged, not sent
      log.error({ ...line, err }, 'session action failed');
      return fail(c, 502, `${action} failed: the gateway call did not succeed (see the daemon log)`);
    } finally {
      clearTimeout(timer);
    }
  }

  r.post('/sessions/:key/steer', guard, limit, async (c) => {
    if (!deps.actions) return fail(c, 503, UNAVAILABLE);
    // application/json, not a form type: a cross-site <form> can only send the simple types,
    // and a fetch with this type needs a CORS preflight, which this server never grants
    const type = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/json') return fail(c, 415, 'Content-Type must be application/json');
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return fail(c, 400, 'body must be JSON: {"message": "..."}');
    }
    const message = (body as { message?: unknown } | null)?.message;
    if (typeof message !== 'string' || !message.trim()) {
      return fail(c, 400, 'message must be a non-empty string');
    }
    const bytes = Buffer.byteLength(message, 'utf8');
    if (bytes > MAX_STEER_BYTES) return fail(c, 400, `message is ${bytes} bytes; at most ${MAX_STEER_BYTES}`);
    // the text may hold anything the user typed: only its length at info level
    log.debug({ sessionKey: c.req.param('key'), message: message.slice(0, 200) }, 'steer message');
    return run(c, 'steer', { messageLength: message.length }, async (a, key, actor) => {
      const { mode, runId } = await a.steer(key, message, actor);
      return { mode, runId };
    });
  });

  r.post('/sessions/:key/abort', guard, limit, (c) =>
    run(c, 'abort', {}, async (a, key, actor) => {
      const { method, runId, aborted } = await a.abort(key, actor);
      return { method, runId, aborted };
    }),
  );
  return r;
}

class TimeoutError extends Error {}

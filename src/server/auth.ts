/**
 * Dashboard access when DASHBOARD_TOKEN is set: every route but /health and the login page
 * needs `Authorization: Bearer <token>` or the login cookie (and /health shows only its status
 * without them). The cookie holds an HMAC of the token (never the token), so a leaked cookie
 * does not reveal it and it survives restarts. Comparisons hash both sides to equal-length
 * digests and use crypto.timingSafeEqual.
 *
 * Failed logins are limited per client address (5 a minute, then 429 with Retry-After, right
 * token or not). The cookie is `Secure` when the request came over HTTPS: TLS on this socket,
 * or `X-Forwarded-Proto: https` from a proxy on this host. Forwarded headers (`X-Forwarded-Proto`,
 * `X-Forwarded-For`) are believed only from a loopback peer: anyone can send them, and only a
 * reverse proxy on the same machine (the documented setup) is known to set them itself. Behind
 * a proxy on another host the cookie goes without `Secure` and the limit counts the proxy's
 * address.
 */
import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Context, MiddlewareHandler } from 'hono';
import { isLoopback } from '../config/config.js';
import { type Clock, systemClock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import { jsonError } from './errors.js';

export const AUTH_COOKIE = 'clawpulse_auth';
const COOKIE_LABEL = 'clawpulse-dashboard-cookie-v1';
const OPEN_PATHS = new Set(['/health', '/login']);

/** constant-time string equality (digests first, so unequal lengths leak nothing either) */
export function safeEqual(a: string, b: string): boolean {
  const da = crypto.createHash('sha256').update(a).digest();
  const db = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(da, db);
}

export function cookieValue(token: string): string {
  return crypto.createHmac('sha256', token).update(COOKIE_LABEL).digest('base64url');
}

function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

export function isAuthorized(
  token: string,
  authorization: string | undefined,
  cookieHeader: string | undefined,
): boolean {
  const m = authorization ? /^Bearer\s+(.+)$/i.exec(authorization.trim()) : null;
  if (m?.[1] && safeEqual(m[1], token)) return true;
  const c = readCookie(cookieHeader, AUTH_COOKIE);
  return c !== undefined && safeEqual(c, cookieValue(token));
}

/** wants HTML (a browser navigating): redirect to the login page instead of a JSON 401 */
function wantsHtml(c: Context): boolean {
  return c.req.method === 'GET' && (c.req.header('accept') ?? '').includes('text/html');
}

export function authMiddleware(token: string | undefined): MiddlewareHandler {
  return async (c, next) => {
    if (!token || OPEN_PATHS.has(c.req.path)) return next();
    if (isAuthorized(token, c.req.header('authorization'), c.req.header('cookie'))) return next();
    if (wantsHtml(c) && !c.req.path.startsWith('/api/')) return c.redirect('/login', 302);
    c.header('www-authenticate', 'Bearer realm="clawpulse"');
    return jsonError(c, 401, 'unauthorized', 'a valid dashboard token is required');
  };
}

const page = (message: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>clawpulse — sign in</title>
<style>
 :root{color-scheme:light dark;font-family:system-ui,sans-serif}
 body{display:grid;place-items:center;min-height:100vh;margin:0;background:Canvas;color:CanvasText}
 form{display:flex;flex-direction:column;gap:.75rem;min-width:18rem;padding:2rem;border:1px solid #8884;border-radius:12px}
 input,button{font:inherit;padding:.5rem .75rem;border-radius:8px;border:1px solid #8886}
 button{cursor:pointer;background:#5b5bd6;color:#fff;border:0}
 .err{color:#e5484d;margin:0}
</style></head>
<body><form method="post" action="/login">
<h1 style="margin:0;font-size:1.25rem">clawpulse</h1>
<label for="token">Dashboard token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
${message ? `<p class="err" role="alert">${message}</p>` : ''}
<button type="submit">Sign in</button>
</form></body></html>`;

function incoming(c: Context): IncomingMessage | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
}

/** an address as Node reports it (`::ffff:127.0.0.1` included) is a loopback one */
function loopbackPeer(addr: string | undefined): boolean {
  if (!addr) return false;
  return isLoopback(addr.startsWith('::ffff:') ? addr.slice(7) : addr);
}

/** the client's address: the peer, or what a loopback proxy says it saw (X-Forwarded-For's last entry) */
export function clientAddress(c: Context): string {
  const peer = incoming(c)?.socket?.remoteAddress;
  const fwd = c.req.header('x-forwarded-for');
  if (fwd && loopbackPeer(peer)) {
    const last = fwd.split(',').pop()?.trim();
    if (last) return last;
  }
  return peer ?? 'unknown';
}

/** the request came over HTTPS: TLS on this socket, or a loopback proxy's `X-Forwarded-Proto: https` */
export function requestIsHttps(c: Context): boolean {
  const req = incoming(c);
  if ((req?.socket as TLSSocket | undefined)?.encrypted) return true;
  if (!loopbackPeer(req?.socket?.remoteAddress)) return false;
  const proto = c.req.header('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
  return proto === 'https';
}

export interface LoginOptions {
  clock?: Clock;
  logger?: Logger;
  /** failed logins an address may make in `windowMs` (5) before it is refused */
  maxFailures?: number;
  windowMs?: number;
  /** addresses remembered at most (the oldest forgotten first) */
  maxAddresses?: number;
}

/**
 * GET /login (the form) and POST /login (sets the cookie); only mounted when a token is set.
 * An address with `maxFailures` failed logins in the last `windowMs` gets 429 until the oldest
 * of them is that old, whatever it sends: a guess is not even checked.
 */
export function loginHandlers(token: string, opts: LoginOptions = {}) {
  const clock = opts.clock ?? systemClock;
  const maxFailures = opts.maxFailures ?? 5;
  const windowMs = opts.windowMs ?? 60_000;
  const maxAddresses = opts.maxAddresses ?? 10_000;
  /** address → times of its recent failures, oldest first */
  const failures = new Map<string, number[]>();

  const recent = (addr: string, now: number): number[] => {
    const list = (failures.get(addr) ?? []).filter((t) => now - t < windowMs);
    if (list.length) failures.set(addr, list);
    else failures.delete(addr);
    return list;
  };

  return {
    get: (c: Context) => c.html(page('')),
    post: async (c: Context) => {
      const addr = clientAddress(c);
      const now = clock.now();
      const list = recent(addr, now);
      if (list.length >= maxFailures) {
        const retryAfterS = Math.max(1, Math.ceil(((list[0] as number) + windowMs - now) / 1000));
        c.header('retry-after', String(retryAfterS));
        return c.html(page(`Too many failed sign-ins. Try again in ${retryAfterS} s.`), 429);
      }
      let given = '';
      try {
        const body = await c.req.parseBody();
        given = typeof body.token === 'string' ? body.token : '';
      } catch {
        /* a garbage body is a failed login */
      }
      if (!given || !safeEqual(given, token)) {
        list.push(now);
        failures.delete(addr);
        failures.set(addr, list);
        if (failures.size > maxAddresses) failures.delete(failures.keys().next().value as string);
        if (list.length === maxFailures) {
          opts.logger?.warn(
            { ip: addr, failures: list.length },
            'too many failed logins: refusing this address for a while',
          );
        }
        return c.html(page('That token is not right.'), 401);
      }
      failures.delete(addr);
      const secure = requestIsHttps(c) ? '; Secure' : '';
      c.header(
        'set-cookie',
        `${AUTH_COOKIE}=${cookieValue(token)}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${30 * 86_400}${secure}`,
      );
      return c.redirect('/', 303);
    },
  };
}

/**
 * Dashboard access when DASHBOARD_TOKEN is set: every route but /health and the login page
 * needs `Authorization: Bearer <token>` or the login cookie. The cookie holds an HMAC of the
 * token (never the token), so a leaked cookie does not reveal it and it survives restarts.
 * Comparisons hash both sides to equal-length digests and use crypto.timingSafeEqual.
 */
import crypto from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
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

/** GET /login (the form) and POST /login (sets the cookie); only mounted when a token is set */
export function loginHandlers(token: string) {
  return {
    get: (c: Context) => c.html(page('')),
    post: async (c: Context) => {
      let given = '';
      try {
        const body = await c.req.parseBody();
        given = typeof body.token === 'string' ? body.token : '';
      } catch {
        /* a garbage body is a failed login */
      }
      if (!given || !safeEqual(given, token)) return c.html(page('That token is not right.'), 401);
      c.header(
        'set-cookie',
        `${AUTH_COOKIE}=${cookieValue(token)}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${30 * 86_400}`,
      );
      return c.redirect('/', 303);
    },
  };
}

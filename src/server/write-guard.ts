/**
 * The extra gate in front of write actions (steer, abort). Reads only show data; a write makes
 * an agent do something, so a page on another site must not be able to make the user's
 * browser send one (CSRF). The read auth (auth.ts) runs first and still applies.
 *
 * - `Sec-Fetch-Site` (sent by every current browser, not settable by page script): only
 *   `same-origin` and `none` pass. `none` is a user-initiated navigation (typed URL,
 *   bookmark), which can never be a POST a page put together.
 * - `Origin` (sent on every cross-origin POST): its host:port must be this request's Host. A
 *   reverse proxy in front must pass the Host through (nginx: `proxy_set_header Host $host`).
 * - Requests with neither header are not from a browser (curl, scripts) and pass: nothing
 *   ambient rides on them, so they carry the bearer token themselves where one is needed.
 * - Without DASHBOARD_TOKEN the Host must be a loopback name: a DNS-rebinding page
 *   (evil.example resolving to 127.0.0.1) is same-origin with itself, and only the Host it
 *   sends gives it away. With a token it has no cookie for this host and gets a 401.
 * - Listening off loopback without a token is refused outright (the config already refuses to
 *   start that way; this keeps it true for an app built some other way).
 */
import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { isLoopback } from '../config/config.js';
import type { Logger } from '../infra/logger.js';

export interface WriteGuardOptions {
  token: string | undefined;
  /** the address the server listens on (config.http.host) */
  listenHost: string;
  logger: Logger;
}

/** the peer address (node server); `unknown` for in-process requests (tests) */
export function clientIp(c: Context): string {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket?.remoteAddress ?? 'unknown';
}

/** the hostname of a Host header value (`name:port`, `[v6]:port`), lower case */
export function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.indexOf(':');
  return colon >= 0 && colon === h.lastIndexOf(':') ? h.slice(0, colon) : h;
}

/** why a write must be refused, or undefined when it may go on */
export function writeRefusal(c: Context, token: string | undefined, listenHost: string): string | undefined {
  if (!token && !isLoopback(listenHost)) {
    return 'write actions need DASHBOARD_TOKEN when the server listens off loopback';
  }
  const fetchSite = c.req.header('sec-fetch-site');
  if (fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none') {
    return 'cross-site request refused';
  }
  const host = c.req.header('host') ?? new URL(c.req.url).host;
  const origin = c.req.header('origin');
  if (origin !== undefined && !sameHost(origin, host)) return 'cross-site request refused';
  if (!token && !isLoopback(hostName(host))) {
    return 'write actions without DASHBOARD_TOKEN are only accepted on a loopback address (localhost, 127.0.0.1, [::1])';
  }
  return undefined;
}

function sameHost(origin: string, host: string): boolean {
  try {
    const o = new URL(origin); // `null` (sandboxed frames, file:) throws: refused
    // parse the Host with the origin's scheme so default ports drop out of both alike
    return o.host === new URL(`${o.protocol}//${host}`).host;
  } catch {
    return false;
  }
}

export function writeGuard(opts: WriteGuardOptions): MiddlewareHandler {
  return async (c, next) => {
    const refusal = writeRefusal(c, opts.token, opts.listenHost);
    if (!refusal) return next();
    opts.logger.warn(
      {
        path: c.req.path,
        ip: clientIp(c),
        reason: refusal,
        origin: c.req.header('origin'),
        secFetchSite: c.req.header('sec-fetch-site'),
      },
      'write action refused',
    );
    return c.json({ error: refusal }, 403);
  };
}

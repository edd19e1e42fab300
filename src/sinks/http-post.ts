/**
 * One HTTP POST to a fixed URL, for the lifecycle sinks (Loki, webhook). An undici Agent keeps
 * the connection alive between batches; every request has its own timeout on the injected
 * clock (so tests drive it) plus undici's own timeouts as a wall-clock backstop.
 *
 * Credentials in the URL (`https://user:pass@host/...`) become a Basic Authorization header:
 * fetch-style clients refuse such URLs, and the URL must be loggable. `target` is the URL
 * without them; nothing here logs.
 *
 * Every outcome other than a 2xx throws a DeliveryError carrying what the queue decides on:
 * the status (0 = no answer), the response text and, for 429/503, Retry-After.
 */
import { Agent } from 'undici';
import type { Clock } from '../infra/clock.js';

export class DeliveryError extends Error {
  constructor(
    /** HTTP status; 0 when no answer came (refused, reset, timeout) */
    public readonly status: number,
    message: string,
    /** the server's answer, clipped (4xx reasons go to the log) */
    public readonly responseText = '',
    /** Retry-After of a 429/503, in ms */
    public readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

export interface HttpPoster {
  /** the URL without userinfo: safe for logs and /health */
  readonly target: string;
  post(body: string | Buffer, headers: Record<string, string>, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

export interface HttpPosterOptions {
  url: string;
  clock: Clock;
  /** per request (default 10 s) */
  timeoutMs?: number;
  /** Basic auth; overrides userinfo in the URL */
  username?: string;
  password?: string;
  /** sent with every request (content type, user agent, tenant ...) */
  headers?: Record<string, string>;
}

const MAX_TEXT = 500;

export function createHttpPoster(opts: HttpPosterOptions): HttpPoster {
  const url = new URL(opts.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`unsupported URL scheme "${url.protocol}" (http or https)`);
  const user = opts.username ?? decodeURIComponent(url.username);
  const pass = opts.password ?? decodeURIComponent(url.password);
  url.username = '';
  url.password = '';
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const fixed: Record<string, string> = { ...opts.headers };
  if (user || pass) fixed.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  const agent = new Agent({
    connections: 2,
    keepAliveTimeout: 30_000,
    connect: { timeout: timeoutMs },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const path = url.pathname + url.search;

  return {
    target: url.toString(),
    async post(body, headers, signal) {
      const ac = new AbortController();
      const timer = opts.clock.setTimeout(
        () => ac.abort(new Error(`no answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onStop = () => ac.abort(signal?.reason ?? new Error('aborted'));
      signal?.addEventListener('abort', onStop, { once: true });
      if (signal?.aborted) onStop();
      try {
        let status: number;
        let text: string;
        let resHeaders: Record<string, string | string[] | undefined>;
        try {
          const res = await agent.request({
            origin: url.origin,
            path,
            method: 'POST',
            headers: { ...fixed, ...headers },
            body,
            signal: ac.signal,
          });
          status = res.statusCode;
          resHeaders = res.headers;
          text = await res.body.text();
        } catch (err) {
          const why = ac.signal.aborted
            ? String(ac.signal.reason?.message ?? ac.signal.reason)
            : errText(err);
          throw new DeliveryError(0, `POST ${url.toString()}: ${why}`);
        }
        if (status >= 200 && status < 300) return;
        const clipped = text.slice(0, MAX_TEXT);
        const ra =
          status === 429 || status === 503
            ? retryAfterMs(resHeaders['retry-after'], opts.clock.now())
            : undefined;
        throw new DeliveryError(
          status,
          `POST ${url.toString()}: ${status} ${clipped.split('\n')[0] ?? ''}`.trim(),
          clipped,
          ra,
        );
      } finally {
        opts.clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onStop);
      }
    },
    async close() {
      await agent.close().catch(() => agent.destroy().catch(() => undefined));
    },
  };
}

/** Retry-After is either delay-seconds or an HTTP-date (RFC 9110 §10.2.3). */
export function retryAfterMs(value: string | string[] | undefined, now: number): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

function errText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: string }).code;
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${code ? `${code} ` : ''}${err.message}${cause}`;
}

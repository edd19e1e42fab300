/**
 * A small Mattermost REST v4 client: an undici Pool (keep-alive, 4 connections) to MM_URL,
 * Bearer auth, bodies sent with `Content-Type: application/json` exactly, and every failure
 * turned into a typed MattermostError carrying what the caller decides on: the HTTP status,
 * the Mattermost error id (from the AppError body), the request id and, for a 429, how long
 * to wait (Retry-After, else X-Ratelimit-Reset, both relative seconds).
 *
 * No retries here: retry, pacing and the breaker are the box layer's job.
 */
import { Agent, Pool } from 'undici';

export class MattermostError extends Error {
  constructor(
    /** HTTP status; 0 when no answer came (connection refused, reset, timeout) */
    public readonly status: number,
    /** Mattermost error id, e.g. model.post.is_valid.message_length.app_error ('' when unknown) */
    public readonly id: string,
    message: string,
    /** for 429/503: how long the server asks us to wait */
    public readonly retryAfterMs?: number,
    public readonly requestId?: string,
    public readonly method?: string,
    public readonly path?: string,
  ) {
    super(message);
    this.name = 'MattermostError';
  }
  /** the server is failing or unreachable (counts for the circuit breaker) */
  get isServerFailure(): boolean {
    return this.status === 0 || this.status >= 500;
  }
}

export interface MmPost {
  id: string;
  channel_id: string;
  root_id: string;
  user_id?: string;
  /** set on the edit-history rows a `since` listing also returns */
  original_id?: string;
  create_at?: number;
  update_at?: number;
  message: string;
  type: string;
  props: Record<string, unknown>;
  edit_at: number;
  delete_at: number;
  pending_post_id?: string;
}

export interface MmUser {
  id: string;
  username: string;
  is_bot?: boolean;
}

export interface CreatePostBody {
  channel_id: string;
  message: string;
  root_id?: string;
  type?: string;
  props?: Record<string, unknown>;
  pending_post_id?: string;
}

export interface PostPatch {
  message?: string;
  props?: Record<string, unknown>;
}

export interface MattermostClient {
  readonly baseUrl: string;
  getMe(): Promise<MmUser>;
  /** MaxPostSize from the client config, or undefined when the server does not say */
  getMaxPostSize(): Promise<number | undefined>;
  createPost(body: CreatePostBody): Promise<MmPost>;
  patchPost(id: string, patch: PostPatch): Promise<MmPost>;
  getPost(id: string): Promise<MmPost>;
  /**
   * `GET /channels/{id}/posts?since=`: every post of the channel (thread replies included)
   * modified after `since` (ms), at most 1000, as the server lists them (`order` of a PostList)
   */
  getChannelPostsSince(channelId: string, since: number): Promise<MmPost[]>;
  /** ids of the enabled webapp plugins */
  getWebappPluginIds(): Promise<string[]>;
  /** GET of an arbitrary URL (PLUGIN_URL) with extra headers; returns status and parsed JSON if any */
  probe(url: string, headers: Record<string, string>): Promise<{ status: number; json: unknown }>;
  stats(): ClientStats;
  close(): Promise<void>;
}

export interface ClientStats {
  requests: number;
  failures: number;
  byStatus: Record<string, number>;
  /** the last failed request (429s included) and when */
  lastError?: string;
  lastErrorAt?: number;
  lastSuccessAt?: number;
  /** the last request failed (cleared by the next success) */
  failing: boolean;
}

export interface ClientOptions {
  url: string;
  token: string;
  connections?: number;
  timeoutMs?: number;
  /** clock for lastErrorAt / lastSuccessAt (default Date.now) */
  now?: () => number;
}

export function createMattermostClient(opts: ClientOptions): MattermostClient {
  const base = new URL(opts.url);
  const prefix = base.pathname.replace(/\/+$/, '');
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const pool = new Pool(base.origin, {
    connections: opts.connections ?? 4,
    keepAliveTimeout: 30_000,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  let agent: Agent | undefined;
  const now = opts.now ?? Date.now;
  const counters = { requests: 0, failures: 0, byStatus: {} as Record<string, number> };
  const last: { error?: string; errorAt?: number; okAt?: number; failing: boolean } = { failing: false };

  function failed(err: MattermostError): MattermostError {
    last.error = err.message;
    last.errorAt = now();
    last.failing = true;
    return err;
  }

  async function call<T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<T> {
    try {
      const r = await request<T>(method, path, body);
      last.okAt = now();
      last.failing = false;
      return r;
    } catch (err) {
      throw err instanceof MattermostError ? failed(err) : err;
    }
  }

  async function request<T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<T> {
    counters.requests++;
    const headers: Record<string, string> = {
      authorization: `Bearer ${opts.token}`,
      accept: 'application/json',
    };
    let payload: string | undefined;
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    let res: Awaited<ReturnType<Pool['request']>>;
    try {
      res = await pool.request({ method, path: prefix + path, headers, body: payload });
    } catch (err) {
      counters.failures++;
      counters.byStatus['0'] = (counters.byStatus['0'] ?? 0) + 1;
      const msg = err instanceof Error ? err.message : String(err);
      throw new MattermostError(
        0,
        'network',
        `${method} ${path}: ${msg}`,
        undefined,
        undefined,
        method,
        path,
      );
    }
    const status = res.statusCode;
    counters.byStatus[String(status)] = (counters.byStatus[String(status)] ?? 0) + 1;
    let text: string;
    try {
      text = await res.body.text();
    } catch (err) {
      counters.failures++;
      throw new MattermostError(
        0,
        'network',
        `${method} ${path}: body read failed: ${String(err)}`,
        undefined,
        undefined,
        method,
        path,
      );
    }
    const requestId = header(res.headers, 'x-request-id');
    if (status >= 200 && status < 300) {
      try {
        return JSON.parse(text) as T;
      } catch {
        counters.failures++;
        throw new MattermostError(
          status,
          'bad_json',
          `${method} ${path}: answer is not JSON`,
          undefined,
          requestId,
          method,
          path,
        );
      }
    }
    counters.failures++;
    throw toError(status, text, res.headers, method, path, requestId);
  }

  return {
    baseUrl: base.origin + prefix,
    getMe: () => call<MmUser>('GET', '/api/v4/users/me'),
    async getMaxPostSize() {
      const cfg = await call<Record<string, unknown>>('GET', '/api/v4/config/client?format=old');
      const n = Number(cfg.MaxPostSize);
      return Number.isFinite(n) && n > 0 ? n : undefined;
    },
    createPost: (body) => call<MmPost>('POST', '/api/v4/posts', body),
    patchPost: (id, patch) => call<MmPost>('PUT', `/api/v4/posts/${encodeURIComponent(id)}/patch`, patch),
    getPost: (id) => call<MmPost>('GET', `/api/v4/posts/${encodeURIComponent(id)}`),
    async getChannelPostsSince(channelId, since) {
      const list = await call<{ order?: unknown; posts?: Record<string, MmPost> }>(
        'GET',
        `/api/v4/channels/${encodeURIComponent(channelId)}/posts?since=${Math.max(1, Math.floor(since))}`,
      );
      const posts = list.posts && typeof list.posts === 'object' ? list.posts : {};
      const order = Array.isArray(list.order) ? list.order : Object.keys(posts);
      return order.map((id) => posts[String(id)]).filter((p): p is MmPost => Boolean(p?.id));
    },
    async getWebappPluginIds() {
      const list = await call<unknown>('GET', '/api/v4/plugins/webapp');
      if (!Array.isArray(list)) return [];
      return list
        .map((m) => (m && typeof m === 'object' ? String((m as { id?: unknown }).id ?? '') : ''))
        .filter(Boolean);
    },
    async probe(url, extra) {
      counters.requests++;
      agent ??= new Agent({
        connections: 1,
        keepAliveTimeout: 30_000,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      try {
        const res = await agent.request({
          origin: new URL(url).origin,
          path: new URL(url).pathname + new URL(url).search,
          method: 'GET',
          headers: extra,
        });
        const text = await res.body.text();
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        if (res.statusCode >= 400) counters.failures++;
        return { status: res.statusCode, json };
      } catch (err) {
        counters.failures++;
        throw new MattermostError(
          0,
          'network',
          `GET ${url}: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    },
    stats: () => ({
      requests: counters.requests,
      failures: counters.failures,
      byStatus: { ...counters.byStatus },
      ...(last.error !== undefined ? { lastError: last.error, lastErrorAt: last.errorAt } : {}),
      ...(last.okAt !== undefined ? { lastSuccessAt: last.okAt } : {}),
      failing: last.failing,
    }),
    async close() {
      await Promise.allSettled([pool.close(), agent?.close()]);
    },
  };
}

function header(h: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Builds the typed error from an AppError body, or from the 429 plain-text body + headers. */
export function toError(
  status: number,
  text: string,
  headers: Record<string, string | string[] | undefined>,
  method?: string,
  path?: string,
  requestId?: string,
): MattermostError {
  let id = '';
  let message = '';
  let reqId = requestId;
  try {
    const j = JSON.parse(text) as Record<string, unknown>;
    if (j && typeof j === 'object') {
      id = typeof j.id === 'string' ? j.id : '';
      message = typeof j.message === 'string' ? j.message : '';
      if (typeof j.request_id === 'string' && j.request_id) reqId = j.request_id;
    }
  } catch {
    // 429 "limit exceeded", a proxy's HTML page: keep the first line as the message
    message = text.split('\n')[0]?.slice(0, 200) ?? '';
  }
  let retryAfterMs: number | undefined;
  if (status === 429 || status === 503) {
    const ra = Number(header(headers, 'retry-after'));
    const reset = Number(header(headers, 'x-ratelimit-reset'));
    // both are relative seconds on Mattermost (X-Ratelimit-Reset is not an epoch)
    if (Number.isFinite(ra) && ra >= 0 && header(headers, 'retry-after') !== undefined)
      retryAfterMs = ra * 1000;
    else if (Number.isFinite(reset) && reset >= 0 && header(headers, 'x-ratelimit-reset') !== undefined)
      retryAfterMs = reset * 1000;
    else if (status === 429) retryAfterMs = 1000;
  }
  const what = method && path ? `${method} ${path}: ` : '';
  return new MattermostError(
    status,
    id || (status === 429 ? 'rate_limited' : ''),
    `${what}${status} ${id || ''} ${message}`.trim(),
    retryAfterMs,
    reqId,
    method,
    path,
  );
}

/**
 * A strict fake Mattermost server for tests and benchmarks: a real HTTP server on
 * 127.0.0.1:0 that answers the few API v4 routes clawpulse uses the way the real server does
 * (shared/research/mattermost.md): Bearer auth and 401 bodies, the AppError body shape,
 * X-Request-Id, `Content-Type: application/json` exactly, 403 for edits of missing posts,
 * 400 for over-long messages counted in runes, 429 with its plain-text body and
 * X-Ratelimit-* / Retry-After headers, the edit_at rules and pending_post_id dedupe (a field
 * the server does not store: reads answer it empty), and the channel post list (`since`).
 *
 * Stricter than the real server in one place on purpose: a request body whose Content-Type
 * is not exactly `application/json` is refused (400), so our client can never drift.
 *
 * Fault injection: fail the next N requests (500 or a dropped connection), rate-limit the
 * next N, slow every response, delete a post as a user would. Every request is logged.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError, asStored, type FakePost, isObject, newId, type PostList, PostStore } from './posts.js';
import { parseSearchBody, searchPosts } from './search.js';

/** the team every channel belongs to unless addChannel names another */
export const FAKE_TEAM_ID = 'faketeamaaaaaaaaaaaaaaaaaa';

export interface FakeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
  /** 0 while being answered, -1 when the connection was dropped on purpose */
  status: number;
  /** Date.now() when the request arrived */
  at: number;
}

export interface FakeMattermostOptions {
  token?: string;
  isBot?: boolean;
  /** published as MaxPostSize and enforced (runes); default 16383 (the stock column) */
  maxPostSize?: number;
  /** publish a different MaxPostSize than the one enforced (a changed column, a proxy) */
  publishedMaxPostSize?: number;
  /** channel ids that exist; more via addChannel */
  channels?: string[];
  /** enabled webapp plugins, as GET /api/v4/plugins/webapp lists them */
  webappPlugins?: string[];
  /** token-bucket limiter like the server's (off by default, like the server's) */
  rateLimit?: { perSec: number; maxBurst: number };
  /**
   * how long a pending_post_id dedupes a create (the server: 30 s). A test shortens it to
   * stand for a client that comes back later than that (a restart after a long outage).
   */
  pendingPostTtlMs?: number;
  now?: () => number;
}

export interface FakeMattermost {
  url: string;
  token: string;
  userId: string;
  store: PostStore;
  log: FakeRequest[];
  /** ids of channels that exist */
  channels: Set<string>;
  webappPlugins: Set<string>;
  /**
   * adds a channel; by default in FAKE_TEAM_ID with the token's user a member. `member: false`
   * makes a channel the user cannot read or post to (others post there with postAs).
   */
  addChannel(id?: string, o?: { teamId?: string; member?: boolean }): string;
  /** channel id → team id, for every channel added with a team (default FAKE_TEAM_ID) */
  channelTeams: Map<string, string>;
  /** another user posts (no membership check for them): how non-member channels get posts */
  postAs(userId: string, body: Record<string, unknown>): FakePost;
  failNext(n: number, mode?: 500 | 502 | 503 | 504 | 'drop'): void;
  rateLimitNext(n: number, retryAfterS?: number): void;
  /** processes the next N requests but drops the connection instead of answering */
  loseAnswerNext(n: number): void;
  /** delays every response by ms (real time) */
  slow(ms: number): void;
  /**
   * Mattermost goes down until restore(): every request answered 503 (a proxy in front of a
   * dead server), every connection dropped, or the port closed (connections refused).
   */
  outage(mode: 503 | 'drop' | 'refuse'): void;
  /** ends an outage (re-opens the same port after 'refuse') */
  restore(): Promise<void>;
  /** a user deletes a post (soft delete, as DELETE does) */
  deletePost(id: string): void;
  post(id: string): FakePost | undefined;
  /** live (not deleted) posts, oldest first */
  livePosts(): FakePost[];
  requests(method?: string, pathPrefix?: string): FakeRequest[];
  close(): Promise<void>;
}

const JSON_TYPE = 'application/json';

export async function startFakeMattermost(opts: FakeMattermostOptions = {}): Promise<FakeMattermost> {
  const now = opts.now ?? Date.now;
  const token = opts.token ?? 'test-token-0123456789';
  const userId = newId();
  const maxPostSize = opts.maxPostSize ?? 16383;
  const store = new PostStore({ maxPostSize, now, pendingTtlMs: opts.pendingPostTtlMs });
  const channels = new Set(opts.channels ?? []);
  const channelTeams = new Map<string, string>((opts.channels ?? []).map((c) => [c, FAKE_TEAM_ID]));
  const webappPlugins = new Set(opts.webappPlugins ?? []);
  const log: FakeRequest[] = [];
  const faults = {
    lose: 0,
    fail: 0,
    failMode: 500 as 500 | 502 | 503 | 504 | 'drop',
    limit: 0,
    retryAfterS: 1,
    slowMs: 0,
    outage: undefined as 503 | 'drop' | undefined,
  };
  const bucket = opts.rateLimit ? { tokens: opts.rateLimit.maxBurst, at: now() } : undefined;

  function send(res: ServerResponse, status: number, body: unknown, reqId: string, method: string): number {
    if (faults.lose > 0) {
      // the request was processed but the answer never reaches the client
      faults.lose--;
      res.socket?.destroy();
      return -1;
    }
    const headers: Record<string, string> = {
      'Content-Type': JSON_TYPE,
      'X-Request-Id': reqId,
      'X-Version-Id': '10.5.0.1.fakehash.false',
    };
    if (method === 'GET') headers.Expires = '0';
    res.writeHead(status, headers);
    res.end(JSON.stringify(body));
    return status;
  }

  function sendError(res: ServerResponse, err: AppError, reqId: string, method: string): number {
    return send(
      res,
      err.status,
      { id: err.id, message: err.message, detailed_error: '', request_id: reqId, status_code: err.status },
      reqId,
      method,
    );
  }

  function tooMany(res: ServerResponse, retryAfterS: number, reqId: string): number {
    // written by the limiter before any handler: plain text, not an AppError
    res.writeHead(429, {
      'Content-Type': 'text/plain; charset=utf-8',
      'X-Content-Type-Options': 'nosniff',
      'X-Ratelimit-Limit': String((opts.rateLimit?.maxBurst ?? 100) + 1),
      'X-Ratelimit-Remaining': '0',
      'X-Ratelimit-Reset': String(retryAfterS),
      'Retry-After': String(retryAfterS),
      'X-Request-Id': reqId,
    });
    res.end('limit exceeded\n');
    return 429;
  }

  function limited(): number | undefined {
    if (!bucket || !opts.rateLimit) return undefined;
    const t = now();
    bucket.tokens = Math.min(
      opts.rateLimit.maxBurst,
      bucket.tokens + ((t - bucket.at) / 1000) * opts.rateLimit.perSec,
    );
    bucket.at = t;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / opts.rateLimit.perSec));
  }

  function authOk(req: IncomingMessage, query: Record<string, string>): boolean {
    const h = req.headers.authorization ?? '';
    const m = /^(bearer|token)\s+(.+)$/i.exec(h);
    const given = m?.[2] ?? query.access_token;
    return given === token;
  }

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  async function route(
    req: IncomingMessage,
    res: ServerResponse,
    entry: FakeRequest,
    reqId: string,
  ): Promise<number> {
    const { method, path, query } = entry;
    const raw = await readBody(req);
    const isCreate = method === 'POST' && path === '/api/v4/posts';
    if (raw) {
      try {
        entry.body = JSON.parse(raw); // logged even when a fault answers the request
      } catch {
        // refused below
      }
    }
    const delay = async () => {
      if (faults.slowMs) await new Promise((r) => setTimeout(r, faults.slowMs));
    };
    if (!isCreate) await delay();
    if (faults.outage === 'drop') {
      req.socket.destroy();
      return -1;
    }
    if (faults.outage === 503)
      throw new AppError(503, 'app.fake.outage.app_error', 'Service unavailable (injected outage).');
    if (faults.limit > 0) {
      faults.limit--;
      return tooMany(res, faults.retryAfterS, reqId);
    }
    const wait = limited();
    if (wait !== undefined) return tooMany(res, wait, reqId);
    if (faults.fail > 0) {
      faults.fail--;
      if (faults.failMode === 'drop') {
        req.socket.destroy();
        return -1;
      }
      throw new AppError(faults.failMode, 'app.fake.injected_failure.app_error', 'Injected failure.');
    }
    if (!path.startsWith('/api/v4/'))
      throw new AppError(404, 'api.context.404.app_error', 'Sorry, we could not find the page.');
    if (!authOk(req, query))
      throw new AppError(
        401,
        'api.context.session_expired.app_error',
        'Invalid or expired session, please login again.',
      );

    let body: unknown;
    if (method === 'POST' || method === 'PUT') {
      if (req.headers['content-type'] !== JSON_TYPE)
        throw new AppError(
          400,
          'api.context.invalid_body_param.app_error',
          `Content-Type must be exactly ${JSON_TYPE} (fake-only strictness), got ${String(req.headers['content-type'])}.`,
        );
      try {
        body = JSON.parse(raw);
      } catch {
        throw new AppError(
          400,
          'api.context.invalid_body_param.app_error',
          'Invalid or missing post in request body.',
        );
      }
      entry.body = body;
      if (!isObject(body))
        throw new AppError(
          400,
          'api.context.invalid_body_param.app_error',
          'Invalid or missing post in request body.',
        );
    }
    const b = (body ?? {}) as Record<string, unknown>;
    const seg = path.slice('/api/v4/'.length).split('/');

    if (method === 'GET' && path === '/api/v4/users/me')
      return send(
        res,
        200,
        {
          id: userId,
          username: 'clawpulse-bot',
          is_bot: opts.isBot ?? true,
          roles: 'system_user',
          delete_at: 0,
        },
        reqId,
        method,
      );
    if (method === 'GET' && path === '/api/v4/config/client') {
      if (query.format !== 'old')
        throw new AppError(
          501,
          'api.config.client.old_format.app_error',
          'New format for the client configuration is not supported yet.',
        );
      return send(
        res,
        200,
        {
          Version: '10.5.0',
          BuildNumber: '1',
          MaxPostSize: String(opts.publishedMaxPostSize ?? maxPostSize),
          SiteName: 'Fake',
        },
        reqId,
        method,
      );
    }
    if (method === 'GET' && path === '/api/v4/plugins/webapp')
      return send(
        res,
        200,
        [...webappPlugins].map((id) => ({
          id,
          version: '0.1.0',
          webapp: { bundle_path: `/static/${id}/${id}_bundle.js` },
        })),
        reqId,
        method,
      );
    if (method === 'GET' && seg[0] === 'channels' && seg.length === 3 && seg[2] === 'posts') {
      // read_channel on a channel that does not exist (or is not visible) fails the permission check
      if (!channels.has(seg[1] as string))
        throw new AppError(
          403,
          'api.context.permissions.app_error',
          'You do not have the appropriate permissions.',
        );
      const since = Number(query.since ?? 0);
      let list: PostList;
      if (query.since !== undefined && Number.isFinite(since) && since > 0)
        list = store.listSince(seg[1] as string, since);
      else {
        const page = Math.max(0, Number(query.page ?? 0) || 0);
        const perPage = Math.min(200, Math.max(1, Number(query.per_page ?? 60) || 60));
        list = store.listPage(seg[1] as string, page, perPage);
      }
      const posts = Object.fromEntries(Object.entries(list.posts).map(([id, p]) => [id, asStored(p)]));
      return send(res, 200, { ...list, posts }, reqId, method);
    }
    // POST /teams/{team_id}/posts/search and POST /posts/search (every team of the user)
    const teamSearch = method === 'POST' && seg[0] === 'teams' && seg.length === 4 && seg[2] === 'posts';
    if ((teamSearch && seg[3] === 'search') || (method === 'POST' && path === '/api/v4/posts/search')) {
      const teamId = teamSearch ? (seg[1] as string) : undefined;
      if (teamId !== undefined && teamId !== FAKE_TEAM_ID && ![...channelTeams.values()].includes(teamId))
        throw new AppError(
          403,
          'api.context.permissions.app_error',
          'You do not have the appropriate permissions.',
        );
      const search = parseSearchBody(b);
      const readable = (c: string) =>
        channels.has(c) && (teamId === undefined || (channelTeams.get(c) ?? FAKE_TEAM_ID) === teamId);
      return send(res, 200, searchPosts(store.posts.values(), readable, search), reqId, method);
    }
    if (method === 'GET' && seg[0] === 'channels' && seg.length === 2) {
      if (!channels.has(seg[1] as string))
        throw new AppError(404, 'app.channel.get.existing.app_error', 'Unable to find the existing channel.');
      return send(
        res,
        200,
        { id: seg[1], type: 'O', name: seg[1], display_name: 'Fake channel', delete_at: 0 },
        reqId,
        method,
      );
    }
    if (isCreate) {
      if (typeof b.channel_id !== 'string' || !b.channel_id)
        throw new AppError(400, 'api.context.invalid_param.app_error', 'Invalid post.channel_id parameter.');
      if (!channels.has(b.channel_id))
        throw new AppError(
          403,
          'api.context.permissions.app_error',
          'You do not have the appropriate permissions.',
        );
      const pendingId = typeof b.pending_post_id === 'string' ? b.pending_post_id : '';
      const existing = store.beginCreate(pendingId);
      // the server reads the earlier post back from its store
      if (existing) return send(res, 201, asStored(existing), reqId, method);
      try {
        // a slow create stays "in flight" in the pending cache, so a concurrent retry gets the 500
        await delay();
        return send(res, 201, store.create(b, userId, opts.isBot ?? true), reqId, method);
      } catch (err) {
        store.abortCreate(pendingId);
        throw err;
      }
    }
    if (seg[0] === 'posts' && seg[1]) {
      const id = seg[1];
      if (method === 'GET' && seg.length === 2) return send(res, 200, asStored(store.get(id)), reqId, method);
      if (method === 'PUT' && seg.length === 2)
        return send(res, 200, asStored(store.update(id, b)), reqId, method);
      if (method === 'PUT' && seg.length === 3 && seg[2] === 'patch')
        return send(res, 200, asStored(store.patch(id, b)), reqId, method);
      if (method === 'DELETE' && seg.length === 2) {
        store.delete(id, userId);
        return send(res, 200, { status: 'OK' }, reqId, method);
      }
    }
    throw new AppError(404, 'api.context.404.app_error', 'Sorry, we could not find the page.');
  }

  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    const entry: FakeRequest = {
      method: req.method ?? 'GET',
      path: u.pathname,
      query: Object.fromEntries(u.searchParams),
      headers: { ...req.headers },
      status: 0,
      at: Date.now(),
    };
    log.push(entry);
    const reqId = newId();
    route(req, res, entry, reqId)
      .then((status) => {
        entry.status = status;
      })
      .catch((err: unknown) => {
        const e =
          err instanceof AppError ? err : new AppError(500, 'app.fake.internal.app_error', String(err));
        entry.status = sendError(res, e, reqId, entry.method);
      });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  let refusing = false;

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    userId,
    store,
    log,
    channels,
    channelTeams,
    webappPlugins,
    addChannel(id = newId(), o = {}) {
      if (o.member !== false) channels.add(id);
      channelTeams.set(id, o.teamId ?? FAKE_TEAM_ID);
      return id;
    },
    postAs(otherUserId, body) {
      if (typeof body.channel_id !== 'string' || !channelTeams.has(body.channel_id))
        throw new Error(`postAs: unknown channel ${String(body.channel_id)}`);
      return store.create(body, otherUserId, false);
    },
    failNext(n, mode = 500) {
      faults.fail = n;
      faults.failMode = mode;
    },
    rateLimitNext(n, retryAfterS = 1) {
      faults.limit = n;
      faults.retryAfterS = retryAfterS;
    },
    loseAnswerNext(n) {
      faults.lose = n;
    },
    slow(ms) {
      faults.slowMs = ms;
    },
    outage(mode) {
      if (mode === 'refuse') {
        faults.outage = undefined;
        if (refusing) return;
        refusing = true;
        server.close();
        server.closeAllConnections();
        return;
      }
      faults.outage = mode;
    },
    async restore() {
      faults.outage = undefined;
      if (!refusing) return;
      refusing = false;
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    },
    deletePost(id) {
      store.delete(id, userId);
    },
    post: (id) => store.posts.get(id),
    livePosts: () => [...store.posts.values()].filter((p) => !p.delete_at),
    requests: (method, prefix) =>
      log.filter((r) => (!method || r.method === method) && (!prefix || r.path.startsWith(prefix))),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        if (refusing) resolve();
        else server.close(() => resolve());
      }),
  };
}

/**
 * The post rules of the fake Mattermost, as the research note (shared/research/mattermost.md
 * §1.4–1.11) reads them from the server code: validation order, rune-counted length, the
 * edit_at rule (only a message / attachments change bumps it), PUT replaces vs patch merges
 * (but patch `props` replaces the whole map), history rows, soft delete, pending_post_id.
 */

export interface FakePost {
  id: string;
  create_at: number;
  update_at: number;
  edit_at: number;
  delete_at: number;
  is_pinned: boolean;
  user_id: string;
  channel_id: string;
  root_id: string;
  original_id: string;
  message: string;
  type: string;
  props: Record<string, unknown>;
  hashtags: string;
  file_ids: string[];
  pending_post_id: string;
  reply_count: number;
  last_reply_at: number;
  participants: null;
  metadata: Record<string, unknown>;
}

export interface PostList {
  order: string[];
  posts: Record<string, FakePost>;
  next_post_id: string;
  prev_post_id: string;
  has_next: boolean;
}

/**
 * A post as a read answers it: `pending_post_id` is not a column of the Posts table (the model
 * field is `db:"-"`), so only the create's own answer carries it.
 */
export const asStored = (p: FakePost): FakePost => ({ ...p, pending_post_id: '' });

export class AppError extends Error {
  constructor(
    public readonly status: number,
    public readonly id: string,
    message: string,
  ) {
    super(message);
  }
}

export const POST_PROPS_MAX_RUNES = 800_000;
const ID_ALPHABET = 'ybndrfg8ejkmcpqxot1uwisza345h769';

export function newId(): string {
  let s = '';
  for (let i = 0; i < 26; i++) s += ID_ALPHABET[Math.floor(Math.random() * 32)];
  return s;
}

export const isValidId = (s: unknown): s is string =>
  typeof s === 'string' && s.length === 26 && /^[a-z0-9]+$/.test(s);
export const runes = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

const permissions = () =>
  new AppError(403, 'api.context.permissions.app_error', 'You do not have the appropriate permissions.');

export interface PostStoreOptions {
  maxPostSize: number;
  now: () => number;
  /** pending_post_id dedupe window (default PENDING_TTL_MS, the server's 30 s) */
  pendingTtlMs?: number;
}

/** posts, their edit history rows, and the pending_post_id cache */
export class PostStore {
  readonly posts = new Map<string, FakePost>();
  /** soft-deleted old versions, one per edit (original_id = the post id) */
  readonly history: FakePost[] = [];
  private pending = new Map<string, { at: number; postId?: string }>();
  static readonly PENDING_TTL_MS = 30_000;

  constructor(private readonly opts: PostStoreOptions) {}

  validate(p: FakePost): void {
    if (p.root_id && !isValidId(p.root_id))
      throw new AppError(400, 'model.post.is_valid.root_id.app_error', 'Invalid root id.');
    if (runes(p.message) > this.opts.maxPostSize)
      throw new AppError(
        400,
        'model.post.is_valid.message_length.app_error',
        `Invalid Message property length. Length: ${runes(p.message)}, MaxLength: ${this.opts.maxPostSize}`,
      );
    if (p.type && !p.type.startsWith('custom_') && p.type !== 'slack_attachment')
      throw new AppError(400, 'model.post.is_valid.type.app_error', 'Invalid type.');
    if (runes(JSON.stringify(p.props)) > POST_PROPS_MAX_RUNES)
      throw new AppError(400, 'model.post.is_valid.props.app_error', 'Invalid props.');
  }

  /** the pending_post_id check before a create: an existing post, a 500 while in flight, or nothing */
  beginCreate(pendingId: string): FakePost | undefined {
    if (!pendingId) return undefined;
    const now = this.opts.now();
    const hit = this.pending.get(pendingId);
    if (hit && now - hit.at < (this.opts.pendingTtlMs ?? PostStore.PENDING_TTL_MS)) {
      if (!hit.postId)
        throw new AppError(
          500,
          'api.post.deduplicate_create_post.pending',
          'Post rejected as a duplicate: the first request is still being processed.',
        );
      const existing = this.posts.get(hit.postId);
      if (existing) return existing;
    }
    this.pending.set(pendingId, { at: now });
    return undefined;
  }

  /** whether a create with this pending_post_id has begun and not finished (for tests) */
  inFlight(pendingId: string): boolean {
    const hit = this.pending.get(pendingId);
    return hit !== undefined && !hit.postId;
  }

  /** on error the cache entry is removed, so a retry proceeds (as the server does) */
  abortCreate(pendingId: string): void {
    if (pendingId) this.pending.delete(pendingId);
  }

  create(body: Record<string, unknown>, userId: string, isBot: boolean): FakePost {
    const type = typeof body.type === 'string' ? body.type : '';
    if (type.startsWith('system_'))
      throw new AppError(400, 'api.context.invalid_param.app_error', 'Invalid post.type parameter.');
    const rootId = typeof body.root_id === 'string' ? body.root_id : '';
    if (rootId) {
      const root = this.posts.get(rootId);
      if (!root || root.delete_at || root.channel_id !== body.channel_id)
        throw new AppError(
          400,
          'api.post.create_post.channel_root_id.app_error',
          'Invalid ChannelId for RootId parameter.',
        );
      if (root.root_id)
        throw new AppError(400, 'api.post.create_post.root_id.app_error', 'Invalid RootId parameter.');
    }
    const props = isObject(body.props) ? { ...body.props } : {};
    delete props.add_channel_member;
    delete props.force_notification;
    if (isBot) props.from_bot = 'true';
    const now = this.opts.now();
    const post: FakePost = {
      id: newId(),
      create_at: now,
      update_at: now,
      edit_at: 0,
      delete_at: 0,
      is_pinned: false,
      user_id: userId,
      channel_id: String(body.channel_id),
      root_id: rootId,
      original_id: '',
      message: typeof body.message === 'string' ? body.message : '',
      type,
      props,
      hashtags: '',
      file_ids: Array.isArray(body.file_ids) ? (body.file_ids as string[]) : [],
      pending_post_id: typeof body.pending_post_id === 'string' ? body.pending_post_id : '',
      reply_count: 0,
      last_reply_at: 0,
      participants: null,
      metadata: {},
    };
    this.validate(post);
    this.posts.set(post.id, post);
    if (post.pending_post_id) this.pending.set(post.pending_post_id, { at: now, postId: post.id });
    return post;
  }

  get(id: string): FakePost {
    const p = this.posts.get(id);
    if (!p || p.delete_at) throw new AppError(404, 'app.post.get.app_error', 'Unable to get the post.');
    return p;
  }

  /**
   * `GET /channels/{id}/posts?since=` as the server's store answers it without collapsed
   * threads: every row of the channel updated after `since` (edit-history rows and deleted
   * posts included), at most 1000, newest first, plus the thread roots of those rows in
   * `posts` only.
   */
  listSince(channelId: string, since: number): PostList {
    const rows = [...this.posts.values(), ...this.history]
      .filter((p) => p.channel_id === channelId && p.update_at > since)
      .slice(0, 1000)
      .sort((a, b) => b.create_at - a.create_at);
    const list: PostList = {
      order: rows.map((p) => p.id),
      posts: {},
      next_post_id: '',
      prev_post_id: '',
      has_next: false,
    };
    for (const p of rows) {
      list.posts[p.id] = p;
      const root = p.root_id ? this.posts.get(p.root_id) : undefined;
      if (root) list.posts[root.id] = root;
    }
    return list;
  }

  /** `GET /channels/{id}/posts?page=&per_page=`: live posts, newest first */
  listPage(channelId: string, page: number, perPage: number): PostList {
    const rows = [...this.posts.values()]
      .filter((p) => p.channel_id === channelId && !p.delete_at)
      .sort((a, b) => b.create_at - a.create_at);
    const slice = rows.slice(page * perPage, (page + 1) * perPage);
    const list: PostList = {
      order: slice.map((p) => p.id),
      posts: {},
      next_post_id: '',
      prev_post_id: '',
      has_next: rows.length > (page + 1) * perPage,
    };
    for (const p of slice) list.posts[p.id] = p;
    return list;
  }

  /** editing a missing or deleted post is a permission error (403), not 404 */
  private editable(id: string): FakePost {
    const p = this.posts.get(id);
    if (!p || p.delete_at) throw permissions();
    return p;
  }

  /** PUT /posts/{id}: message, is_pinned, has_reactions and the whole props map come from the body */
  update(id: string, body: Record<string, unknown>): FakePost {
    if (body.id !== id)
      throw new AppError(
        400,
        'api.context.invalid_body_param.app_error',
        'Invalid or missing id in request body.',
      );
    const old = this.editable(id);
    const next: FakePost = { ...old };
    const message = typeof body.message === 'string' ? body.message : '';
    next.is_pinned = body.is_pinned === true;
    next.props = isObject(body.props) ? { ...body.props } : {};
    return this.commit(
      old,
      next,
      message,
      Array.isArray(body.file_ids) ? (body.file_ids as string[]) : undefined,
    );
  }

  /** PUT /posts/{id}/patch: only present (non-null) fields change; props replaces the whole map */
  patch(id: string, body: Record<string, unknown>): FakePost {
    const old = this.editable(id);
    const next: FakePost = { ...old };
    if (typeof body.is_pinned === 'boolean') next.is_pinned = body.is_pinned;
    if (isObject(body.props)) next.props = { ...body.props };
    const message = typeof body.message === 'string' ? body.message : old.message;
    return this.commit(
      old,
      next,
      message,
      Array.isArray(body.file_ids) ? (body.file_ids as string[]) : undefined,
    );
  }

  private commit(old: FakePost, next: FakePost, message: string, fileIds: string[] | undefined): FakePost {
    const now = this.opts.now();
    let edited = false;
    if (message !== old.message) {
      next.message = message;
      edited = true;
    }
    if (fileIds && JSON.stringify(fileIds) !== JSON.stringify(old.file_ids)) {
      next.file_ids = fileIds;
      edited = true;
    }
    if (JSON.stringify(old.props.attachments ?? null) !== JSON.stringify(next.props.attachments ?? null))
      edited = true;
    if (edited) next.edit_at = now;
    next.update_at = now;
    this.validate(next);
    // the store's Update: the old version gets a new id, and delete_at = update_at = now
    this.history.push({ ...old, id: newId(), original_id: old.id, delete_at: now, update_at: now });
    this.posts.set(old.id, next);
    return next;
  }

  delete(id: string, userId: string): void {
    const p = this.get(id);
    const now = this.opts.now();
    for (const q of this.posts.values()) {
      if (q.id === id || q.root_id === id) {
        q.delete_at = now;
        q.update_at = now;
        q.props = { ...q.props, deleteBy: userId };
      }
    }
    void p;
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

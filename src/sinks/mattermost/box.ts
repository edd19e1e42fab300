/**
 * One status box: one Mattermost post for one root session turn, kept up to date.
 *
 * - Created on the first update, with a `pending_post_id` chosen once per turn and saved
 *   before the request (the intent): a retried create returns the same post for the 30 s the
 *   server remembers the id. The id also goes into the post's props (`clawpulse_box`): the
 *   server does not store `pending_post_id`, props it does. So when a create's outcome is
 *   unknown (no answer, a 5xx, a daemon killed in between), the box first looks for its post
 *   among the channel's posts modified since the intent (`GET /channels/{id}/posts?since=`)
 *   and adopts it, and creates only when there is none.
 * - Then edited in place with `PUT /posts/{id}/patch`: REST posts change `message`; plugin
 *   posts (`custom_livestatus`) change only `props` (so `edit_at` stays 0), and since patch
 *   replaces the whole props map, the props the server added (from_bot) are sent back too.
 * - Updates go through a coalescing throttle (leading edge, one per THROTTLE_MS, identical
 *   skipped, final state flushed), each send through the server's circuit breaker.
 * - A box a user deleted (edit → 403, GET → 404) is recreated once; after that it is left alone.
 * - The record (records.ts) lives in the EventStore kv, so a restarted daemon edits the same
 *   post; it keeps the final content until the server has it, then the box is `closed`.
 * - A box whose turn is over but whose final state cannot be rendered any more (the session
 *   is gone) is closed by rewriting its post as interrupted (`rewrite` content).
 */
import type { Breaker } from '../../infra/breaker.js';
import { BreakerOpenError } from '../../infra/breaker.js';
import type { Clock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import { createThrottle, type Throttle } from '../../infra/throttle.js';
import type { SessionStatus } from '../../model/session.js';
import { LIVESTATUS_POST_TYPE, type LiveStatusProps } from '../../render/livestatus-props.js';
import { type MattermostClient, MattermostError, type MmPost } from './client.js';
import type { SummaryCounts } from './late.js';
import { keepaliveMs } from './plugin-mode.js';
import type { RateLimiter } from './rate-limit.js';
import { codePoints, markInterrupted } from './text.js';

/** the prop that names a box's post: its pending_post_id (the server keeps props, not that field) */
export const BOX_MARK_PROP = 'clawpulse_box';
/** how far before a record's creation its post is looked for (clock skew with the server) */
export const FIND_MARGIN_MS = 10 * 60_000;
const FINAL_STATUSES: ReadonlySet<SessionStatus> = new Set(['done', 'error', 'interrupted']);
/** final props bigger than this are not kept in the record (a plugin box then closes as interrupted) */
const MAX_STORED_PROPS = 64 * 1024;

export interface BoxRecord {
  v: 1;
  rootKey: string;
  /** turn number of this root session (a reactivation after done/error starts a new one) */
  turn: number;
  pendingPostId: string;
  postId?: string;
  channelId: string;
  rootId?: string;
  type: '' | typeof LIVESTATUS_POST_TYPE;
  /** status of the last state pushed to the box */
  lastStatus?: SessionStatus;
  recreated: number;
  /** props the server keeps on the post besides ours (e.g. from_bot): patch replaces the whole map */
  baseProps?: Record<string, unknown>;
  createdAt: number;
  /** the final content, kept from the moment the status turned final until the server has it */
  final?: BoxContent;
  /** when the final state reached the server (or the box was summarised or found gone) */
  closed?: number;
  /** admitted as a late box (late.ts): its create's retries keep the place */
  late?: boolean;
  /** not posted: counted in the channel's summary post instead (late.ts) */
  summarised?: boolean;
  /** what a summary post counts (late.ts) */
  summary?: SummaryCounts;
}

export interface BoxContent {
  status: SessionStatus;
  /** REST message: quoted, fitted status box */
  text: string;
  /** message of a plugin post (fixed at create: props-only patches never change it) */
  summary: string;
  props?: LiveStatusProps;
  /** when the turn ended (final states) */
  endedAt?: number;
  /** the session's name (summary posts) */
  name?: string;
  /** close the post as interrupted with this note, from its own text (the state is gone) */
  rewrite?: string;
}

/** shared by every box of one server: a 429 pauses them all */
export interface PaceGate {
  until: number;
}

export interface SinkCounters {
  creates: number;
  edits: number;
  recreated: number;
  rateLimited: number;
  dropped: number;
  failures: number;
}

export interface BoxDeps {
  record: BoxRecord;
  client: MattermostClient;
  breaker: Breaker;
  clock: Clock;
  throttleMs: number;
  gate: PaceGate;
  /** server-wide request pace shared by every box */
  limiter?: RateLimiter;
  /** true while plugin mode is on (the plugin is enabled and allowed) */
  pluginOn: () => boolean;
  persist: (rec: BoxRecord) => void;
  logger: Logger;
  counters: SinkCounters;
  /** the server refused the message as too long: re-render with a smaller limit */
  onTooLong: (err: MattermostError, refusedChars: number) => void;
  /** a send finished (ok or not): the sink may admit waiting sessions */
  onSettled?: () => void;
  /** look for the post before creating (the record comes from an earlier run) */
  lookup?: boolean;
  /** our user id: a found post must be ours */
  userId?: string;
  /** asked before a create: false = do not post this box (summarised instead); the box closes */
  admitCreate?: (rec: BoxRecord, c: BoxContent) => boolean;
}

export interface Box {
  readonly record: BoxRecord;
  update(content: BoxContent): void;
  flush(): Promise<void>;
  busy(): boolean;
  /** the box was deleted twice (or summarised, or closed from its own text): no more updates */
  abandoned(): boolean;
  /** the server has the final state */
  closed(): boolean;
  dispose(): void;
}

class PacedError extends Error {
  constructor(public readonly retryAfterMs: number) {
    super(`paused by a 429 for ${retryAfterMs} ms`);
  }
}

const DEDUPE_PENDING = 'api.post.deduplicate_create_post.pending';
/** answers after which a create may have happened all the same (0 = no answer at all) */
const UNKNOWN_OUTCOME: ReadonlySet<number> = new Set([0, 502, 504]);

/** errors that mean the server is failing (they count for the breaker) */
export function isServerFailure(err: unknown): boolean {
  return err instanceof MattermostError && err.isServerFailure && err.id !== DEDUPE_PENDING;
}

export function newPendingPostId(userId: string, now: number): string {
  // same shape as the webapp's: `<user id>:<ms>`, plus a random tail so two boxes never share one
  return `${userId}:${now}${Math.floor(Math.random() * 1e6)
    .toString()
    .padStart(6, '0')}`;
}

/** the final content as the record keeps it: big plugin props are left out */
function storable(c: BoxContent): BoxContent {
  if (!c.props || JSON.stringify(c.props).length <= MAX_STORED_PROPS) return c;
  const { props: _big, ...rest } = c;
  return rest;
}

export function createBox(deps: BoxDeps): Box {
  const { client, breaker, clock, gate, logger, counters } = deps;
  const rec = deps.record;
  let gone = false;
  /** creates the server refused (4xx): a missing channel or thread root will not heal by retrying */
  let createRejects = 0;
  const MAX_CREATE_REJECTS = 3;
  const isPlugin = () => rec.type === LIVESTATUS_POST_TYPE;
  /** a create may have happened that we did not hear about: find the post before creating */
  let lookupFirst = Boolean(deps.lookup) && !rec.postId;
  /** the newest content asked for: only its delivery closes the box */
  let newest: BoxContent | undefined;

  function close(): void {
    rec.closed = clock.now();
    rec.final = undefined;
    deps.persist(rec);
  }

  function adopt(post: MmPost): void {
    rec.postId = post.id;
    const { livestatus: _ours, ...rest } = post.props ?? {};
    rec.baseProps = rest;
    deps.persist(rec);
  }

  /** our post for this record among the channel's recent posts, if the server has one */
  async function findPost(): Promise<MmPost | undefined> {
    const posts = await client.getChannelPostsSince(rec.channelId, rec.createdAt - FIND_MARGIN_MS);
    return posts.find(
      (p) =>
        !p.delete_at &&
        !p.original_id &&
        (p.props?.[BOX_MARK_PROP] === rec.pendingPostId || p.pending_post_id === rec.pendingPostId) &&
        (p.root_id ?? '') === (rec.rootId ?? '') &&
        (!deps.userId || !p.user_id || p.user_id === deps.userId),
    );
  }

  /** what decides "identical": the props for a plugin post in plugin mode, else the text */
  function keyOf(c: BoxContent): string {
    if (isPlugin() && deps.pluginOn() && c.props) {
      // the same props in a later keepalive period count as new: the plugin needs to see a
      // live box updated at least every stale_after_ms (sink.ts scheduleKeepalive)
      const period = Math.floor(c.props.updatedAt / keepaliveMs(c.props.stale_after_ms));
      return `p:${JSON.stringify({ ...c.props, updatedAt: period })}`;
    }
    return `t:${c.text}`;
  }

  async function create(c: BoxContent): Promise<void> {
    const mark = { [BOX_MARK_PROP]: rec.pendingPostId };
    const body = isPlugin()
      ? {
          channel_id: rec.channelId,
          message: c.summary,
          type: LIVESTATUS_POST_TYPE,
          props: { ...mark, livestatus: c.props },
          pending_post_id: rec.pendingPostId,
        }
      : { channel_id: rec.channelId, message: c.text, props: mark, pending_post_id: rec.pendingPostId };
    let post: MmPost;
    try {
      post = await client.createPost(rec.rootId ? { ...body, root_id: rec.rootId } : body);
    } catch (err) {
      // no answer, a gateway timeout, or the same create still in flight: the post may exist
      if (!(err instanceof MattermostError) || UNKNOWN_OUTCOME.has(err.status) || err.id === DEDUPE_PENDING)
        lookupFirst = true;
      throw err;
    }
    counters.creates++;
    adopt(post);
  }

  /** the session's state is gone: the post's own text, marked interrupted */
  async function rewrite(note: string): Promise<void> {
    if (!rec.postId) {
      const found = await findPost();
      if (!found) return close(); // never posted: nothing to finish
      adopt(found);
    }
    let post: MmPost;
    try {
      post = await client.getPost(rec.postId as string);
    } catch (err) {
      if (err instanceof MattermostError && (err.status === 404 || err.status === 403)) return close();
      throw err;
    }
    const ls = post.props?.livestatus as LiveStatusProps | undefined;
    if (isPlugin() && ls?.root) {
      const props = { ...post.props, livestatus: { ...ls, root: { ...ls.root, status: 'interrupted' } } };
      await client.patchPost(post.id, deps.pluginOn() ? { props } : { props, message: post.message });
    } else await client.patchPost(post.id, { message: markInterrupted(post.message, note) });
    counters.edits++;
    gone = true;
    close();
  }

  async function patch(c: BoxContent): Promise<MmPost> {
    const id = rec.postId as string;
    if (!isPlugin()) return client.patchPost(id, { message: c.text });
    const props = { ...(rec.baseProps ?? {}), livestatus: c.props };
    // props-only: edit_at stays 0 (no "Edited" label); without the plugin the message must carry the box
    return deps.pluginOn()
      ? client.patchPost(id, { props })
      : client.patchPost(id, { message: c.text, props });
  }

  /** a 403/404 on edit: was the post deleted (GET → 404 or delete_at set), or is it a real permission problem? */
  async function deleted(): Promise<boolean> {
    try {
      const p = await client.getPost(rec.postId as string);
      return Boolean(p.delete_at);
    } catch (err) {
      if (err instanceof MattermostError && (err.status === 404 || err.status === 403)) return true;
      throw err;
    }
  }

  async function deliver(c: BoxContent): Promise<void> {
    if (c.rewrite !== undefined) return rewrite(c.rewrite);
    if (!rec.postId && lookupFirst) {
      const found = await findPost();
      lookupFirst = false;
      if (found) adopt(found);
    }
    if (!rec.postId) {
      if (summarised(c)) return;
      try {
        return await create(c);
      } catch (err) {
        if (err instanceof MattermostError && err.status >= 400 && err.status < 500 && err.status !== 429) {
          if (++createRejects >= MAX_CREATE_REJECTS) {
            gone = true;
            logger.error(
              {
                status: err.status,
                id: err.id,
                channelId: rec.channelId,
                rootId: rec.rootId,
                rootKey: rec.rootKey,
              },
              'Mattermost refuses to create this status box; giving up on it',
            );
          }
        }
        throw err;
      }
    }
    try {
      await patch(c);
      counters.edits++;
    } catch (err) {
      if (!(err instanceof MattermostError) || (err.status !== 403 && err.status !== 404)) throw err;
      if (!(await deleted())) throw err;
      if (rec.recreated >= 1) {
        gone = true;
        logger.warn(
          { postId: rec.postId, rootKey: rec.rootKey },
          'status box deleted again by a user; leaving it deleted',
        );
        throw err;
      }
      logger.info(
        { postId: rec.postId, rootKey: rec.rootKey },
        'status box was deleted by a user; recreating it once',
      );
      rec.recreated++;
      counters.recreated++;
      rec.postId = undefined;
      lookupFirst = false;
      rec.pendingPostId = `${rec.pendingPostId}:r${rec.recreated}`;
      deps.persist(rec);
      await create(c);
    }
  }

  /** a late box past the channel's bound: counted in the summary post instead; the box is finished */
  function summarised(c: BoxContent): boolean {
    if (!deps.admitCreate || deps.admitCreate(rec, c)) return false;
    rec.summarised = true;
    gone = true;
    close();
    return true;
  }

  async function send(c: BoxContent): Promise<void> {
    if (gone) return;
    // decided before any pace or breaker: a summarised box sends nothing
    if (!rec.postId && !lookupFirst && c.rewrite === undefined && summarised(c)) return;
    const wait = gate.until - clock.now();
    if (wait > 0) throw new PacedError(wait);
    try {
      await breaker.exec(async () => {
        await deps.limiter?.acquire();
        await deliver(c);
      });
      if (!gone && c === newest && FINAL_STATUSES.has(c.status) && !rec.closed) close();
    } catch (err) {
      if (err instanceof MattermostError && err.status === 429) {
        counters.rateLimited++;
        gate.until = Math.max(gate.until, clock.now() + (err.retryAfterMs ?? 1000));
      }
      throw err;
    }
  }

  /** how long before a failed value is tried again; undefined = drop it (a permanent error) */
  function retryDelay(err: unknown): number | undefined {
    const floor = Math.max(deps.throttleMs, 200);
    if (gone) return undefined;
    if (err instanceof PacedError) return err.retryAfterMs;
    if (err instanceof BreakerOpenError) return Math.max(err.retryInMs, floor);
    if (err instanceof MattermostError) {
      if (err.status === 429) return Math.max(err.retryAfterMs ?? 1000, 1);
      if (err.status === 0 || err.status >= 500) return Math.max(floor, err.retryAfterMs ?? 0);
    }
    return undefined;
  }

  const throttle: Throttle<BoxContent> = createThrottle<BoxContent>({
    clock,
    intervalMs: deps.throttleMs,
    send,
    equals: (a, b) => keyOf(a) === keyOf(b),
    retryDelayMs: retryDelay,
    onSettled: () => deps.onSettled?.(),
    onError: (err, value) => {
      if (err instanceof PacedError || err instanceof BreakerOpenError) return;
      counters.failures++;
      if (retryDelay(err) === undefined) counters.dropped++;
      if (
        err instanceof MattermostError &&
        err.id === 'model.post.is_valid.message_length.app_error' &&
        value.rewrite === undefined
      )
        deps.onTooLong(err, codePoints(value.text));
      logger.warn(
        { err: err instanceof Error ? err.message : String(err), rootKey: rec.rootKey, postId: rec.postId },
        'status box update failed',
      );
    },
  });

  return {
    record: rec,
    update(c: BoxContent): void {
      if (gone) return;
      newest = c;
      const final = FINAL_STATUSES.has(c.status);
      if (c.status !== rec.lastStatus || (final && !rec.final && !rec.closed)) {
        rec.lastStatus = c.status;
        if (final) rec.final = storable(c);
        else {
          rec.final = undefined;
          rec.closed = undefined; // an interrupted box that comes back to life
        }
        deps.persist(rec);
      }
      throttle.push(c);
      // the server already has exactly this final state
      const shown = throttle.lastSent();
      if (final && !rec.closed && !throttle.busy() && shown && keyOf(shown) === keyOf(c)) close();
    },
    flush: () => throttle.flush(),
    busy: () => throttle.busy(),
    abandoned: () => gone,
    closed: () => Boolean(rec.closed),
    dispose: () => throttle.dispose(),
  };
}

/**
 * One status box: one Mattermost post for one root session turn, kept up to date.
 *
 * - Created on the first update, with a `pending_post_id` chosen once per turn and saved
 *   before the request: a retried create (or a create after a crash) returns the same post
 *   instead of a second one.
 * - Then edited in place with `PUT /posts/{id}/patch`: REST posts change `message`; plugin
 *   posts (`custom_livestatus`) change only `props` (so `edit_at` stays 0), and since patch
 *   replaces the whole props map, the props the server added (from_bot) are sent back too.
 * - Updates go through a coalescing throttle (leading edge, one per THROTTLE_MS, identical
 *   skipped, final state flushed), each send through the server's circuit breaker.
 * - A box a user deleted (edit → 403, GET → 404) is recreated once; after that it is left alone.
 * - The post id lives in the EventStore kv, so a restarted daemon edits the same post.
 */
import type { Breaker } from '../../infra/breaker.js';
import { BreakerOpenError } from '../../infra/breaker.js';
import type { Clock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import { createThrottle, type Throttle } from '../../infra/throttle.js';
import type { SessionStatus } from '../../model/session.js';
import { LIVESTATUS_POST_TYPE, type LiveStatusProps } from '../../render/livestatus-props.js';
import { type MattermostClient, MattermostError, type MmPost } from './client.js';
import type { RateLimiter } from './rate-limit.js';
import { codePoints } from './text.js';

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
}

export interface BoxContent {
  status: SessionStatus;
  /** REST message: quoted, fitted status box */
  text: string;
  /** message of a plugin post (fixed at create: props-only patches never change it) */
  summary: string;
  props?: LiveStatusProps;
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
}

export interface Box {
  readonly record: BoxRecord;
  update(content: BoxContent): void;
  flush(): Promise<void>;
  busy(): boolean;
  /** the box was deleted twice: it gets no more updates */
  abandoned(): boolean;
  dispose(): void;
}

class PacedError extends Error {
  constructor(public readonly retryAfterMs: number) {
    super(`paused by a 429 for ${retryAfterMs} ms`);
  }
}

const DEDUPE_PENDING = 'api.post.deduplicate_create_post.pending';

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

export function createBox(deps: BoxDeps): Box {
  const { client, breaker, clock, gate, logger, counters } = deps;
  const rec = deps.record;
  let gone = false;
  /** creates the server refused (4xx): a missing channel or thread root will not heal by retrying */
  let createRejects = 0;
  const MAX_CREATE_REJECTS = 3;
  const isPlugin = () => rec.type === LIVESTATUS_POST_TYPE;

  /** what decides "identical": the props for a plugin post in plugin mode, else the text */
  function keyOf(c: BoxContent): string {
    if (isPlugin() && deps.pluginOn() && c.props) return `p:${JSON.stringify({ ...c.props, updatedAt: 0 })}`;
    return `t:${c.text}`;
  }

  async function create(c: BoxContent): Promise<void> {
    const body = isPlugin()
      ? {
          channel_id: rec.channelId,
          message: c.summary,
          type: LIVESTATUS_POST_TYPE,
          props: { livestatus: c.props },
          pending_post_id: rec.pendingPostId,
        }
      : { channel_id: rec.channelId, message: c.text, pending_post_id: rec.pendingPostId };
    const post = await client.createPost(rec.rootId ? { ...body, root_id: rec.rootId } : body);
    counters.creates++;
    rec.postId = post.id;
    const { livestatus: _ours, ...rest } = post.props ?? {};
    rec.baseProps = rest;
    deps.persist(rec);
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
    if (!rec.postId) {
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
      rec.pendingPostId = `${rec.pendingPostId}:r${rec.recreated}`;
      deps.persist(rec);
      await create(c);
    }
  }

  async function send(c: BoxContent): Promise<void> {
    if (gone) return;
    const wait = gate.until - clock.now();
    if (wait > 0) throw new PacedError(wait);
    try {
      await breaker.exec(async () => {
        await deps.limiter?.acquire();
        await deliver(c);
      });
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
      if (err instanceof MattermostError && err.id === 'model.post.is_valid.message_length.app_error')
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
      if (c.status !== rec.lastStatus) {
        rec.lastStatus = c.status;
        deps.persist(rec);
      }
      throttle.push(c);
    },
    flush: () => throttle.flush(),
    busy: () => throttle.busy(),
    abandoned: () => gone,
    dispose: () => throttle.dispose(),
  };
}

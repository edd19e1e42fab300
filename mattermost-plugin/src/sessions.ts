/**
 * Which sessions exist, gathered from two places: the webapp's Redux posts (what the user has
 * loaded) and the plugin's own cache (channel posts fetched over REST when the panel opens, and
 * posts seen in WebSocket events, which also covers channels the user is not looking at).
 */
import type { LiveStatus } from '../../src/render/livestatus-props.js';
import { LIVESTATUS_POST_TYPE } from '../../src/render/livestatus-props.js';
import type { MmPost, MmState } from './types.js';
import { isLive, liveStatusOfPost } from './validate.js';

export interface SessionSummary {
  postId: string;
  channelId: string;
  sessionKey: string;
  agentId: string;
  label: string;
  status: LiveStatus;
  startedAt: number;
  endedAt?: number;
  updatedAt: number;
  tokens: number;
  costUsd: number;
  /** sub-agents (at any depth) still live */
  liveChildren: number;
}

export interface PostCache {
  upsert(post: MmPost): void;
  remove(postId: string): void;
  posts(): ReadonlyMap<string, MmPost>;
  /** bumps on every change; lets hooks memoize */
  version(): number;
  /** the WebSocket reconnected: events may have been missed, so loaded lists should reload */
  markReconnected(): void;
  reconnects(): number;
  subscribe(listener: () => void): () => void;
}

/** Keeps only livestatus posts (others are not ours to hold) and never goes back in time. */
export function createPostCache(maxPosts = 500): PostCache {
  const map = new Map<string, MmPost>();
  const listeners = new Set<() => void>();
  let ver = 0;
  let reconnectCount = 0;
  const changed = () => {
    ver++;
    for (const l of [...listeners]) {
      try {
        l();
      } catch {
        // a broken listener must not stop the others
      }
    }
  };
  return {
    upsert(post) {
      if (post.type !== LIVESTATUS_POST_TYPE) return;
      const old = map.get(post.id);
      if (old && (old.update_at ?? 0) > (post.update_at ?? 0)) return;
      map.delete(post.id);
      map.set(post.id, post);
      // Insertion order is recency, so the oldest entry goes first when over the cap.
      while (map.size > maxPosts) {
        const first = map.keys().next().value;
        if (first === undefined) break;
        map.delete(first);
      }
      changed();
    },
    remove(postId) {
      if (map.delete(postId)) changed();
    },
    posts: () => map,
    markReconnected() {
      reconnectCount++;
      changed();
    },
    reconnects: () => reconnectCount,
    version: () => ver,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

function countLiveChildren(node: { children: Array<{ status: LiveStatus; children: unknown[] }> }): number {
  let n = 0;
  for (const c of node.children) {
    if (isLive(c.status)) n++;
    n += countLiveChildren(c as typeof node);
  }
  return n;
}

// Redux replaces a post object on every edit, so a summary per object is computed once even
// though the store notifies on every change anywhere.
const summaries = new WeakMap<MmPost, SessionSummary | null>();

export function summarize(post: MmPost): SessionSummary | null {
  const cached = summaries.get(post);
  if (cached !== undefined) return cached;
  const s = computeSummary(post);
  summaries.set(post, s);
  return s;
}

function computeSummary(post: MmPost): SessionSummary | null {
  if (post.type !== LIVESTATUS_POST_TYPE || (post.delete_at ?? 0) > 0) return null;
  const ls = liveStatusOfPost(post);
  if (!ls) return null;
  const r = ls.root;
  const s: SessionSummary = {
    postId: post.id,
    channelId: post.channel_id ?? '',
    sessionKey: r.sessionKey,
    agentId: r.agentId,
    label: r.label,
    status: r.status,
    startedAt: r.startedAt,
    updatedAt: Math.max(ls.updatedAt, post.update_at ?? 0),
    tokens: r.tokens,
    costUsd: r.costUsd,
    liveChildren: countLiveChildren(r),
  };
  if (r.endedAt !== undefined) s.endedAt = r.endedAt;
  return s;
}

/**
 * One summary per session key (the newest post wins: the daemon may re-create a box), live ones
 * first, then newest first.
 */
export function collectSessions(state: MmState | null | undefined, cache: PostCache): SessionSummary[] {
  const bySession = new Map<string, SessionSummary>();
  const consider = (post: MmPost | undefined) => {
    if (!post || typeof post !== 'object' || typeof post.id !== 'string') return;
    const s = summarize(post);
    if (!s) return;
    const prev = bySession.get(s.sessionKey);
    if (!prev || s.updatedAt >= prev.updatedAt) bySession.set(s.sessionKey, s);
  };
  const reduxPosts = state?.entities?.posts?.posts;
  if (reduxPosts && typeof reduxPosts === 'object') {
    for (const post of Object.values(reduxPosts)) consider(post);
  }
  for (const post of cache.posts().values()) consider(post);
  return [...bySession.values()].sort((a, b) => {
    const live = Number(isLive(b.status)) - Number(isLive(a.status));
    return live !== 0 ? live : b.startedAt - a.startedAt;
  });
}

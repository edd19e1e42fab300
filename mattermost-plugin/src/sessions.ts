/**
 * Which sessions exist, gathered from two places: the webapp's Redux posts (what the user has
 * loaded) and the plugin's own cache (channel posts fetched over REST when the panel opens, and
 * posts seen in WebSocket events, which also covers channels the user is not looking at).
 */
import type { LiveStatus } from '../../src/render/livestatus-props.js';
import { LIVESTATUS_POST_TYPE } from '../../src/render/livestatus-props.js';
import { isStale } from './stale.js';
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
  /** the cost was (partly) priced from the daemon's price table: shown "~$0.42 est." */
  costEstimated?: boolean;
  /** sub-agents (at any depth) still live */
  liveChildren: number;
  /** the box's stale threshold (props `stale_after_ms`), if the daemon set one */
  staleAfterMs?: number;
  /** the root's last status lines (sub-agents as one line each), for the widget */
  lastLines: WidgetLine[];
}

export interface WidgetLine {
  kind: 'text' | 'tool' | 'system' | 'child';
  text: string;
  status?: string;
}

export const WIDGET_LINES = 5;

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
    lastLines: r.lines.slice(-WIDGET_LINES).map((l): WidgetLine => {
      if (l.kind === 'child') {
        const c = r.children[l.childIndex];
        return { kind: 'child', text: `Sub-agent: ${c?.label ?? '?'}`, status: c?.status ?? 'done' };
      }
      return l.kind === 'tool'
        ? { kind: 'tool', text: l.text, status: l.toolStatus ?? 'running' }
        : { kind: l.kind, text: l.text };
    }),
  };
  if (ls.stale_after_ms !== undefined) s.staleAfterMs = ls.stale_after_ms;
  if (r.endedAt !== undefined) s.endedAt = r.endedAt;
  if (r.costEstimated) s.costEstimated = true;
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

/**
 * Attention first: among running sessions the stuck and the stale (no update for too long)
 * come before active and idle ones; among finished ones errors and interruptions come before
 * the sessions that ended well. Newest first within a rank.
 */
export function attentionRank(s: SessionSummary, now: number): number {
  if (isLive(s.status)) {
    if (s.status === 'stuck') return 0;
    if (isStale(s.status, s.updatedAt, s.staleAfterMs, now)) return 1;
    return s.status === 'active' ? 2 : 3;
  }
  return s.status === 'error' ? 0 : s.status === 'interrupted' ? 1 : 2;
}

export function byAttention(list: SessionSummary[], now: number): SessionSummary[] {
  return [...list].sort((a, b) => attentionRank(a, now) - attentionRank(b, now) || b.startedAt - a.startedAt);
}

/**
 * The session the widget shows in full: a live, not stale one, with the most running
 * sub-agents, then the most recently updated.
 */
export function busiest(list: SessionSummary[], now: number): SessionSummary | undefined {
  const running = list.filter((s) => isLive(s.status));
  const score = (s: SessionSummary) => (isStale(s.status, s.updatedAt, s.staleAfterMs, now) ? 0 : 1);
  return running.sort(
    (a, b) => score(b) - score(a) || b.liveChildren - a.liveChildren || b.updatedAt - a.updatedAt,
  )[0];
}

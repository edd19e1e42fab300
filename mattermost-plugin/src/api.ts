/**
 * The only REST call the plugin makes: recent posts of a channel, so sessions that started before
 * the page loaded show up in the panel. Same-origin, cookie auth, as the webapp's own client does.
 */
import type { MmPost } from './types.js';
import { parseWsPost } from './validate.js';

export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

export type ChannelPostsResult = { ok: true; posts: MmPost[] } | { ok: false; error: string };

/** Mattermost may run under a sub-path; the webapp exposes it as `window.basename`. */
export function siteBase(): string {
  const b = (globalThis as { basename?: unknown }).basename;
  return typeof b === 'string' ? b.replace(/\/+$/, '') : '';
}

export async function fetchChannelPosts(
  fetchImpl: FetchLike,
  channelId: string,
  perPage = 60,
): Promise<ChannelPostsResult> {
  if (!/^[a-z0-9]{1,64}$/i.test(channelId)) return { ok: false, error: 'no channel' };
  const url = `${siteBase()}/api/v4/channels/${channelId}/posts?per_page=${perPage}`;
  try {
    const res = await fetchImpl(url, {
      credentials: 'include',
      headers: { 'X-Requested-With': 'XMLHttpRequest' },
    });
    if (!res.ok) return { ok: false, error: `HTTP ${res.status}` };
    const body: unknown = await res.json();
    const postsObj = (body as { posts?: unknown } | null)?.posts;
    if (!postsObj || typeof postsObj !== 'object') return { ok: false, error: 'unexpected response' };
    const posts: MmPost[] = [];
    for (const raw of Object.values(postsObj as Record<string, unknown>)) {
      const post = parseWsPost(raw);
      if (post) posts.push(post);
    }
    return { ok: true, posts };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

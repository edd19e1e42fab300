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

export type SearchResult =
  | { ok: true; posts: MmPost[]; teams: number; failed: number }
  | { ok: false; error: string };

/** Mattermost wants its CSRF token (cookie MMCSRF) echoed on every non-GET request. */
function csrfToken(): string {
  try {
    const m = /(?:^|;\s*)MMCSRF=([^;]+)/.exec(globalThis.document?.cookie ?? '');
    return m?.[1] ? decodeURIComponent(m[1]) : '';
  } catch {
    return '';
  }
}

const ID_RE = /^[a-z0-9]{1,64}$/i;

/**
 * The live boxes in every channel the user can read: `POST /api/v4/teams/{id}/posts/search` for
 * the daemon's marker word, once per team of the user (the per-team route exists on every
 * supported server; the cross-team `/posts/search` only on recent ones). Mattermost answers only
 * posts in channels the user is a member of, newest first. A team that fails is counted, the
 * others still count.
 */
export async function searchLiveBoxes(
  fetchImpl: FetchLike,
  teamIds: string[],
  marker: string,
  perPage = 100,
): Promise<SearchResult> {
  const teams = [...new Set(teamIds)].filter((t) => ID_RE.test(t));
  if (teams.length === 0) return { ok: false, error: 'no team' };
  const posts: MmPost[] = [];
  let failed = 0;
  let lastError = '';
  for (const team of teams) {
    try {
      const headers: Record<string, string> = {
        'Content-Type': 'application/json',
        'X-Requested-With': 'XMLHttpRequest',
      };
      const csrf = csrfToken();
      if (csrf) headers['X-CSRF-Token'] = csrf;
      const res = await fetchImpl(`${siteBase()}/api/v4/teams/${team}/posts/search`, {
        method: 'POST',
        credentials: 'include',
        headers,
        body: JSON.stringify({ terms: marker, is_or_search: false, page: 0, per_page: perPage }),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const body: unknown = await res.json();
      const postsObj = (body as { posts?: unknown } | null)?.posts;
      if (postsObj === null) continue; // no hit: some servers answer posts null
      if (!postsObj || typeof postsObj !== 'object') throw new Error('unexpected response');
      for (const raw of Object.values(postsObj as Record<string, unknown>)) {
        const post = parseWsPost(raw);
        if (post) posts.push(post);
      }
    } catch (err) {
      failed++;
      lastError = err instanceof Error ? err.message : String(err);
    }
  }
  if (failed === teams.length) return { ok: false, error: lastError };
  return { ok: true, posts, teams: teams.length, failed };
}

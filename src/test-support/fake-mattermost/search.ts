/**
 * Post search as the fake answers it: `POST /api/v4/teams/{team_id}/posts/search` and the
 * cross-team `POST /api/v4/posts/search`, per the API reference (SearchPosts): a JSON body
 * `{terms, is_or_search, time_zone_offset?, include_deleted_channels?, page?, per_page?}`
 * (per_page default 60), answered as a PostListWithSearchMatches `{order, posts, matches,
 * next_post_id, prev_post_id, has_next, first_inaccessible_post_time}`, newest first.
 *
 * What it matches, like the database search: only posts in channels the user is a member of
 * (in that team for the team route), never deleted rows (so never edit-history rows), never
 * `system_*` posts, and only the message text (props are not indexed). Terms are words split
 * on whitespace; the message is split into words on anything not a letter or a digit (so a
 * marker made of letters and digits only is kept whole); a word matches case-insensitively,
 * `word*` by prefix, `"a phrase"` as consecutive words, `-word` excludes. Several terms must all
 * match (AND), or any of them with `is_or_search`. `from:`/`in:`/`on:`/`before:`/`after:`
 * filters are not implemented and answer 501 here rather than silently matching everything.
 */
import { AppError, type FakePost, isObject } from './posts.js';

export interface SearchBody {
  terms: string;
  isOr: boolean;
  page: number;
  perPage: number;
}

export interface SearchResult {
  order: string[];
  posts: Record<string, FakePost>;
  matches: null;
  next_post_id: string;
  prev_post_id: string;
  has_next: boolean;
  first_inaccessible_post_time: number;
}

const invalid = (param: string) =>
  new AppError(
    400,
    'api.context.invalid_body_param.app_error',
    `Invalid or missing ${param} in request body.`,
  );

export function parseSearchBody(b: unknown): SearchBody {
  if (!isObject(b)) throw invalid('terms');
  if (typeof b.terms !== 'string') throw invalid('terms');
  if (b.is_or_search !== undefined && typeof b.is_or_search !== 'boolean') throw invalid('is_or_search');
  const int = (v: unknown, name: string, dflt: number) => {
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw invalid(name);
    return v;
  };
  const page = int(b.page, 'page', 0);
  const perPage = int(b.per_page, 'per_page', 60) || 60;
  return { terms: b.terms, isOr: b.is_or_search === true, page, perPage: Math.min(perPage, 200) };
}

interface Term {
  words: string[];
  prefix: boolean;
  exclude: boolean;
}

export function parseTerms(terms: string): Term[] {
  const out: Term[] = [];
  const re = /(-?)"([^"]*)"|(\S+)/g;
  for (let m = re.exec(terms); m; m = re.exec(terms)) {
    if (m[2] !== undefined) {
      const words = tokenize(m[2]);
      if (words.length) out.push({ words, prefix: false, exclude: m[1] === '-' });
      continue;
    }
    let t = m[3] as string;
    if (/^(from|in|on|before|after|channel):/i.test(t))
      throw new AppError(
        501,
        'app.fake.search_filter.app_error',
        `search filter ${t} is not implemented in the fake`,
      );
    const exclude = t.startsWith('-');
    if (exclude) t = t.slice(1);
    const prefix = t.endsWith('*');
    if (prefix) t = t.slice(0, -1);
    const words = tokenize(t);
    if (words.length) out.push({ words, prefix, exclude });
  }
  return out;
}

export function tokenize(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w !== '');
}

function termMatches(words: string[], t: Term): boolean {
  const n = t.words.length;
  for (let i = 0; i + n <= words.length; i++) {
    let ok = true;
    for (let j = 0; j < n && ok; j++) {
      const w = words[i + j] as string;
      const want = t.words[j] as string;
      ok = t.prefix && j === n - 1 ? w.startsWith(want) : w === want;
    }
    if (ok) return true;
  }
  return false;
}

export function messageMatches(message: string, terms: Term[], isOr: boolean): boolean {
  const words = tokenize(message);
  const include = terms.filter((t) => !t.exclude);
  if (include.length === 0) return false;
  if (terms.some((t) => t.exclude && termMatches(words, t))) return false;
  return isOr ? include.some((t) => termMatches(words, t)) : include.every((t) => termMatches(words, t));
}

export function searchPosts(
  all: Iterable<FakePost>,
  readable: (channelId: string) => boolean,
  body: SearchBody,
): SearchResult {
  const terms = parseTerms(body.terms);
  const hits = [...all]
    .filter(
      (p) =>
        !p.delete_at &&
        !p.type.startsWith('system_') &&
        readable(p.channel_id) &&
        messageMatches(p.message, terms, body.isOr),
    )
    .sort((a, b) => b.create_at - a.create_at);
  const start = body.page * body.perPage;
  const slice = hits.slice(start, start + body.perPage);
  const result: SearchResult = {
    order: slice.map((p) => p.id),
    posts: {},
    matches: null,
    next_post_id: '',
    prev_post_id: '',
    has_next: hits.length > start + body.perPage,
    first_inaccessible_post_time: 0,
  };
  for (const p of slice) result.posts[p.id] = { ...p, pending_post_id: '' };
  return result;
}

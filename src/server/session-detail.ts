/**
 * Bounds on what one session's detail (`GET /api/sessions/:key`) carries, whatever the session
 * holds: a page of its newest events (count and bytes; older pages by `?before=<seq>`), the
 * newest tool calls of each state (older ones from `/api/sessions/:key/tools`), long strings
 * cut (ending in CLIP_MARK), the tree's full states and the token curve capped. A fuzzed session once answered 2.2 MB.
 */
import type { StoredEvent } from '../model/events.js';
import type { SessionState, ToolCallState } from '../model/session.js';
import { cutToMax } from '../openclaw/summarize.js';
import type { TokenPoint } from './summary.js';

export const DETAIL_LIMITS = {
  /** events in a page unless `limit` says otherwise, and the most `limit` may ask */
  events: 200,
  maxEvents: 1000,
  /** a page's events as JSON: at most this (one event at least) */
  eventBytes: 192 * 1024,
  /** longer strings in events are cut, ending in CLIP_MARK */
  stringChars: 2000,
  /** and in states (tool arguments and errors, lines, error messages): a hundred tools twice */
  stateChars: 500,
  /** the newest tool calls of the session itself, of the other sessions in its tree */
  tools: 100,
  treeTools: 20,
  /** most tools a /tools page may ask for */
  maxToolsPage: 500,
  /** full states sent for the tree (the session first); summaries go on to `treeNodes` */
  treeStates: 50,
  treeNodes: 500,
  /** points of the token curve (thinned evenly beyond, the last one always kept) */
  tokenPoints: 500,
};

/** a copy of a JSON value with every string longer than `max` cut (objects and arrays copied) */
export function clipStrings<T>(v: T, max = DETAIL_LIMITS.stringChars, depth = 0): T {
  if (typeof v === 'string') return (v.length > max ? cutToMax(v, max) : v) as T;
  if (v === null || typeof v !== 'object' || depth > 6) return v;
  if (Array.isArray(v)) return v.map((x) => clipStrings(x, max, depth + 1)) as T;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = clipStrings(x, max, depth + 1);
  return out as T;
}

/** true when a value holds a string longer than `max` (most events do not: no copy for them) */
function hasLong(v: unknown, max: number, depth = 0): boolean {
  if (typeof v === 'string') return v.length > max;
  if (v === null || typeof v !== 'object' || depth > 6) return false;
  for (const x of Array.isArray(v) ? v : Object.values(v)) if (hasLong(x, max, depth + 1)) return true;
  return false;
}

export interface EventPage {
  /** oldest first */
  events: StoredEvent[];
  /** pass as `before` for the older page; null when these are the oldest */
  before: number | null;
}

/**
 * The newest events of `all` (a session's events, oldest first) with seq < `before`: at most
 * `limit`, and at most `eventBytes` of JSON (one at least), long strings cut.
 */
export function pageEvents(
  all: readonly StoredEvent[],
  before: number | undefined,
  limit: number,
  maxBytes = DETAIL_LIMITS.eventBytes,
): EventPage {
  let end = all.length;
  if (before !== undefined) {
    // the first index with seq >= before (seqs ascend)
    let lo = 0;
    let hi = all.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((all[mid] as StoredEvent).seq < before) lo = mid + 1;
      else hi = mid;
    }
    end = lo;
  }
  const out: StoredEvent[] = [];
  let bytes = 0;
  let i = end - 1;
  for (; i >= 0 && out.length < limit; i--) {
    const s = all[i] as StoredEvent;
    const e = hasLong(s.event, DETAIL_LIMITS.stringChars) ? { seq: s.seq, event: clipStrings(s.event) } : s;
    const size = JSON.stringify(e).length;
    if (out.length && bytes + size > maxBytes) break;
    out.push(e);
    bytes += size;
  }
  out.reverse();
  const first = out[0];
  return { events: out, before: i >= 0 && first ? first.seq : null };
}

/**
 * The state with its newest `keep` tool calls (a contiguous tail; older ones still running are
 * kept too, so live outputs find them) and long strings cut.
 */
export function boundState(s: SessionState, keep: number): SessionState {
  let tools: ToolCallState[] = s.tools;
  if (s.tools.length > keep) {
    const from = s.tools.length - keep;
    tools = s.tools.filter((t, i) => i >= from || t.status === 'running');
  }
  return clipStrings({ ...s, tools }, DETAIL_LIMITS.stateChars);
}

/** index (in the session's tool list) of the oldest tool of the tail `boundState` keeps; null when all are kept */
export function toolsBefore(s: SessionState, keep: number): number | null {
  return s.tools.length > keep ? s.tools.length - keep : null;
}

/** at most `max` points, evenly spread; the first and the last kept */
export function thinSeries(series: TokenPoint[], max = DETAIL_LIMITS.tokenPoints): TokenPoint[] {
  if (series.length <= max) return series;
  const out: TokenPoint[] = [];
  const step = (series.length - 1) / (max - 1);
  for (let i = 0; i < max; i++) out.push(series[Math.round(i * step)] as TokenPoint);
  return out;
}

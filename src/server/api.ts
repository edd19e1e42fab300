/** The JSON API the dashboard (and scripts) read: sessions, one session, event history. */
import { Hono } from 'hono';
import type { SessionState, SessionStatus, TrackerLimits } from '../model/session.js';
import { rootVia } from '../model/state.js';
import type { Pipeline } from '../pipeline.js';
import type { EventStore } from '../store/event-store.js';
import { jsonError } from './errors.js';
import { SESSION_STATUSES } from './health.js';
import {
  boundState,
  clipStrings,
  DETAIL_LIMITS,
  pageEvents,
  thinSeries,
  toolsBefore,
} from './session-detail.js';
import { DEFAULT_PAGE, decodeCursor, MAX_PAGE, pageSessions, totalsOf } from './session-list.js';
import {
  eventTokens,
  type SessionDetail,
  type SessionEventsPage,
  type SessionsPage,
  type SessionToolsPage,
  type SessionTreeNode,
  type TokenPoint,
  toSummary,
} from './summary.js';

const MAX_EVENTS_PAGE = 1000;
const MAX_TREE_DEPTH = 32;

export const DEFAULT_LIMITS: TrackerLimits = {
  maxStatusLines: 15,
  idleTimeoutMs: 60_000,
  maxSessionDurationMs: 1_800_000,
  stuckAfterMs: 300_000,
};

export function createApiRoutes(deps: {
  pipeline: Pipeline;
  store: EventStore;
  now: () => number;
  limits?: TrackerLimits;
}): Hono {
  const { pipeline, store, now } = deps;
  const limits = deps.limits ?? DEFAULT_LIMITS;
  const api = new Hono();

  /** a whole number query parameter in 1..max (or 0.. with `min`), undefined when absent */
  const intParam = (raw: string | undefined, max: number, min = 1): number | undefined | Error => {
    if (raw === undefined) return undefined;
    if (!/^\d{1,15}$/.test(raw) || Number(raw) < min || Number(raw) > max) return new Error(raw);
    return Number(raw);
  };

  // a page of the list (`session-list.ts`); without `limit` the first DEFAULT_PAGE rows
  api.get('/sessions', (c) => {
    const status = c.req.query('status');
    const statuses = status ? status.split(',') : undefined;
    if (statuses?.some((s) => !SESSION_STATUSES.includes(s as SessionStatus))) {
      return jsonError(
        c,
        400,
        'bad_request',
        `status must be a comma list of ${SESSION_STATUSES.join(', ')}`,
      );
    }
    const limit = intParam(c.req.query('limit'), MAX_PAGE);
    if (limit instanceof Error) return jsonError(c, 400, 'bad_request', `limit must be 1..${MAX_PAGE}`);
    const rawCursor = c.req.query('cursor');
    const after = rawCursor ? decodeCursor(rawCursor) : undefined;
    if (rawCursor && !after) {
      return jsonError(c, 400, 'bad_request', 'cursor must be the nextCursor of an earlier page');
    }
    const t = now();
    const briefs = pipeline.tracker.briefs();
    const query = {
      statuses: statuses as SessionStatus[] | undefined,
      agent: c.req.query('agent') || undefined,
      host: c.req.query('host') || undefined,
      gateway: c.req.query('gateway') || undefined,
      q: c.req.query('q') || undefined,
    };
    const page = pageSessions(briefs, query, limit ?? DEFAULT_PAGE, after, t);
    const body: SessionsPage = { now: t, ...page, totals: totalsOf(briefs) };
    return c.json(body);
  });

  api.get('/sessions/:key', (c) => {
    const key = c.req.param('key');
    const limit = intParam(c.req.query('limit'), DETAIL_LIMITS.maxEvents);
    const before = intParam(c.req.query('before'), Number.MAX_SAFE_INTEGER);
    if (limit instanceof Error || before instanceof Error) {
      return jsonError(
        c,
        400,
        'bad_request',
        `before must be a sequence number, limit 1..${DETAIL_LIMITS.maxEvents}`,
      );
    }
    // a session that left the live model (finished long ago) is read from its stored snapshot
    const get = (k: string) => pipeline.tracker.get(k) ?? store.loadSnapshot(k);
    const session = get(key);
    if (!session) return jsonError(c, 404, 'not_found', 'no such session');
    const t = now();
    const seen = new Set<string>();
    const states: SessionState[] = [];
    const toolTotals: Record<string, number> = {};
    // the session's own state first: it is always among the full states sent
    const addState = (s: SessionState) => {
      if (states.length >= DETAIL_LIMITS.treeStates) return;
      const keep = s.key === key ? DETAIL_LIMITS.tools : DETAIL_LIMITS.treeTools;
      states.push(boundState(s, keep));
      if (s.tools.length > keep) toolTotals[s.key] = s.tools.length;
    };
    addState(session);
    const tree = (k: string, depth: number): SessionTreeNode | undefined => {
      const s = get(k);
      if (!s || seen.has(k) || seen.size >= DETAIL_LIMITS.treeNodes) return undefined;
      seen.add(k);
      if (k !== key) addState(s);
      const children =
        depth >= MAX_TREE_DEPTH
          ? []
          : s.children.map((ck) => tree(ck, depth + 1)).filter((n): n is SessionTreeNode => !!n);
      return { summary: toSummary(s, t), children };
    };
    const root = pipeline.tracker.rootOf(key) ?? rootVia(session, get);
    const all = store.readSession(key);
    const tokenSeries: TokenPoint[] = [];
    let tokens = 0;
    let cost = 0;
    for (const { event } of all) {
      if (event.type !== 'llm.tokens') continue;
      tokens += eventTokens(event);
      cost += event.costUsd;
      tokenSeries.push({ ts: event.ts, tokens, costUsd: cost });
    }
    const page = pageEvents(all, before, limit ?? DETAIL_LIMITS.events);
    const bounded = states[0] as SessionState;
    const body: SessionDetail = {
      session: bounded,
      summary: toSummary(session, t),
      tree: tree(root.key, 0) ?? { summary: toSummary(session, t), children: [] },
      states,
      tokenSeries: thinSeries(tokenSeries),
      events: page.events,
      eventsBefore: page.before,
      toolsBefore: toolsBefore(session, DETAIL_LIMITS.tools),
      toolTotals,
      now: t,
      lastSeq: store.lastSeq(),
      limits,
    };
    return c.json(body);
  });

  // older pages of one session's events: `before` = the `eventsBefore` / `before` of the last page
  api.get('/sessions/:key/events', (c) => {
    const key = c.req.param('key');
    const limit = intParam(c.req.query('limit'), DETAIL_LIMITS.maxEvents);
    const before = intParam(c.req.query('before'), Number.MAX_SAFE_INTEGER);
    if (limit instanceof Error || before instanceof Error) {
      return jsonError(
        c,
        400,
        'bad_request',
        `before must be a sequence number, limit 1..${DETAIL_LIMITS.maxEvents}`,
      );
    }
    if (!pipeline.tracker.get(key) && !store.loadSnapshot(key)) {
      return jsonError(c, 404, 'not_found', 'no such session');
    }
    const page = pageEvents(store.readSession(key), before, limit ?? DETAIL_LIMITS.events);
    const body: SessionEventsPage = { events: page.events, before: page.before };
    return c.json(body);
  });

  // one session's tool calls by index in its list (oldest first): `before` = the detail's `toolsBefore`
  api.get('/sessions/:key/tools', (c) => {
    const key = c.req.param('key');
    const limit = intParam(c.req.query('limit'), DETAIL_LIMITS.maxToolsPage);
    const before = intParam(c.req.query('before'), Number.MAX_SAFE_INTEGER, 0);
    if (limit instanceof Error || before instanceof Error) {
      return jsonError(
        c,
        400,
        'bad_request',
        `before must be an index, limit 1..${DETAIL_LIMITS.maxToolsPage}`,
      );
    }
    const s = pipeline.tracker.get(key) ?? store.loadSnapshot(key);
    if (!s) return jsonError(c, 404, 'not_found', 'no such session');
    const end = Math.min(before ?? s.tools.length, s.tools.length);
    const from = Math.max(0, end - (limit ?? DETAIL_LIMITS.tools));
    const body: SessionToolsPage = {
      total: s.tools.length,
      tools: clipStrings(s.tools.slice(from, end), DETAIL_LIMITS.stateChars),
      before: from > 0 ? from : null,
    };
    return c.json(body);
  });

  api.get('/events', (c) => {
    const afterRaw = c.req.query('after') ?? '0';
    const limitRaw = c.req.query('limit') ?? '100';
    if (!/^\d{1,15}$/.test(afterRaw) || !/^\d{1,6}$/.test(limitRaw) || Number(limitRaw) < 1) {
      return jsonError(c, 400, 'bad_request', `after must be a sequence number, limit 1..${MAX_EVENTS_PAGE}`);
    }
    const after = Number(afterRaw);
    const limit = Math.min(MAX_EVENTS_PAGE, Number(limitRaw));
    const events = store.readAfter(after, limit);
    const last = events[events.length - 1];
    const lastSeq = store.lastSeq();
    return c.json({
      events,
      /** pass as `after` for the next page; null when this page reached the end */
      nextAfter: last && last.seq < lastSeq ? last.seq : null,
      lastSeq,
    });
  });

  api.all('*', (c) => jsonError(c, 404, 'not_found', 'no such API route'));
  return api;
}

/**
 * The session list in pages: `/api/sessions` and the SSE snapshot's first page.
 *
 * One order for every page: problems first (stuck, error), then active, idle, interrupted, done
 * (the dashboard's order), newest last event first within each, the key breaking ties. A cursor
 * names the last row a page gave (its rank, last event time and key), so the next page starts
 * right after it wherever that row is now: rows that did not change are never given twice or
 * skipped while others come and go; one that changed moves, and the stream tells the client.
 */
import type { SessionStatus } from '../model/session.js';
import type { SessionBrief } from '../model/summary.js';
import { type SessionSummary, type SessionTotals, summaryOf } from './summary.js';

export const LIST_RANK: Record<SessionStatus, number> = {
  stuck: 0,
  error: 1,
  active: 2,
  idle: 3,
  interrupted: 4,
  done: 5,
};

/** rows per page when the client does not say: 10k sessions are not one 4 MB answer */
export const DEFAULT_PAGE = 200;
export const MAX_PAGE = 1000;

export interface SessionQuery {
  statuses?: readonly SessionStatus[];
  agent?: string;
  host?: string;
  gateway?: string;
  /** words anywhere in the key, label, agent, host, gateway, channel, last line or model */
  q?: string;
}

interface Position {
  r: number;
  t: number;
  k: string;
}

const rankOf = (b: SessionBrief): number => LIST_RANK[b.status] ?? 9;

function compare(a: Position, b: Position): number {
  return a.r - b.r || b.t - a.t || (a.k < b.k ? -1 : a.k > b.k ? 1 : 0);
}

const positionOf = (b: SessionBrief): Position => ({ r: rankOf(b), t: b.lastEventAt, k: b.key });

export function encodeCursor(b: SessionBrief): string {
  const p = positionOf(b);
  return Buffer.from(JSON.stringify([p.r, p.t, p.k])).toString('base64url');
}

/** the position a cursor names; undefined when it is not one of ours */
export function decodeCursor(cursor: string): Position | undefined {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(v) || v.length !== 3) return undefined;
    const [r, t, k] = v as unknown[];
    if (typeof r !== 'number' || typeof t !== 'number' || typeof k !== 'string') return undefined;
    return { r, t, k };
  } catch {
    return undefined;
  }
}

export function matchesQuery(b: SessionBrief, q: SessionQuery, needle = q.q?.trim().toLowerCase()): boolean {
  if (q.statuses && !q.statuses.includes(b.status)) return false;
  if (q.agent && b.agentId !== q.agent) return false;
  if (q.host && b.host !== q.host) return false;
  if (q.gateway && b.gateway !== q.gateway) return false;
  if (!needle) return true;
  const hay = `${b.key} ${b.label ?? ''} ${b.displayName ?? ''} ${b.agentId} ${b.host ?? ''} ${b.gateway ?? ''} ${b.channel?.provider ?? ''} ${b.channel?.channelId ?? ''} ${b.lastText ?? ''} ${b.model ?? ''}`;
  return hay.toLowerCase().includes(needle);
}

export interface ListPage {
  sessions: SessionSummary[];
  nextCursor: string | null;
  total: number;
}

/** one page of the sessions matching `query`, after `after` (a decoded cursor) */
export function pageSessions(
  briefs: readonly SessionBrief[],
  query: SessionQuery,
  limit: number,
  after: Position | undefined,
  now: number,
): ListPage {
  const needle = query.q?.trim().toLowerCase();
  const matched: Array<{ b: SessionBrief; p: Position }> = [];
  let total = 0;
  for (const b of briefs) {
    if (!matchesQuery(b, query, needle)) continue;
    total++;
    const p = positionOf(b);
    if (after && compare(p, after) <= 0) continue;
    matched.push({ b, p });
  }
  matched.sort((x, y) => compare(x.p, y.p));
  const page = matched.slice(0, limit);
  const last = page[page.length - 1];
  return {
    sessions: page.map((m) => summaryOf(m.b, now)),
    nextCursor: last && matched.length > limit ? encodeCursor(last.b) : null,
    total,
  };
}

/** counts over every session of the live model */
export function totalsOf(briefs: readonly SessionBrief[]): SessionTotals {
  const byStatus: SessionTotals['byStatus'] = {};
  const agents = new Set<string>();
  const hosts = new Set<string>();
  const gateways = new Set<string>();
  let tokens = 0;
  let costUsd = 0;
  let costEstimated = false;
  let running = 0;
  for (const b of briefs) {
    byStatus[b.status] = (byStatus[b.status] ?? 0) + 1;
    tokens += b.tokens.total;
    costUsd += b.costUsd;
    if (b.costEstimated) costEstimated = true;
    if (b.status === 'active' || b.status === 'stuck') running++;
    agents.add(b.agentId);
    if (b.host !== undefined) hosts.add(b.host);
    if (b.gateway !== undefined) gateways.add(b.gateway);
  }
  return {
    sessions: briefs.length,
    byStatus,
    tokens,
    costUsd,
    ...(costEstimated ? { costEstimated: true as const } : {}),
    running,
    agents: [...agents].sort(),
    hosts: [...hosts].sort(),
    gateways: [...gateways].sort(),
  };
}

const LIVE: ReadonlySet<SessionStatus> = new Set(['active', 'idle', 'stuck']);

/**
 * The SSE snapshot's sessions: every live one (they change under the user's eyes) and the first
 * page of the list; `nextCursor` goes on where that page ends.
 */
export function snapshotSessions(
  briefs: readonly SessionBrief[],
  limit: number,
  now: number,
): ListPage & { totals: SessionTotals } {
  const first = pageSessions(briefs, {}, limit, undefined, now);
  const inPage = new Set(first.sessions.map((s) => s.key));
  for (const b of briefs)
    if (LIVE.has(b.status) && !inPage.has(b.key)) first.sessions.push(summaryOf(b, now));
  return { ...first, totals: totalsOf(briefs) };
}

/**
 * The shapes the HTTP API and the SSE stream send, shared with the dashboard (ui/ imports
 * these types). Keep this file free of Node imports: the browser bundle type-checks against it.
 */
import type { PulseEvent, SessionChannel, StoredEvent } from '../model/events.js';
import { formatDuration } from '../model/format.js';
import type { SessionState, SessionStatus, ToolCallState, TrackerLimits } from '../model/session.js';
import { briefOf, type SessionBrief } from '../model/summary.js';

/** One session as the list shows it: small, so a change costs a few hundred bytes on the wire. */
export interface SessionSummary {
  key: string;
  agentId: string;
  label?: string;
  /** the gateway it lives on, when clawpulse follows several */
  gateway?: string;
  /** the host whose daemon follows it (the fleet view) */
  host?: string;
  status: SessionStatus;
  startedAt: number;
  /** start of the current turn; elapsed counts from here */
  activeSince?: number;
  endedAt?: number;
  lastEventAt: number;
  /** elapsed ms as of the server's `now` (the UI keeps it ticking from there) */
  elapsed: number;
  tokens: number;
  costUsd: number;
  /** present (and true) only when part of the cost was priced from the price table: shown "~$0.42 est." */
  costEstimated?: true;
  channel?: SessionChannel;
  parentKey?: string;
  children: number;
  model?: string;
  note?: string;
  /** newest narration line, for the list preview */
  lastText?: string;
  /** name of the tool running now, if any */
  runningTool?: string;
  toolCalls: number;
  toolErrors: number;
  errors: number;
  /** the newest error message (run, model or tool), for the list */
  lastError?: string;
}

export function toSummary(s: SessionState, now: number): SessionSummary {
  return summaryOf(briefOf(s), now);
}

/** the list's summary of a brief (`src/model/summary.ts`) as of `now` */
export function summaryOf(b: SessionBrief, now: number): SessionSummary {
  // as the status boxes count it (render/format.ts elapsedMs): to the end, to now while it
  // runs, else to the last event
  const from = b.activeSince ?? b.startedAt;
  const end = b.endedAt ?? (b.status === 'active' || b.status === 'stuck' ? now : b.lastEventAt);
  return {
    key: b.key,
    agentId: b.agentId,
    label: b.label ?? b.displayName,
    gateway: b.gateway,
    host: b.host,
    status: b.status,
    startedAt: b.startedAt,
    activeSince: b.activeSince,
    endedAt: b.endedAt,
    lastEventAt: b.lastEventAt,
    elapsed: Math.max(0, end - from),
    tokens: b.tokens.total,
    costUsd: b.costUsd,
    ...(b.costEstimated ? { costEstimated: true as const } : {}),
    channel: b.channel,
    parentKey: b.parentKey,
    children: b.children.length,
    model: b.model,
    note: b.status === 'stuck' ? stuckNote(b.note, now - b.lastEventAt) : b.note,
    lastText: b.lastText,
    runningTool: b.runningTool,
    toolCalls: b.toolCalls,
    toolErrors: b.toolErrors,
    errors: b.errors,
    lastError: b.lastError,
  };
}

/** What the whole live model holds (every session, not just a page): the header's counts and the filters' choices. */
export interface SessionTotals {
  sessions: number;
  byStatus: Partial<Record<SessionStatus, number>>;
  tokens: number;
  costUsd: number;
  /** present (and true) only when some session's cost was priced from the price table */
  costEstimated?: true;
  /** active or stuck */
  running: number;
  agents: string[];
  hosts: string[];
  gateways: string[];
}

/** `GET /api/sessions?limit=&cursor=&status=&agent=&host=&gateway=&q=` */
export interface SessionsPage {
  now: number;
  /** in list order: problems first (stuck, error), then active, idle, interrupted, done; newest first within each */
  sessions: SessionSummary[];
  /** pass as `cursor` for the next page; null when this page reached the end */
  nextCursor: string | null;
  /** sessions matching the filters */
  total: number;
  totals: SessionTotals;
}

const QUIET = /^no activity for \S+/;

/**
 * A stuck note says how long the session has been quiet as of when it went stuck ("no activity
 * for 5m00s"); as of `quietMs` (now minus the last event) it says the real age, which keeps
 * growing. The dashboard calls this on every tick with its own clock.
 */
export function stuckNote(note: string | undefined, quietMs: number): string {
  const age = `no activity for ${formatDuration(quietMs)}`;
  if (!note) return age;
  return QUIET.test(note) ? note.replace(QUIET, age) : note;
}

/** One point of a session's token/cost curve (cumulative). */
export interface TokenPoint {
  ts: number;
  tokens: number;
  costUsd: number;
}

/**
 * One session's detail (`GET /api/sessions/:key[?before=<seq>&limit=]`), bounded whatever the
 * session holds (`session-detail.ts`): long strings are cut, a state's `tools` are its newest
 * ones (the count is in `toolTotals`, older ones from `/api/sessions/:key/tools`), the events
 * are one page.
 */
export interface SessionDetail {
  session: SessionState;
  summary: SessionSummary;
  /** the session's root and its descendants (up to 500), as summaries */
  tree: SessionTreeNode;
  /** full states (the session first, then the rest of its tree, up to 50), for the nested status box */
  states: SessionState[];
  /** the cumulative token curve (up to 500 points, thinned evenly) */
  tokenSeries: TokenPoint[];
  /** a page of the session's events, newest first unless `before` was given (oldest first) */
  events: StoredEvent[];
  /** pass as `before` (here or to /api/sessions/:key/events) for older events; null when none */
  eventsBefore: number | null;
  /** index in the session's tool list of the oldest tool in `session.tools` (see /tools); null when it has them all */
  toolsBefore: number | null;
  /** how many tool calls a state holds, for those whose `tools` here are only the newest */
  toolTotals: Record<string, number>;
  now: number;
  /** the store's last seq when this was read: the states include every event up to it */
  lastSeq: number;
  /** the model's limits: the dashboard applies live events to its copy with the same caps */
  limits: TrackerLimits;
}

/** `GET /api/sessions/:key/events?before=<seq>&limit=` */
export interface SessionEventsPage {
  /** oldest first */
  events: StoredEvent[];
  /** pass as `before` for the page before this one; null when these are the oldest */
  before: number | null;
}

/** `GET /api/sessions/:key/tools?before=<index>&limit=`: tool calls by index in the session's list */
export interface SessionToolsPage {
  total: number;
  /** oldest first */
  tools: ToolCallState[];
  /** pass as `before` for the calls before these; null when these are the oldest */
  before: number | null;
}

export interface SessionTreeNode {
  summary: SessionSummary;
  children: SessionTreeNode[];
}

/** SSE messages (the `event:` name → the JSON in `data:`). */
export interface SnapshotMessage {
  now: number;
  lastSeq: number;
  /** every live session (active, idle, stuck) and the first page of the list; the rest from /api/sessions */
  sessions: SessionSummary[];
  /** `cursor` for /api/sessions: the page after the snapshot's first one; null when it holds them all */
  nextCursor?: string | null;
  totals?: SessionTotals;
  /** the newest events, oldest first, to fill the live feed */
  recent: StoredEvent[];
}
export interface PulseMessage {
  seq: number;
  event: PulseEvent;
}
export interface SessionsMessage {
  now: number;
  sessions: SessionSummary[];
  /** sessions that left the live view (finished long ago; the API still finds them in the store) */
  removed?: string[];
  /** the whole model's counts after these changes */
  totals?: SessionTotals;
}
/** sent when a resume asked for more history than the server replays */
export interface GapMessage {
  from: number;
  to: number;
}

/** Tokens from one llm.tokens event, the way the tracker totals them. */
export function eventTokens(e: PulseEvent): number {
  if (e.type !== 'llm.tokens') return 0;
  return e.input + e.output + e.cacheRead + e.cacheWrite + e.reasoning;
}

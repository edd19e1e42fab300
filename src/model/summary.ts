/**
 * A session's brief: what every list needs of it (the dashboard list, /api/sessions, the SSE
 * snapshot, Mattermost's marks, the CLI's tables), without its lines, tools and errors.
 *
 * The tracker keeps finished, quiet sessions as briefs only (`tracker-summaries.ts`): a whole
 * state is ~17 KB in memory, a brief a few hundred bytes. The detail comes from the store's
 * snapshot when asked, and a new event brings the whole state back.
 *
 * Plain data, no Node imports: the server's summaries (and so the browser bundle) build on it.
 */
import type { SessionChannel } from './events.js';
import type { SessionState, SessionStatus, TokenTotals } from './session.js';

export interface SessionBrief {
  key: string;
  gateway?: string;
  host?: string;
  sessionId?: string;
  agentId: string;
  label?: string;
  displayName?: string;
  parentKey?: string;
  /** child session keys in spawn order */
  children: string[];
  channel?: SessionChannel;
  status: SessionStatus;
  startedAt: number;
  endedAt?: number;
  lastEventAt: number;
  updatedAt?: number;
  runs: number;
  lastOutcome?: 'ok' | 'error' | 'aborted';
  tokens: TokenTotals;
  costUsd: number;
  /** part of the cost was priced from the price table (the source gave none) */
  costEstimated?: boolean;
  model?: string;
  provider?: string;
  compactions: number;
  note?: string;
  activeSince?: number;
  /** newest narration (text or system line) */
  lastText?: string;
  /** name of the tool running now, if any */
  runningTool?: string;
  toolCalls: number;
  toolErrors: number;
  errors: number;
  /** the newest error message (run, model or tool) */
  lastError?: string;
}

/** the brief of a whole state (one pass over its lines and tools) */
export function briefOf(s: SessionState): SessionBrief {
  let lastText: string | undefined;
  for (let i = s.lines.length - 1; i >= 0; i--) {
    const l = s.lines[i];
    if (l && (l.kind === 'text' || l.kind === 'system')) {
      lastText = l.text;
      break;
    }
  }
  let running: string | undefined;
  let toolErrors = 0;
  let lastToolError: string | undefined;
  for (const t of s.tools) {
    if (t.status === 'running') running = t.name;
    else if (t.status === 'error') {
      toolErrors++;
      lastToolError = t.error ? `${t.name}: ${t.error}` : undefined;
    }
  }
  return {
    key: s.key,
    gateway: s.gateway,
    host: s.host,
    sessionId: s.sessionId,
    agentId: s.agentId,
    label: s.label,
    displayName: s.displayName,
    parentKey: s.parentKey,
    children: [...s.children],
    channel: s.channel,
    status: s.status,
    startedAt: s.startedAt,
    endedAt: s.endedAt,
    lastEventAt: s.lastEventAt,
    updatedAt: s.updatedAt,
    runs: s.runs,
    lastOutcome: s.lastOutcome,
    tokens: { ...s.tokens },
    costUsd: s.costUsd,
    ...(s.costEstimated ? { costEstimated: true } : {}),
    model: s.model,
    provider: s.provider,
    compactions: s.compactions,
    note: s.note,
    activeSince: s.activeSince,
    lastText,
    runningTool: running,
    toolCalls: s.tools.length,
    toolErrors,
    errors: s.errors.length,
    lastError: s.errors[s.errors.length - 1]?.message ?? lastToolError,
  };
}

/**
 * A whole state standing in for a brief whose stored state is gone (the store lost its
 * snapshot): the list's facts are kept, the lines, tools and errors are not.
 */
export function stateFromBrief(b: SessionBrief): SessionState {
  return {
    key: b.key,
    gateway: b.gateway,
    host: b.host,
    sessionId: b.sessionId,
    agentId: b.agentId,
    label: b.label,
    displayName: b.displayName,
    parentKey: b.parentKey,
    children: [...b.children],
    channel: b.channel,
    status: b.status,
    startedAt: b.startedAt,
    endedAt: b.endedAt,
    lastEventAt: b.lastEventAt,
    updatedAt: b.updatedAt,
    runs: b.runs,
    lastOutcome: b.lastOutcome,
    runOpen: false,
    lines: [],
    tools: [],
    tokens: { ...b.tokens },
    costUsd: b.costUsd,
    ...(b.costEstimated ? { costEstimated: true } : {}),
    errors: [],
    model: b.model,
    provider: b.provider,
    compactions: b.compactions,
    note: b.note,
    activeSince: b.activeSince,
  };
}

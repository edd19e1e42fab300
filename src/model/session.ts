/**
 * The live model of one session, as the SessionTracker keeps it and every output reads it.
 * Plain data (JSON-serialisable) so it can be snapshotted to the store and sent over SSE.
 */
import type { SessionChannel } from './events.js';

export type SessionStatus = 'active' | 'idle' | 'done' | 'error' | 'interrupted' | 'stuck';

export type ToolStatus = 'running' | 'ok' | 'error';

export interface ToolCallState {
  callId: string;
  runId: string;
  name: string;
  /** short argument summary, e.g. the exec command */
  args?: string;
  status: ToolStatus;
  startedAt: number;
  endedAt?: number;
  durationMs?: number;
  error?: string;
}

/**
 * One line of the status box. `tool` lines point at their tool call so the box shows its
 * live status ([OK]/[ERR]/running); `subagent` lines point at the child, whose own box is
 * rendered nested at that place.
 */
export type StatusLine =
  | { kind: 'text'; text: string; ts: number }
  | { kind: 'tool'; callId: string; runId: string; ts: number }
  | { kind: 'subagent'; childKey: string; ts: number }
  | { kind: 'system'; text: string; ts: number };

export interface TokenTotals {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  reasoning: number;
  /** input + output + cacheRead + cacheWrite (+ reasoning when reported apart) */
  total: number;
}

export interface SessionError {
  ts: number;
  message: string;
  /** e.g. 529 */
  status?: number;
  retryable?: boolean;
  runId?: string;
}

export interface SessionState {
  /** the model's key: OpenClaw's session key, scoped by host and/or gateway when there are several (`session-scope.ts`) */
  key: string;
  /** the gateway it lives on, when clawpulse follows several (OPENCLAW_GATEWAYS) */
  gateway?: string;
  /** the host whose daemon follows it, in a fleet view of a shared store */
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
  /** set when the session reaches done/error/interrupted/stopped; cleared on reactivation */
  endedAt?: number;
  /** last event time (any event), drives idle/done/stuck */
  lastEventAt: number;
  /** sessions.json / row updatedAt as last seen */
  updatedAt?: number;
  currentRunId?: string;
  /** runs seen (agent.started count) */
  runs: number;
  /** outcome of the last finished run */
  lastOutcome?: 'ok' | 'error' | 'aborted';
  /** true while a run is open (agent.started without agent.finished) */
  runOpen: boolean;
  /** status box lines, capped at MAX_STATUS_LINES (oldest dropped) */
  lines: StatusLine[];
  /** every tool call of the session (not capped by the line cap) */
  tools: ToolCallState[];
  tokens: TokenTotals;
  costUsd: number;
  /** part of costUsd was priced by clawpulse (the source gave no cost): shown as an estimate */
  costEstimated?: boolean;
  /** the session's working directory (transcript header `cwd`) */
  cwd?: string;
  errors: SessionError[];
  model?: string;
  provider?: string;
  compactions: number;
  /** why the session is stuck/stopped, when it is */
  note?: string;
  /** start of the current activation (turn); startedAt stays the first-seen time */
  activeSince?: number;
  /** run stopped at the max session duration: its later events do not reopen the session */
  stoppedRunId?: string;
}

export interface TrackerLimits {
  maxStatusLines: number;
  idleTimeoutMs: number;
  maxSessionDurationMs: number;
  /** no event for this long while a run or a tool is open = stuck */
  stuckAfterMs: number;
  /** finished sessions quiet this long leave the live model (they stay in the store); 24 h */
  retainFinishedMs?: number;
}

export const emptyTokens = (): TokenTotals => ({
  input: 0,
  output: 0,
  cacheRead: 0,
  cacheWrite: 0,
  reasoning: 0,
  total: 0,
});

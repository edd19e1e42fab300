/**
 * The machine-readable replay/export view (`clawpulse replay --json`, tests): a fixed shape,
 * every key always present (null when unknown), sessions ordered by start then key.
 */
import type { SessionState, SessionStatus, TokenTotals, ToolStatus } from '../model/session.js';

export interface ReplaySession {
  sessionKey: string;
  sessionId: string | null;
  agentId: string;
  label: string | null;
  parentKey: string | null;
  status: SessionStatus;
  startedAt: number;
  endedAt: number | null;
  tools: Array<{ callId: string; runId: string; name: string; status: ToolStatus }>;
  tokens: TokenTotals;
  costUsd: number;
  /** present (true) only when part of costUsd was estimated from the price table (src/usage/estimate.ts) */
  costEstimated?: true;
  /** error messages, oldest first */
  errors: string[];
}

export interface ReplayJson {
  sessions: ReplaySession[];
}

/** float sums (0.1 + 0.2) are rounded so equal costs compare equal */
const roundCost = (x: number): number => Math.round(x * 1e9) / 1e9;

export function toReplayJson(sessions: Iterable<SessionState>): ReplayJson {
  const list = [...sessions].sort(
    (a, b) => a.startedAt - b.startedAt || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
  return {
    sessions: list.map((s) => ({
      sessionKey: s.key,
      sessionId: s.sessionId ?? null,
      agentId: s.agentId,
      label: s.label ?? null,
      parentKey: s.parentKey ?? null,
      status: s.status,
      startedAt: s.startedAt,
      endedAt: s.endedAt ?? null,
      tools: s.tools.map((t) => ({ callId: t.callId, runId: t.runId, name: t.name, status: t.status })),
      tokens: {
        input: s.tokens.input,
        output: s.tokens.output,
        cacheRead: s.tokens.cacheRead,
        cacheWrite: s.tokens.cacheWrite,
        reasoning: s.tokens.reasoning,
        total: s.tokens.total,
      },
      costUsd: roundCost(s.costUsd),
      ...(s.costEstimated ? { costEstimated: true as const } : {}),
      errors: s.errors.map((e) => e.message),
    })),
  };
}

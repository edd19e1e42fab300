/**
 * The read-only dispatch commands: status, heartbeat, result, stuck, list. Live data comes from
 * clawpulse's model (the daemon's, or the store's when none runs); the gateway fills in what the
 * model does not have, and a gateway that is down only leaves those fields out.
 */
import type { SessionState } from '../model/session.js';
import type { LabelEntry, LabelStatus } from '../store/dispatch-ledger.js';
import type { DispatchContext } from './context.js';
import { DispatchError } from './errors.js';
import { type GatewaySessionRow, lastReplyFromHistory, listSessions } from './gateway-ops.js';
import { spawnedAtMs } from './verdict.js';

export const ALIVE_WINDOW_MS = 10 * 60_000;

export interface LiveInfo {
  from: 'daemon' | 'store' | 'gateway';
  state?: string;
  model?: string;
  ageSeconds?: number;
  lastActivityAt?: string;
  tokens?: SessionState['tokens'] | number;
  costUsd?: number;
  currentTool?: string;
  runOpen?: boolean;
}

export function requireLabel(ctx: DispatchContext, label: string): LabelEntry {
  const e = ctx.ledger.get(label);
  if (!e)
    throw new DispatchError(
      `no label "${label}" in the dispatch ledger (clawpulse dispatch list shows them)`,
    );
  return e;
}

function fromModel(s: SessionState, from: 'daemon' | 'store', now: number): LiveInfo {
  const tool = [...s.tools].reverse().find((t) => t.status === 'running');
  return {
    from,
    state: s.status,
    model: s.model,
    ageSeconds: Math.round((now - s.lastEventAt) / 1000),
    lastActivityAt: new Date(s.lastEventAt).toISOString(),
    tokens: s.tokens,
    costUsd: s.costUsd,
    runOpen: s.runOpen,
    ...(tool ? { currentTool: tool.args ? `${tool.name}: ${tool.args}` : tool.name } : {}),
  };
}

function fromRow(r: GatewaySessionRow, now: number): LiveInfo {
  return {
    from: 'gateway',
    state: r.hasActiveRun ? 'active' : (r.status ?? 'idle'),
    model: r.model,
    ...(r.updatedAt
      ? {
          ageSeconds: Math.round((now - r.updatedAt) / 1000),
          lastActivityAt: new Date(r.updatedAt).toISOString(),
        }
      : {}),
    ...(typeof r.totalTokens === 'number' ? { tokens: r.totalTokens } : {}),
    ...(typeof r.estimatedCostUsd === 'number' ? { costUsd: r.estimatedCostUsd } : {}),
    runOpen: r.hasActiveRun,
  };
}

/** the model's view when the daemon runs; else the gateway's row; else the store's view */
export async function liveInfo(ctx: DispatchContext, key: string): Promise<LiveInfo | undefined> {
  const now = ctx.now();
  const s = await ctx.live.session(key).catch(() => undefined);
  if (s && ctx.live.origin === 'daemon') return fromModel(s, 'daemon', now);
  const row = await gatewayRow(ctx, key);
  if (row) return fromRow(row, now);
  return s ? fromModel(s, 'store', now) : undefined;
}

async function gatewayRow(ctx: DispatchContext, key: string): Promise<GatewaySessionRow | undefined> {
  try {
    return (await listSessions(await ctx.gateway())).find((r) => r.key === key);
  } catch {
    return undefined;
  }
}

export async function status(ctx: DispatchContext, label: string) {
  const e = requireLabel(ctx, label);
  return { ok: true as const, label, ...e, live: (await liveInfo(ctx, e.sessionKey)) ?? null };
}

export async function heartbeat(ctx: DispatchContext, o: { label?: string; sessionKey?: string }) {
  const e = o.label ? requireLabel(ctx, o.label) : undefined;
  const key = e?.sessionKey ?? o.sessionKey;
  if (!key) throw new DispatchError('--label or --session-key is required', 2);
  const live = await liveInfo(ctx, key);
  const age = live?.ageSeconds;
  return {
    ok: true as const,
    label: o.label ?? null,
    sessionKey: key,
    alive: age !== undefined && age * 1000 <= ALIVE_WINDOW_MS,
    lastActivityAt: live?.lastActivityAt ?? null,
    ageSeconds: age ?? null,
    status: e?.status ?? null,
    live: live ?? null,
  };
}

export async function result(ctx: DispatchContext, label: string) {
  const e = requireLabel(ctx, label);
  let lastReply = await ctx.live.lastReply(e.sessionKey, spawnedAtMs(e)).catch(() => undefined);
  let from: 'store' | 'gateway' | null = lastReply !== undefined ? 'store' : null;
  if (lastReply === undefined) {
    try {
      lastReply = await lastReplyFromHistory(await ctx.gateway(), e.sessionKey);
      if (lastReply !== undefined) from = 'gateway';
    } catch {
      // neither has it: said below
    }
  }
  return {
    ok: true as const,
    label,
    sessionKey: e.sessionKey,
    status: e.status,
    spawnedAt: e.spawnedAt,
    summary: e.summary ?? (lastReply ? lastReply.slice(0, 500) : null),
    lastReply: lastReply ?? null,
    from,
    error: e.error ?? null,
  };
}

export interface StuckLabel {
  label: string;
  sessionKey: string;
  agent: string;
  spawnedAt: string;
  ageMin: number;
  silenceMin: number;
  tool?: string;
  note?: string;
}

/**
 * Running labels whose run (or a tool of it) has had no event for the threshold, as the model
 * means stuck; a gateway that says the session has no active run clears it (it ended unseen).
 */
export async function stuck(ctx: DispatchContext, thresholdMin: number): Promise<StuckLabel[]> {
  const now = ctx.now();
  const out: StuckLabel[] = [];
  let rows: GatewaySessionRow[] | undefined;
  for (const { label, entry: e } of ctx.ledger.list({ status: 'running' })) {
    const s = await ctx.live.session(e.sessionKey).catch(() => undefined);
    if (!s) continue;
    const busy = s.runOpen || s.tools.some((t) => t.status === 'running');
    const silentMs = now - s.lastEventAt;
    if (!busy || silentMs < thresholdMin * 60_000) continue;
    rows ??= await ctx
      .gateway()
      .then((g) => listSessions(g))
      .catch(() => []);
    if (rows.find((r) => r.key === e.sessionKey)?.hasActiveRun === false) continue;
    const tool = [...s.tools].reverse().find((t) => t.status === 'running');
    out.push({
      label,
      sessionKey: e.sessionKey,
      agent: e.agent,
      spawnedAt: e.spawnedAt,
      ageMin: Math.round((now - spawnedAtMs(e)) / 60_000),
      silenceMin: Math.round(silentMs / 60_000),
      ...(tool ? { tool: tool.name } : {}),
      ...(s.note ? { note: s.note } : {}),
    });
  }
  return out;
}

/** labels.json's shape: an object keyed by label, most recent first */
export function list(
  ctx: DispatchContext,
  o: { status?: LabelStatus; limit?: number },
): Record<string, LabelEntry> {
  const out: Record<string, LabelEntry> = {};
  for (const { label, entry } of ctx.ledger.list(o)) out[label] = entry;
  return out;
}

/**
 * The gateway calls dispatch makes, typed, on whatever speaks the gateway protocol (the shared
 * connection in the daemon, a one-shot connection in the CLI, a fake in tests). Method params
 * follow OpenClaw's schemas (`../shared/research/openclaw-formats.md` §4 and the release's own
 * docs/gateway/protocol): those are closed objects, so we send only fields they declare.
 */
import { randomUUID } from 'node:crypto';

export interface GatewayCaller {
  request<T = unknown>(
    method: string,
    params: unknown,
    opts?: { timeoutMs?: number; expectFinal?: boolean; onAccepted?: (payload: unknown) => void },
  ): Promise<T>;
  /** whether hello-ok advertised the method; undefined when the gateway did not list methods */
  hasMethod(method: string): boolean | undefined;
}

/** a gateway error, as the connection reports it (GatewayRequestError) */
interface CodedError {
  code?: string;
  message: string;
}

export const newKey = (agent: string, uuid: () => string = randomUUID): string =>
  `agent:${agent}:subagent:${uuid()}`;

/** `agent:<agentId>:…` → agentId ('main' for anything else, as OpenClaw defaults) */
export function agentOfKey(key: string): string {
  const parts = key.split(':');
  return parts[0] === 'agent' && parts[1] ? parts[1] : 'main';
}

/** sets the model / thinking overrides of a session (creating its entry when new) */
export async function patchSession(
  gw: GatewayCaller,
  key: string,
  o: { model?: string | null; thinking?: string | null },
): Promise<void> {
  const params: Record<string, unknown> = { key };
  if (o.model) params.model = o.model;
  if (o.thinking) params.thinkingLevel = o.thinking === 'off' ? null : o.thinking;
  if (Object.keys(params).length === 1) return;
  await gw.request('sessions.patch', params, { timeoutMs: 15_000 });
}

export interface StartedRun {
  runId: string;
  idempotencyKey: string;
}

export interface TurnInput {
  sessionKey: string;
  message: string;
  thinking?: string | null;
  timeoutSeconds?: number;
  idempotencyKey?: string;
}

/** what `chat.send` and `agent` share: the session, the message, its key, no chat delivery */
function turnParams(o: TurnInput, idempotencyKey: string): Record<string, unknown> {
  const params: Record<string, unknown> = {
    sessionKey: o.sessionKey,
    message: o.message,
    idempotencyKey,
    deliver: false,
  };
  if (o.thinking && o.thinking !== 'off') params.thinking = o.thinking;
  return params;
}

const runIdOr = (res: { runId?: unknown } | undefined, fallback: string): string =>
  typeof res?.runId === 'string' ? res.runId : fallback;

/**
 * Starts a turn in a session, resolving once the gateway accepted it.
 *
 * Through `chat.send` where the gateway has it: OpenClaw 2026.9.6 injects a later steer
 * (`chat.send` with `queueMode: "steer"`) only into a run that `chat.send` started; into a run
 * started by `agent` the steer waits and becomes the next turn (seen against the real gateway,
 * test/conformance/dispatch.conformance.test.ts). `chat.send` also creates a new session key,
 * as `agent` does. A gateway without it (or refusing it as unknown) gets `agent`.
 */
export async function startRun(gw: GatewayCaller, o: TurnInput): Promise<StartedRun> {
  const idempotencyKey = o.idempotencyKey ?? randomUUID();
  if (gw.hasMethod('chat.send') !== false) {
    const params = turnParams(o, idempotencyKey);
    if (o.timeoutSeconds !== undefined) params.timeoutMs = o.timeoutSeconds * 1000;
    try {
      const res = await gw.request<{ runId?: string }>('chat.send', params, { timeoutMs: 30_000 });
      return { runId: runIdOr(res, idempotencyKey), idempotencyKey };
    } catch (err) {
      const e = err as CodedError;
      if (!(e.code === 'INVALID_REQUEST' && /unknown method/i.test(e.message))) throw err;
    }
  }
  return startAgentRun(gw, { ...o, idempotencyKey });
}

/**
 * A turn through the `agent` method. Also the follow-up for a steer on gateways whose chat.send
 * has no queueMode (2026.7): there a plain chat.send into a busy session did not reach the model
 * within 30 s against the real 2026.7.35 gateway, an `agent` turn did (conformance suite).
 */
export async function startAgentRun(gw: GatewayCaller, o: TurnInput): Promise<StartedRun> {
  const idempotencyKey = o.idempotencyKey ?? randomUUID();
  const params = turnParams(o, idempotencyKey);
  if (o.timeoutSeconds !== undefined) params.timeout = o.timeoutSeconds;
  // the first reply (status "accepted") is enough: the run goes on without us
  const res = await gw.request<{ runId?: string; status?: string }>('agent', params, { timeoutMs: 30_000 });
  return { runId: runIdOr(res, idempotencyKey), idempotencyKey };
}

export interface SteerResult {
  mode: 'steer' | 'followup';
  runId?: string;
}

const UNKNOWN_FIELD_RE =
  /queueMode|additional propert|unexpected propert|must NOT have additional|unknown (field|propert)/i;

/**
 * Gets a message to a session: on gateways whose `chat.send` takes `queueMode` (2026.9) it is
 * injected into the active run (or starts a turn when idle); older gateways reject the field,
 * and get a follow-up turn through `agent` instead.
 */
export async function steerSession(
  gw: GatewayCaller,
  sessionKey: string,
  message: string,
): Promise<SteerResult> {
  const idempotencyKey = randomUUID();
  if (gw.hasMethod('chat.send') !== false) {
    try {
      const res = await gw.request<{ runId?: string }>(
        'chat.send',
        { sessionKey, message, queueMode: 'steer', idempotencyKey },
        { timeoutMs: 30_000 },
      );
      return { mode: 'steer', runId: typeof res?.runId === 'string' ? res.runId : idempotencyKey };
    } catch (err) {
      const e = err as CodedError;
      if (!(e.code === 'INVALID_REQUEST' && UNKNOWN_FIELD_RE.test(e.message))) throw err;
    }
  }
  const run = await startAgentRun(gw, { sessionKey, message, idempotencyKey });
  return { mode: 'followup', runId: run.runId };
}

export interface AbortResult {
  method: 'sessions.abort' | 'chat.abort';
  runId?: string;
  aborted: boolean;
}

/** ends a session's active run: `sessions.abort` (2026.9, scoped to runId when known), else `chat.abort` */
export async function abortSession(
  gw: GatewayCaller,
  sessionKey: string,
  runId?: string,
): Promise<AbortResult> {
  const aborted = (p: unknown): boolean => {
    const o = p as { aborted?: unknown; ok?: unknown; abortedRunIds?: unknown } | undefined;
    if (typeof o?.aborted === 'boolean') return o.aborted;
    if (Array.isArray(o?.abortedRunIds)) return o.abortedRunIds.length > 0;
    return o?.ok !== false;
  };
  if (gw.hasMethod('sessions.abort') !== false) {
    try {
      const res = await gw.request(
        'sessions.abort',
        runId ? { key: sessionKey, runId } : { key: sessionKey },
      );
      return { method: 'sessions.abort', runId, aborted: aborted(res) };
    } catch (err) {
      // a gateway that did not list its methods and has no sessions.abort: try the older call
      if (gw.hasMethod('sessions.abort') === true || !/unknown method/i.test((err as CodedError).message))
        throw err;
    }
  }
  const res = await gw.request('chat.abort', runId ? { sessionKey, runId } : { sessionKey });
  return { method: 'chat.abort', runId, aborted: aborted(res) };
}

export interface GatewaySessionRow {
  key: string;
  label?: string;
  updatedAt?: number;
  model?: string;
  sessionId?: string;
  status?: string;
  hasActiveRun?: boolean;
  totalTokens?: number;
  estimatedCostUsd?: number;
  [k: string]: unknown;
}

export async function listSessions(gw: GatewayCaller, limit = 500): Promise<GatewaySessionRow[]> {
  const res = await gw.request<{ sessions?: unknown }>('sessions.list', { limit }, { timeoutMs: 15_000 });
  const rows = Array.isArray(res?.sessions) ? res.sessions : [];
  return rows.filter((r): r is GatewaySessionRow => typeof (r as { key?: unknown })?.key === 'string');
}

/** the text of the last assistant message of `chat.history` */
export async function lastReplyFromHistory(
  gw: GatewayCaller,
  sessionKey: string,
): Promise<string | undefined> {
  const res = await gw.request<{ messages?: unknown }>(
    'chat.history',
    { sessionKey, limit: 50 },
    { timeoutMs: 15_000 },
  );
  const messages = Array.isArray(res?.messages) ? res.messages : [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as { role?: unknown; content?: unknown; text?: unknown };
    if (m?.role !== 'assistant') continue;
    const text = messageText(m.content ?? m.text);
    if (text.trim()) return text;
  }
  return undefined;
}

/**
 * whether chat.history shows the agent did something since `sinceMs`: an assistant text, or a
 * tool that returned (a tool call still running, like the `done` call itself, does not count)
 */
export async function historyShowsActivity(
  gw: GatewayCaller,
  sessionKey: string,
  sinceMs: number,
): Promise<boolean> {
  const res = await gw.request<{ messages?: unknown }>(
    'chat.history',
    { sessionKey, limit: 50 },
    { timeoutMs: 15_000 },
  );
  const messages = Array.isArray(res?.messages) ? res.messages : [];
  return messages.some((raw) => {
    const m = raw as { role?: unknown; content?: unknown; text?: unknown; timestamp?: unknown } | null;
    if (!m || (typeof m.timestamp === 'number' && m.timestamp < sinceMs)) return false;
    if (m.role === 'assistant') return messageText(m.content ?? m.text).trim() !== '';
    return m.role === 'toolResult' || m.role === 'tool';
  });
}

function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((c) =>
      c && typeof c === 'object' && (c as { type?: unknown }).type === 'text'
        ? String((c as { text?: unknown }).text ?? '')
        : '',
    )
    .join('');
}

/** outbound delivery of a text to a channel target (`send`), idempotent on its key */
export async function deliverText(
  gw: GatewayCaller,
  o: { channel: string; to: string; message: string; idempotencyKey: string },
): Promise<unknown> {
  const params: Record<string, unknown> = {
    to: o.to,
    channel: o.channel,
    message: o.message,
    idempotencyKey: o.idempotencyKey,
  };
  return gw.request('send', params, { timeoutMs: 30_000 });
}

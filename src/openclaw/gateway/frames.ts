/**
 * OpenClaw gateway WebSocket framing (protocol v3/v4): JSON text frames of three kinds.
 *   request  {type:"req", id, method, params?}
 *   response {type:"res", id, ok, payload?, error?:{code, message, details?, retryable?, retryAfterMs?}}
 *   event    {type:"event", event, payload?, seq?}   (seq only on broadcasts)
 * Parsing is hand-rolled type guards rather than zod: every frame of a busy gateway passes
 * through here, and only the envelope is checked; payloads are read tolerantly by the mappers.
 */

export type Obj = Record<string, unknown>;

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
export const str = (v: unknown): string | undefined =>
  typeof v === 'string' && v.length > 0 ? v : undefined;
export const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;

export interface GatewayErrorShape {
  code?: string;
  message?: string;
  details?: unknown;
  retryable?: boolean;
  retryAfterMs?: number;
}

export interface EventFrame {
  type: 'event';
  event: string;
  payload: unknown;
  seq?: number;
}

export interface ResFrame {
  type: 'res';
  id: string;
  ok: boolean;
  payload?: unknown;
  error?: GatewayErrorShape;
}

export interface ReqFrame {
  type: 'req';
  id: string;
  method: string;
  params?: unknown;
}

export type GatewayFrame = EventFrame | ResFrame | ReqFrame;

export type ParsedFrame = { ok: true; frame: GatewayFrame } | { ok: false; error: string };

/** Parses one text frame; anything that is not a well-formed envelope comes back as an error. */
export function parseFrame(text: string): ParsedFrame {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `not JSON: ${(err as Error).message}` };
  }
  if (!isObj(raw)) return { ok: false, error: 'frame is not an object' };
  switch (raw.type) {
    case 'event': {
      const event = str(raw.event);
      if (!event) return { ok: false, error: 'event frame without event name' };
      const f: EventFrame = { type: 'event', event, payload: raw.payload };
      const seq = num(raw.seq);
      if (seq !== undefined) f.seq = seq;
      return { ok: true, frame: f };
    }
    case 'res': {
      const id = typeof raw.id === 'number' ? String(raw.id) : str(raw.id);
      if (!id || typeof raw.ok !== 'boolean') return { ok: false, error: 'response frame without id/ok' };
      const f: ResFrame = { type: 'res', id, ok: raw.ok, payload: raw.payload };
      if (isObj(raw.error)) f.error = readError(raw.error);
      return { ok: true, frame: f };
    }
    case 'req': {
      const id = str(raw.id);
      const method = str(raw.method);
      if (!id || !method) return { ok: false, error: 'request frame without id/method' };
      return { ok: true, frame: { type: 'req', id, method, params: raw.params } };
    }
    default:
      return { ok: false, error: `unknown frame type ${JSON.stringify(raw.type)?.slice(0, 40)}` };
  }
}

function readError(e: Obj): GatewayErrorShape {
  const out: GatewayErrorShape = {};
  const code = str(e.code) ?? (typeof e.code === 'number' ? String(e.code) : undefined);
  if (code) out.code = code;
  const message = str(e.message);
  if (message) out.message = message;
  if (e.details !== undefined) out.details = e.details;
  if (typeof e.retryable === 'boolean') out.retryable = e.retryable;
  const after = num(e.retryAfterMs);
  if (after !== undefined) out.retryAfterMs = after;
  return out;
}

export function requestFrame(id: string, method: string, params?: unknown): string {
  return JSON.stringify(
    params === undefined ? { type: 'req', id, method } : { type: 'req', id, method, params },
  );
}

const EVENT_PREFIX = '{"type":"event","event":"';
/** events that never become PulseEvents (they still count as activity for the tick watchdog) */
const NEVER_MAPPED = new Set([
  'tick',
  'health',
  'presence',
  'heartbeat',
  'talk.mode',
  'voicewake.changed',
  'skills.changed',
  'chat.metadata.changed',
  'update.available',
  'cron',
  'session.operation',
]);

/**
 * A cheap look at a frame before JSON.parse: true for event frames we would map to nothing
 * anyway (ticks, health, presence, non-sub-agent task updates: about a third of a busy
 * gateway's frames). Only frames in the gateway's own key order match; anything else is parsed.
 */
export function skippableEvent(text: string): boolean {
  if (!text.startsWith(EVENT_PREFIX)) return false;
  const end = text.indexOf('"', EVENT_PREFIX.length);
  if (end < 0) return false;
  const name = text.slice(EVENT_PREFIX.length, end);
  if (NEVER_MAPPED.has(name)) return true;
  // only sub-agent tasks reaching a final status are mapped (subagent.finished)
  if (name === 'task') return !text.includes('"subagent"');
  return false;
}

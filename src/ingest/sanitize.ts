/**
 * What an event may say, whatever source it comes from: one rule for the numbers and the sizes of
 * every event a source hands the pipeline (files, sqlite, gateway, otlp all call `events` on
 * their batch just before `sink.ingest`). Outside input is not trusted to be sane: a fuzzed
 * transcript timestamp of 1e308 became a session's `lastEventAt` and pinned it first in every
 * list, an OTLP `asInt` of 2^64 gave a session 1.8e19 tokens, and one 4 MB line was stored whole.
 *
 * The rules (`SANE`):
 *
 * - Time (`ts`, `session.seen.updatedAt`): from 2020-01-01 to a day past now. A `ts` outside is
 *   replaced by the receive time; an `updatedAt` outside is dropped (it is what decides that a
 *   finished session began a new turn: inventing one would reopen sessions). "Now" is the later
 *   of the source's clock and the wall clock, so a test clock does not make real data "future".
 * - Tokens (each count of an `llm.tokens`): a whole number from 0 to 100M. One model call never
 *   reads 100M tokens (the largest contexts are ~2M); a count past that, negative or not a number
 *   is dropped to 0 rather than clamped: a clamped count would still add 100M invented tokens to
 *   the session. A fraction is rounded.
 * - Cost (`costUsd`): 0 to $10,000 per event, else 0 (the same reasoning).
 * - Durations (`durationMs`, `ageMs`): 0 to 7 days, else the field is dropped (unknown).
 * - Small numbers (`step`, `spawnDepth`: whole, 0 to 1M; `llm.error.status`: 100-599): else dropped.
 * - Text (`assistant.text` 16 KiB; tool output, tool and run errors, model errors, notes 4 KiB;
 *   tool arguments 1 KiB; names, models, labels 256 characters): a longer one is cut and ends in
 *   `... [clipped N bytes]` (ASCII: a non-Latin-1 marker would make every stored chunk holding
 *   it a two-byte string, see CLIP_MARK in src/openclaw/summarize.ts).
 * - Identities (session keys, dedupe keys, run and call ids, channel ids: 512 characters): a
 *   longer one becomes its first characters plus `...#` and 16 hex digits of its SHA-256, so it
 *   stays unique and is the same every time it is seen (two sources, a restart).
 *
 * Each value replaced or dropped counts one anomaly (`anomalies`, per source in /health and
 * /metrics: `clawpulse_source_anomalies_total`). Clipped text is not an anomaly.
 *
 * Speed: this runs for every event of the file source (~1.6 µs a transcript line end to end), so
 * a sane event costs a few comparisons and string lengths; only a value that breaks a rule pays.
 */
import crypto from 'node:crypto';
import type { Logger } from '../infra/logger.js';
import type { PulseEvent, SessionChannel } from '../model/events.js';

const DAY = 86_400_000;

export const SANE = {
  /** 2020-01-01T00:00:00Z: nothing OpenClaw reports is older */
  minTs: Date.UTC(2020, 0, 1),
  /** how far past now a time may be (clock skew between hosts, time zones written as UTC) */
  futureMs: DAY,
  maxTokens: 100_000_000,
  maxCostUsd: 10_000,
  maxDurationMs: 7 * DAY,
  maxSmallInt: 1_000_000,
  /** assistant text */
  maxText: 16 * 1024,
  /** tool output, tool and run errors, model error messages, notes */
  maxDetail: 4 * 1024,
  /** tool arguments (already a summary) */
  maxArgs: 1024,
  /** tool names, models, providers, labels, display names, statuses, reasons */
  maxName: 256,
  /** session keys, dedupe keys, run/call/session ids, channel ids */
  maxId: 512,
  /** a session's working directory (Linux's PATH_MAX) */
  maxPath: 4096,
} as const;

export interface Sanitizer {
  /** bounds every event of the batch in place (the same array is returned) */
  events<T extends PulseEvent[] | readonly PulseEvent[]>(events: T): T;
  /** counts anomalies a source found before making events (an OTLP integer that was not exact) */
  count(n?: number): void;
  /** values replaced or dropped so far */
  readonly anomalies: number;
}

/** one anomaly, for a log line: which field of which event, and what it said */
export interface Anomaly {
  field: string;
  value: unknown;
  event: PulseEvent;
}

export interface SanitizerOptions {
  /** the source's clock (the receive time) */
  now: () => number;
  /** called for some anomalies (the first, then at most one a minute), for a log line */
  onAnomaly?: (a: Anomaly, total: number) => void;
}

export function createSanitizer(o: SanitizerOptions): Sanitizer {
  let anomalies = 0;
  let lastReportAt = Number.NEGATIVE_INFINITY;
  let received = 0;
  let maxTs = 0;

  function bad(field: string, value: unknown, event: PulseEvent): void {
    anomalies++;
    if (!o.onAnomaly) return;
    const t = Date.now();
    if (t - lastReportAt < 60_000) return;
    lastReportAt = t;
    o.onAnomaly({ field, value: typeof value === 'string' ? value.slice(0, 64) : value, event }, anomalies);
  }

  /** the time a sane event may not pass */
  const saneTime = (t: unknown): boolean => (t as number) >= SANE.minTs && (t as number) <= maxTs;

  function event(e: PulseEvent): void {
    if (!saneTime(e.ts)) {
      bad('ts', e.ts, e);
      e.ts = received;
    }
    if (e.sessionKey.length > SANE.maxId) e.sessionKey = capId(e.sessionKey);
    if (e.dedupeKey.length > SANE.maxId) e.dedupeKey = capId(e.dedupeKey);
    if (e.agentId.length > SANE.maxName) e.agentId = capId(e.agentId, SANE.maxName);
    switch (e.type) {
      case 'llm.tokens': {
        const { input, output, cacheRead, cacheWrite, reasoning } = e;
        // whole numbers within the ceiling (the ceiling is below 2^31, so `| 0` keeps them)
        if (
          !(
            (input | 0) === input &&
            (output | 0) === output &&
            (cacheRead | 0) === cacheRead &&
            (cacheWrite | 0) === cacheWrite &&
            (reasoning | 0) === reasoning &&
            input >= 0 &&
            input <= SANE.maxTokens &&
            output >= 0 &&
            output <= SANE.maxTokens &&
            cacheRead >= 0 &&
            cacheRead <= SANE.maxTokens &&
            cacheWrite >= 0 &&
            cacheWrite <= SANE.maxTokens &&
            reasoning >= 0 &&
            reasoning <= SANE.maxTokens
          )
        ) {
          e.input = tokens(e, 'input', input);
          e.output = tokens(e, 'output', output);
          e.cacheRead = tokens(e, 'cacheRead', cacheRead);
          e.cacheWrite = tokens(e, 'cacheWrite', cacheWrite);
          e.reasoning = tokens(e, 'reasoning', reasoning);
        }
        if (!(e.costUsd >= 0 && e.costUsd <= SANE.maxCostUsd)) {
          bad('costUsd', e.costUsd, e);
          e.costUsd = 0;
        }
        if (e.runId !== undefined && e.runId.length > SANE.maxId) e.runId = capId(e.runId);
        if (e.model !== undefined && e.model.length > SANE.maxName) e.model = clipText(e.model, SANE.maxName);
        if (e.provider !== undefined && e.provider.length > SANE.maxName)
          e.provider = clipText(e.provider, SANE.maxName);
        return;
      }
      case 'assistant.text':
        if (e.text.length > SANE.maxText) e.text = clipText(e.text, SANE.maxText);
        if (e.runId !== undefined && e.runId.length > SANE.maxId) e.runId = capId(e.runId);
        return;
      case 'tool.call':
        call(e);
        if (e.args !== undefined && e.args.length > SANE.maxArgs) e.args = clipText(e.args, SANE.maxArgs);
        return;
      case 'tool.output':
        call(e);
        if (e.durationMs !== undefined && !saneDuration(e.durationMs)) {
          bad('durationMs', e.durationMs, e);
          delete e.durationMs;
        }
        if (e.output !== undefined && e.output.length > SANE.maxDetail)
          e.output = clipText(e.output, SANE.maxDetail);
        return;
      case 'tool.error':
        call(e);
        if (e.durationMs !== undefined && !saneDuration(e.durationMs)) {
          bad('durationMs', e.durationMs, e);
          delete e.durationMs;
        }
        if (e.error.length > SANE.maxDetail) e.error = clipText(e.error, SANE.maxDetail);
        return;
      case 'agent.started':
        if (e.runId.length > SANE.maxId) e.runId = capId(e.runId);
        return;
      case 'agent.finished':
        if (e.runId.length > SANE.maxId) e.runId = capId(e.runId);
        if (e.error !== undefined && e.error.length > SANE.maxDetail)
          e.error = clipText(e.error, SANE.maxDetail);
        return;
      case 'agent.step_started':
        if (e.runId.length > SANE.maxId) e.runId = capId(e.runId);
        if (e.step !== undefined && !saneSmallInt(e.step)) {
          bad('step', e.step, e);
          delete e.step;
        }
        if (e.model !== undefined && e.model.length > SANE.maxName) e.model = clipText(e.model, SANE.maxName);
        if (e.provider !== undefined && e.provider.length > SANE.maxName)
          e.provider = clipText(e.provider, SANE.maxName);
        return;
      case 'llm.error':
        if (e.runId !== undefined && e.runId.length > SANE.maxId) e.runId = capId(e.runId);
        if (e.status !== undefined && !((e.status | 0) === e.status && e.status >= 100 && e.status <= 599)) {
          bad('status', e.status, e);
          delete e.status;
        }
        if (e.message.length > SANE.maxDetail) e.message = clipText(e.message, SANE.maxDetail);
        return;
      case 'session.seen':
        seen(e);
        return;
      case 'subagent.spawned':
        if (e.parentKey.length > SANE.maxId) e.parentKey = capId(e.parentKey);
        if (e.childKey.length > SANE.maxId) e.childKey = capId(e.childKey);
        if (e.label !== undefined && e.label.length > SANE.maxName) e.label = clipText(e.label, SANE.maxName);
        if (e.runId !== undefined && e.runId.length > SANE.maxId) e.runId = capId(e.runId);
        return;
      case 'subagent.finished':
        if (e.parentKey.length > SANE.maxId) e.parentKey = capId(e.parentKey);
        if (e.childKey.length > SANE.maxId) e.childKey = capId(e.childKey);
        return;
      case 'session.reset':
        if (e.sessionId !== undefined && e.sessionId.length > SANE.maxId) e.sessionId = capId(e.sessionId);
        return;
      case 'session.stuck':
        if (e.ageMs !== undefined && !saneDuration(e.ageMs)) {
          bad('ageMs', e.ageMs, e);
          delete e.ageMs;
        }
        if (e.reason !== undefined && e.reason.length > SANE.maxName)
          e.reason = clipText(e.reason, SANE.maxName);
        return;
      case 'session.note':
        if (e.text !== undefined && e.text.length > SANE.maxDetail) e.text = clipText(e.text, SANE.maxDetail);
        if (e.label !== undefined && e.label.length > SANE.maxName) e.label = clipText(e.label, SANE.maxName);
        return;
      default:
        return;
    }
  }

  function tokens(e: PulseEvent, field: string, v: number): number {
    if (v >= 0 && v <= SANE.maxTokens) {
      if (Number.isInteger(v)) return v;
      bad(field, v, e);
      return Math.round(v);
    }
    bad(field, v, e);
    return 0;
  }

  function call(e: { runId: string; callId: string; name: string }): void {
    if (e.runId.length > SANE.maxId) e.runId = capId(e.runId);
    if (e.callId.length > SANE.maxId) e.callId = capId(e.callId);
    if (e.name.length > SANE.maxName) e.name = clipText(e.name, SANE.maxName);
  }

  function seen(e: Extract<PulseEvent, { type: 'session.seen' }>): void {
    if (e.updatedAt !== undefined && !saneTime(e.updatedAt)) {
      bad('updatedAt', e.updatedAt, e);
      delete e.updatedAt;
    }
    if (e.spawnDepth !== undefined && !saneSmallInt(e.spawnDepth)) {
      bad('spawnDepth', e.spawnDepth, e);
      delete e.spawnDepth;
    }
    if (e.sessionId !== undefined && e.sessionId.length > SANE.maxId) e.sessionId = capId(e.sessionId);
    if (e.parentKey !== undefined && e.parentKey.length > SANE.maxId) e.parentKey = capId(e.parentKey);
    if (e.label !== undefined && e.label.length > SANE.maxName) e.label = clipText(e.label, SANE.maxName);
    if (e.displayName !== undefined && e.displayName.length > SANE.maxName)
      e.displayName = clipText(e.displayName, SANE.maxName);
    if (e.model !== undefined && e.model.length > SANE.maxName) e.model = clipText(e.model, SANE.maxName);
    if (e.provider !== undefined && e.provider.length > SANE.maxName)
      e.provider = clipText(e.provider, SANE.maxName);
    if (e.rowStatus !== undefined && e.rowStatus.length > SANE.maxName)
      e.rowStatus = clipText(e.rowStatus, SANE.maxName);
    if (e.cwd !== undefined && e.cwd.length > SANE.maxPath) e.cwd = clipText(e.cwd, SANE.maxPath);
    if (e.channel) channel(e.channel);
  }

  return {
    events(list) {
      if (!list.length) return list;
      received = o.now();
      maxTs = Math.max(received, Date.now()) + SANE.futureMs;
      for (const e of list) event(e);
      return list;
    },
    count(n = 1) {
      anomalies += n;
    },
    get anomalies() {
      return anomalies;
    },
  };
}

/**
 * Whether a time (epoch ms) is in the window, now being the later of `now` and the wall clock:
 * for times read back from what was saved before these bounds existed (a resume offset).
 */
export function isSaneTime(t: unknown, now: number = Date.now()): t is number {
  return typeof t === 'number' && t >= SANE.minTs && t <= Math.max(now, Date.now()) + SANE.futureMs;
}

/** an `onAnomaly` that logs a warning (the first anomaly, then at most one a minute) */
export function logAnomalies(log: Logger): (a: Anomaly, total: number) => void {
  return (a, total) =>
    log.warn(
      {
        field: a.field,
        value: a.value,
        type: a.event.type,
        sessionKey: a.event.sessionKey,
        anomalies: total,
      },
      'out-of-bounds value replaced or dropped (counted in /health as anomalies)',
    );
}

function channel(c: SessionChannel): void {
  if (c.provider !== undefined && c.provider.length > SANE.maxName)
    c.provider = capId(c.provider, SANE.maxName);
  if (c.channelId !== undefined && c.channelId.length > SANE.maxId) c.channelId = capId(c.channelId);
  if (c.threadId !== undefined && c.threadId.length > SANE.maxId) c.threadId = capId(c.threadId);
  if (c.chatType !== undefined && c.chatType.length > SANE.maxName)
    c.chatType = capId(c.chatType, SANE.maxName);
  if (c.accountId !== undefined && c.accountId.length > SANE.maxId) c.accountId = capId(c.accountId);
}

const saneDuration = (d: number): boolean => d >= 0 && d <= SANE.maxDurationMs;
const saneSmallInt = (n: number): boolean => (n | 0) === n && n >= 0 && n <= SANE.maxSmallInt;

/** `s` cut to at most `n` characters, never between the two halves of a surrogate pair */
function head(s: string, n: number): string {
  const c = s.charCodeAt(n - 1);
  return s.slice(0, c >= 0xd800 && c <= 0xdbff ? n - 1 : n);
}

/**
 * `s` cut to at most `max` characters (max > 64) ending in `... [clipped N bytes]`, N being the
 * UTF-8 bytes left out; `s` itself when it is not longer.
 */
export function clipText(s: string, max: number): string {
  if (s.length <= max) return s;
  // the marker is at most 32 characters ("... [clipped 4294967295 bytes]")
  const kept = head(s, max - 32);
  const dropped = Buffer.byteLength(s) - Buffer.byteLength(kept);
  return flat(`${kept}... [clipped ${dropped} bytes]`);
}

/**
 * A copy of `s` that holds no reference to the string it was cut from: V8 keeps a slice as a
 * view of its parent, so 16 KiB kept in the model would keep the whole 4 MB text alive.
 */
function flat(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string;
}

/**
 * An identity at most SANE.maxId characters: a longer one becomes its first characters, `...#`
 * and 16 hex digits of its SHA-256. The same string always gives the same id, and two long ids
 * that share their start still differ.
 */
export function capId(s: string, max: number = SANE.maxId): string {
  if (s.length <= max) return s;
  const hash = crypto.createHash('sha256').update(s).digest('hex').slice(0, 16);
  return flat(`${head(s, max - 20)}...#${hash}`);
}

/**
 * An integer an outside source wrote as text or a number (OTLP `asInt`, int64 as a decimal
 * string): the number when it is exact (a safe integer), else undefined. `Number("2^64 as
 * text")` would give 1.8e19, `Number("9007199254740993")` 9007199254740992: neither is the value.
 */
export function exactInt(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : undefined;
  if (typeof v !== 'string' || !/^-?\d{1,16}$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

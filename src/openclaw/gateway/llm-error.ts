import { cutToMax } from '../summarize.js';

/**
 * Reads a provider failure out of OpenClaw's error text (lifecycle `error`, chat `errorMessage`,
 * a persisted assistant message with stopReason "error"): the HTTP-ish status when the text or
 * the v4 `errorKind` tells it, and whether a retry can help.
 */
const KIND_STATUS: Record<string, number> = {
  rate_limit: 429,
  ratelimit: 429,
  overloaded: 529,
  auth: 401,
  unauthorized: 401,
  billing: 402,
  timeout: 408,
  server_error: 500,
};

const RETRYABLE_STATUS = new Set([408, 409, 425, 429, 500, 502, 503, 504, 529]);
const RETRYABLE_KIND = new Set([
  'rate_limit',
  'ratelimit',
  'overloaded',
  'timeout',
  'network',
  'server_error',
  'transient',
]);
const RETRYABLE_TEXT =
  /overload|rate.?limit|too many requests|timed? ?out|temporar|unavailable|ECONNRESET|ETIMEDOUT|socket hang up/i;

export interface ParsedLlmError {
  status?: number;
  message: string;
  retryable: boolean;
}

export function parseLlmError(message: string, errorKind?: string): ParsedLlmError {
  const kind = errorKind?.toLowerCase();
  let status: number | undefined;
  // "529 {"type":"error"...}", "status 429", "HTTP 503", "(code 500)"
  const m =
    /(?:^|\b(?:status|http|code|error)\D{0,3})([45]\d\d)\b/i.exec(message) ?? /\b(429|5\d\d)\b/.exec(message);
  if (m?.[1]) status = Number(m[1]);
  if (status === undefined && kind && KIND_STATUS[kind] !== undefined) status = KIND_STATUS[kind];
  if (status === undefined && /overloaded/i.test(message)) status = 529;
  const retryable =
    (status !== undefined && RETRYABLE_STATUS.has(status)) ||
    (kind !== undefined && RETRYABLE_KIND.has(kind)) ||
    RETRYABLE_TEXT.test(message);
  const out: ParsedLlmError = {
    message: cutToMax(message, 500),
    retryable,
  };
  if (status !== undefined) out.status = status;
  return out;
}

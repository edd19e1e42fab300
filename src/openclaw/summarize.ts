/**
 * Short human summaries of OpenClaw tool payloads and model errors. A status box shows one line
 * per tool, so arguments are reduced to the one thing a reader wants (the command, the path),
 * never the full payload.
 */

const MAX_ARGS = 120;
const MAX_OUTPUT = 200;

/**
 * Ends a text clawpulse cut short. ASCII on purpose: '…' (U+2026) makes V8 store the cut text,
 * and the JSON of every stored chunk holding it, as a two-byte string, twice the memory and a
 * slow UTF-8 path into SQLite; the ingest bench ran 10–20% slower with it.
 */
export const CLIP_MARK = '...';

/** `s` cut to `max` characters, the last ones being CLIP_MARK, when it is longer */
export function cutToMax(s: string, max: number): string {
  if (s.length <= max) return s;
  return max > CLIP_MARK.length ? s.slice(0, max - CLIP_MARK.length) + CLIP_MARK : s.slice(0, max);
}

/**
 * JavaScript whitespace, what `\s` matches and `trim()` removes: WhiteSpace and LineTerminator
 * (Unicode Zs as V8 has it; U+180E is no longer one).
 */
function isSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/**
 * `s` on one line, at most `max` (>= 1) characters: whitespace runs become one space, the ends
 * are trimmed, and a longer result is cut to `max` characters ending in CLIP_MARK. The same as
 *
 *     cutToMax(s.replace(/\s+/g, ' ').trim(), max)
 *
 * but tool outputs can be megabytes and most arguments need no change: this reads `s` only
 * until the result is known to be too long, returns `s` itself when there is nothing to
 * change, and copies the text between whitespace runs as whole slices.
 */
export function clip(s: string, max: number): string {
  const len = s.length;
  let i = 0;
  while (i < len && isSpace(s.charCodeAt(i))) i++;
  // the result is pieces (text whose only whitespace is single spaces between other characters)
  // joined by one space
  const pieces: string[] = [];
  let n = 0; // result length so far
  while (i < len) {
    if (pieces.length > 0) n++; // the space before this piece
    const start = i;
    // reading past max + 1 result characters cannot change the answer
    const stop = Math.min(len, start + max + 1 - n);
    while (i < stop) {
      const c = s.charCodeAt(i);
      if (isSpace(c) && (c !== 0x20 || i + 1 >= len || isSpace(s.charCodeAt(i + 1)))) break;
      i++;
    }
    if (start === 0 && i === len && len <= max) return s; // nothing to change
    pieces.push(s.slice(start, i));
    n += i - start;
    if (n > max) break;
    while (i < len && isSpace(s.charCodeAt(i))) i++;
  }
  return cutToMax(pieces.join(' '), max);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

/** `tool_call {id:"sessions_spawn", args}` (2026.9 compact tool surface) → the inner tool */
export function unwrapToolCall(name: string, args: unknown): { name: string; args: unknown } {
  if (name === 'tool_call' && args && typeof args === 'object') {
    const a = args as { id?: unknown; args?: unknown };
    const inner = str(a.id);
    if (inner) return { name: inner.replace(/^openclaw:core:/, ''), args: a.args };
  }
  return { name, args };
}

export function summarizeToolArgs(name: string, args: unknown): string | undefined {
  if (args === undefined || args === null) return undefined;
  if (typeof args === 'string') return clip(args, MAX_ARGS);
  if (typeof args !== 'object') return clip(String(args), MAX_ARGS);
  const a = args as Record<string, unknown>;
  const path = str(a.path) ?? str(a.file_path) ?? str(a.filePath);
  switch (name) {
    case 'exec':
    case 'bash':
      if (str(a.command)) return clip(a.command as string, MAX_ARGS);
      break;
    case 'read':
    case 'write':
    case 'edit':
      if (path) return clip(path, MAX_ARGS);
      break;
    case 'sessions_spawn':
      if (str(a.label)) return clip(`${a.label}: ${str(a.task) ?? ''}`, MAX_ARGS);
      break;
    case 'web_fetch':
      if (str(a.url)) return clip(a.url as string, MAX_ARGS);
      break;
    case 'web_search':
      if (str(a.query)) return clip(a.query as string, MAX_ARGS);
      break;
  }
  let json: string;
  try {
    json = JSON.stringify(args) ?? '';
  } catch {
    return undefined;
  }
  return cutToMax(json, MAX_ARGS);
}

export function summarizeOutput(text: string): string | undefined {
  const s = clip(text, MAX_OUTPUT);
  return s || undefined;
}

export interface LlmErrorInfo {
  status?: number;
  retryable: boolean;
}

/**
 * Reads an HTTP-ish status from a provider error string: a leading code (`529 {...}`), a named
 * one (`status: 429`), or a well-known error type (overloaded_error → 529, rate_limit_error → 429).
 * 429, 529 and other 5xx are retryable; everything else is not.
 */
export function classifyLlmError(message: string): LlmErrorInfo {
  let status: number | undefined;
  const lead = /^\s*(?:error:?\s*)?([1-5]\d\d)\b/i.exec(message);
  const named = /\b(?:status(?:Code)?|code|http)["'\s:=]*([1-5]\d\d)\b/i.exec(message);
  if (lead) status = Number(lead[1]);
  else if (named) status = Number(named[1]);
  else if (/overloaded/i.test(message)) status = 529;
  else if (/rate[_ ]?limit|too many requests/i.test(message)) status = 429;
  const retryable =
    status !== undefined && (status === 429 || status === 408 || (status >= 500 && status <= 599));
  return status === undefined ? { retryable } : { status, retryable };
}

/**
 * `childSessionKey` from a sessions_spawn result (details object, JSON text, or JSON nested as a
 * string). OpenClaw's secret redaction can mask part of it in the saved transcript
 * (`agent:main:subagent:9b7366fd-b526-4357-b2***`, 2026.7.35, seen recording the demo): such a
 * key names no session, so it is dropped (the child's sessions.json row links it by spawnedBy).
 */
export function extractChildSessionKey(details: unknown, text: string): string | undefined {
  const key = childKeyIn(details, text);
  return key?.includes('*') ? undefined : key;
}

function childKeyIn(details: unknown, text: string): string | undefined {
  if (details && typeof details === 'object') {
    const d = details as { childSessionKey?: unknown };
    if (str(d.childSessionKey)) return d.childSessionKey as string;
  }
  // the 2026.9 tool_call wrapper nests the JSON result as an escaped string, so match loosely
  const m = /childSessionKey\\*"\s*:\s*\\*"([^"\\\s]+)/.exec(text);
  if (m) return m[1];
  if (details && typeof details === 'object') {
    let json = '';
    try {
      json = JSON.stringify(details);
    } catch {
      return undefined;
    }
    const m2 = /childSessionKey\\*"\s*:\s*\\*"([^"\\\s]+)/.exec(json);
    if (m2) return m2[1];
  }
  return undefined;
}

/**
 * Whether a tool result is a failure. OpenClaw sets `isError` only when the tool itself
 * threw; a command that ran and exited non-zero comes back `isError: false` with
 * `details: {status: "completed", exitCode: 2}` (2026.9.6, seen live; its own item event
 * calls that tool "failed"), and some tools report `details.status: "error"`.
 */
export function toolResultFailed(isError: unknown, details: unknown): boolean {
  if (isError === true) return true;
  if (!details || typeof details !== 'object') return false;
  const d = details as Record<string, unknown>;
  if (d.status === 'error' || d.status === 'failed') return true;
  return typeof d.exitCode === 'number' && d.exitCode !== 0;
}

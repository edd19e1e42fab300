/**
 * Transcript lines (raw bytes) → events, through a session's normalizer: one line
 * (`processLine`) or a read's whole lines (`processLines`). Invalid UTF-8 and invalid JSON are
 * reported, never thrown: one bad line must not stop a file.
 */
import { isAscii } from 'node:buffer';
import type { PulseEvent } from '../../model/events.js';
import type { TranscriptNormalizer } from '../../openclaw/normalize.js';

export interface ProcessedLine {
  events: PulseEvent[];
  /** the entry id of the line, when it had one */
  id?: string;
  error?: string;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** bytes → JSON value, or an error string (empty lines give neither) */
export function decodeLine(buf: Buffer): { value?: unknown; error?: string; empty?: boolean } {
  // one pass that checks and decodes, a little cheaper than buf.toString plus a scan for U+FFFD
  // (`npm run bench -- line-and-key`) and one way to say it. A UTF-8 BOM is dropped.
  let text: string;
  try {
    text = decoder.decode(buf);
  } catch {
    return { error: 'invalid UTF-8' };
  }
  return parseLineText(text);
}

/** a decoded line → JSON value, or an error string (empty lines give neither) */
function parseLineText(line: string): { value?: unknown; error?: string; empty?: boolean } {
  let text = line;
  if (text.endsWith('\r')) text = text.slice(0, -1);
  // a transcript line starts with '{' (so it is not blank: no trim copy for it)
  if (text.charCodeAt(0) !== 0x7b && !text.trim()) return { empty: true };
  try {
    return { value: JSON.parse(text) };
  } catch (err) {
    return { error: `invalid JSON: ${(err as Error).message.slice(0, 100)}` };
  }
}

export function idOf(value: unknown): string | undefined {
  if (value && typeof value === 'object') {
    const id = (value as { id?: unknown }).id;
    if (typeof id === 'string') return id;
  }
  return undefined;
}

/** decode + normalize one line */
export function processLine(buf: Buffer, normalizer: TranscriptNormalizer): ProcessedLine {
  return normalized(decodeLine(buf), normalizer);
}

/** a decoded line through the normalizer */
function normalized(d: ReturnType<typeof decodeLine>, normalizer: TranscriptNormalizer): ProcessedLine {
  if (d.empty) return { events: [] };
  if (d.error) return { events: [], error: d.error };
  const r = normalizer.push(d.value);
  const out: ProcessedLine = { events: r.events };
  const id = idOf(d.value);
  if (id) out.id = id;
  if (r.error) out.error = r.error;
  return out;
}

/** bytes decoded into one string at most (a replay reads whole files; V8 strings stop near 512 MB) */
const MAX_ONE_STRING = 16 * 1024 * 1024;

export interface LinesResult {
  /** lines read (newlines), blank and malformed ones included */
  lines: number;
  /** the entry id of the last line that had one */
  lastId?: string;
}

/**
 * Complete lines → events, pushed onto `out`: `buf` is lines each ending with a newline (what
 * follows the last newline is not read). `onMalformed` gets the 0-based index of a line that
 * could not be read and why.
 *
 * A run of lines that is all ASCII (nearly every transcript read) is decoded once, as Latin-1
 * (the same text for ASCII; `isAscii` is the UTF-8 check then): a TextDecoder call per line cost
 * about 0.3 µs of a line's ~10 µs (`npm run bench -- line-and-key`). Other runs go line by line,
 * so one non-ASCII line does not make the whole run a two-byte string.
 */
export function processLines(
  buf: Buffer,
  normalizer: TranscriptNormalizer,
  out: PulseEvent[],
  onMalformed: (index: number, error: string) => void,
): LinesResult {
  const text = buf.length <= MAX_ONE_STRING && isAscii(buf) ? buf.toString('latin1') : undefined;
  let lastId: string | undefined;
  let lines = 0;
  for (let start = 0; ; lines++) {
    const nl = text !== undefined ? text.indexOf('\n', start) : buf.indexOf(0x0a, start);
    if (nl < 0) break;
    const d = text !== undefined ? parseLineText(text.slice(start, nl)) : decodeLine(buf.subarray(start, nl));
    start = nl + 1;
    const r = normalized(d, normalizer);
    if (r.error) onMalformed(lines, r.error);
    if (r.id) lastId = r.id;
    for (const e of r.events) out.push(e);
  }
  return lastId === undefined ? { lines } : { lines, lastId };
}

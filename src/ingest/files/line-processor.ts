/**
 * One transcript line (raw bytes, no newline) → events, through a session's normalizer.
 * Invalid UTF-8 and invalid JSON are reported to `onMalformed`, never thrown: one bad line
 * must not stop a file.
 */
import type { PulseEvent } from '../../model/events.js';
import type { TranscriptNormalizer } from '../../openclaw/normalize.js';

export interface ProcessedLine {
  events: PulseEvent[];
  /** the entry id of the line, when it had one */
  id?: string;
  /** parsed object (for callers that need to look at it before normalizing) */
  value?: unknown;
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

/** decode + normalize; `normalize: false` only decodes (used while resyncing after a rewrite) */
export function processLine(buf: Buffer, normalizer: TranscriptNormalizer): ProcessedLine {
  const d = decodeLine(buf);
  if (d.empty) return { events: [] };
  if (d.error) return { events: [], error: d.error };
  const r = normalizer.push(d.value);
  const id = idOf(d.value);
  const out: ProcessedLine = { events: r.events, value: d.value };
  if (id) out.id = id;
  if (r.error) out.error = r.error;
  return out;
}

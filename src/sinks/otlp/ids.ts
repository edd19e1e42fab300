/**
 * Deterministic trace and span ids: a hash of what names the operation (session key, run id,
 * call id), so every export of an operation (an in-progress snapshot, the final span, a
 * re-export after a restart) carries the same identity, and two clawpulse daemons reading the
 * same sessions give them the same ids.
 */
import { createHash } from 'node:crypto';

function hex(parts: readonly string[], chars: number): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\u0000');
  const out = h.digest('hex').slice(0, chars);
  // an all-zero id is invalid in OTLP; the odds are 2^-64, but an id must never be invalid
  return /^0+$/.test(out) ? `${out.slice(0, -1)}1` : out;
}

/** 32 hex digits */
export const traceIdOf = (...parts: string[]): string => hex(['t', ...parts], 32);
/** 16 hex digits */
export const spanIdOf = (...parts: string[]): string => hex(['s', ...parts], 16);

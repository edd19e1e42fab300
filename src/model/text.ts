/**
 * Turns an assistant message into one narration line of a status box: the first meaningful
 * line, without OpenClaw's reply directives (`[[reply_to_current]]`, `[[reply_to:123]]`,
 * `[[audio_as_voice]]`) or markdown noise, trimmed, and cut at NARRATION_MAX code points.
 *
 * This runs on every assistant message at ingest speed, so each rewriting step is guarded by a
 * cheaper test that tells when the step would change nothing (a plain line skips them all);
 * the regexes stay the definition of what a step does (text.test.ts checks the shortcuts).
 */
export const NARRATION_MAX = 200;

const DIRECTIVE = /\[\[[^\]\n]{1,120}\]\]/g;
// lines that carry no narration: fences, rules, bare bullets, table borders
const NOISE = /^(?:`{3,}.*|~{3,}.*|[-*_=]{3,}|[-*+>#|:\s]*)$/;
const MARKER = /^(?:#{1,6}\s+|>\s*)/;
const SPACES = /\s+/g;
const BOLD = /\*\*([^*]+)\*\*/g;
// `SPACES → ' '` changes a line only where it has white space that is not a lone plain space
const SPACE_RUN = / \s|[^\S ]/;
// a line without surrogates has one code point per code unit (V8 answers this without a scan
// for Latin-1 strings)
const SURROGATE = /[\ud800-\udfff]/;

export function narrationLine(text: string, max = NARRATION_MAX): string | undefined {
  if (typeof text !== 'string' || text.length === 0) return undefined;
  const cleaned = text.indexOf('[[') >= 0 ? text.replace(DIRECTIVE, '') : text;
  let start = 0;
  while (start <= cleaned.length) {
    let end = cleaned.indexOf('\n', start);
    if (end < 0) end = cleaned.length;
    const raw = cleaned.slice(start, end).trim();
    start = end + 1;
    if (!raw) continue;
    const first = raw.charCodeAt(0);
    if (mayBeNoise(first) && NOISE.test(raw)) continue;
    // headings and quotes keep their words, not their markers
    let line = first === HASH || first === GT ? raw.replace(MARKER, '') : raw;
    if (SPACE_RUN.test(line)) line = line.replace(SPACES, ' ');
    // **bold** reads as plain text in a status line
    if (line.includes('**')) line = line.replace(BOLD, '$1');
    line = line.trim();
    if (!line) continue;
    return truncateCodePoints(line, max);
  }
  return undefined;
}

const HASH = 0x23; // #
const GT = 0x3e; // >

/**
 * Whether a trimmed line can match NOISE at all: every alternative starts with one of
 * `` ` ~ - * _ = + > # | : `` (its whitespace cannot come first in a trimmed line).
 */
function mayBeNoise(c: number): boolean {
  switch (c) {
    case 0x60: // `
    case 0x7e: // ~
    case 0x2d: // -
    case 0x2a: // *
    case 0x5f: // _
    case 0x3d: // =
    case 0x2b: // +
    case GT:
    case HASH:
    case 0x7c: // |
    case 0x3a: // :
      return true;
    default:
      return false;
  }
}

/** cuts to at most `max` code points (never splitting a surrogate pair), ending with `…` when cut */
export function truncateCodePoints(s: string, max: number): string {
  // UTF-16 length is an upper bound of the code point count: the cheap common case
  if (s.length <= max) return s;
  // no surrogates: one code point per code unit
  if (!SURROGATE.test(s)) return `${s.slice(0, Math.max(0, max - 1)).trimEnd()}…`;
  if (!Number.isInteger(max) || max < 0) return truncateByArray(s, max);
  // walk code points without splitting the string; stop as soon as there are too many
  const keep = Math.max(0, max - 1);
  let cut = 0;
  let n = 0;
  for (let i = 0; i < s.length; n++) {
    if (n === keep) cut = i;
    if (n === max) return `${s.slice(0, cut).trimEnd()}…`;
    i += isPairAt(s, i) ? 2 : 1;
  }
  return s;
}

/** the definition truncateCodePoints follows (kept for a negative, fractional or non-finite `max`) */
export function truncateByArray(s: string, max: number): string {
  const cps = Array.from(s);
  if (cps.length <= max) return s;
  return `${cps
    .slice(0, Math.max(0, max - 1))
    .join('')
    .trimEnd()}…`;
}

/** a high surrogate at `i` followed by a low one: one code point in two code units */
function isPairAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  if (c < 0xd800 || c > 0xdbff || i + 1 >= s.length) return false;
  const d = s.charCodeAt(i + 1);
  return d >= 0xdc00 && d <= 0xdfff;
}

export function codePointLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/**
 * Turns an assistant message into one narration line of a status box: the first meaningful
 * line, without OpenClaw's reply directives (`[[reply_to_current]]`, `[[reply_to:123]]`,
 * `[[audio_as_voice]]`) or markdown noise, trimmed, and cut at NARRATION_MAX code points.
 */
export const NARRATION_MAX = 200;

const DIRECTIVE = /\[\[[^\]\n]{1,120}\]\]/g;
// lines that carry no narration: fences, rules, bare bullets, table borders
const NOISE = /^(?:`{3,}.*|~{3,}.*|[-*_=]{3,}|[-*+>#|:\s]*)$/;

export function narrationLine(text: string, max = NARRATION_MAX): string | undefined {
  if (typeof text !== 'string' || text.length === 0) return undefined;
  const cleaned = text.indexOf('[[') >= 0 ? text.replace(DIRECTIVE, '') : text;
  let start = 0;
  while (start <= cleaned.length) {
    let end = cleaned.indexOf('\n', start);
    if (end < 0) end = cleaned.length;
    const raw = cleaned.slice(start, end).trim();
    start = end + 1;
    if (!raw || NOISE.test(raw)) continue;
    // headings and quotes keep their words, not their markers
    let line = raw.replace(/^(?:#{1,6}\s+|>\s*)/, '').replace(/\s+/g, ' ');
    // **bold** reads as plain text in a status line
    if (line.includes('**')) line = line.replace(/\*\*([^*]+)\*\*/g, '$1');
    line = line.trim();
    if (!line) continue;
    return truncateCodePoints(line, max);
  }
  return undefined;
}

/** cuts to at most `max` code points (never splitting a surrogate pair), ending with `…` when cut */
export function truncateCodePoints(s: string, max: number): string {
  // UTF-16 length is an upper bound of the code point count: the cheap common case
  if (s.length <= max) return s;
  const cps = Array.from(s);
  if (cps.length <= max) return s;
  return `${cps
    .slice(0, Math.max(0, max - 1))
    .join('')
    .trimEnd()}…`;
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

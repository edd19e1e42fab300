/**
 * narrationLine and truncateCodePoints take shortcuts for plain lines; these check them against
 * the plain definitions (every regex step applied, code points split with Array.from) on
 * seeded random text built from the characters that matter: white space of every kind,
 * markdown markers, directives, surrogate pairs and lone surrogates.
 */
import { describe, expect, it } from 'vitest';
import { narrationLine, truncateByArray, truncateCodePoints } from './text.js';

/** the plain definition (Array.from per code point) the fast path must match */
const referenceTruncate = truncateByArray;

function referenceNarration(text: string, max = 200): string | undefined {
  if (typeof text !== 'string' || text.length === 0) return undefined;
  const cleaned = text.replace(/\[\[[^\]\n]{1,120}\]\]/g, '');
  for (const part of cleaned.split('\n')) {
    const raw = part.trim();
    if (!raw || /^(?:`{3,}.*|~{3,}.*|[-*_=]{3,}|[-*+>#|:\s]*)$/.test(raw)) continue;
    let line = raw.replace(/^(?:#{1,6}\s+|>\s*)/, '').replace(/\s+/g, ' ');
    line = line.replace(/\*\*([^*]+)\*\*/g, '$1').trim();
    if (line) return referenceTruncate(line, max);
  }
  return undefined;
}

function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

const PIECES = [
  'a',
  'Z',
  '7',
  'word',
  ' ',
  '  ',
  '\t',
  '\n',
  '\r',
  '\v',
  '\u00a0',
  '\u2003',
  '\u3000',
  '\ufeff',
  '\u2028',
  '\u180e',
  '#',
  '## ',
  '>',
  '`',
  '```',
  '~~~',
  '-',
  '---',
  '*',
  '**',
  '_',
  '=',
  '+',
  '|',
  ':',
  '[[reply_to_current]]',
  '[[',
  ']]',
  '🚀',
  '\ud83d',
  '\ude80',
  'é',
  '…',
];

function randomText(r: () => number): string {
  const long = r() < 0.3;
  const n = Math.floor(r() * (long ? 260 : 24));
  let s = '';
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(r() * PIECES.length)];
  return s;
}

describe('narration text', () => {
  it('narrationLine matches its definition', () => {
    const r = rng(2024);
    for (let i = 0; i < 20_000; i++) {
      const s = randomText(r);
      expect(narrationLine(s)).toBe(referenceNarration(s));
      expect(narrationLine(s, 5)).toBe(referenceNarration(s, 5));
    }
  });

  it('truncateCodePoints matches its definition, whatever the limit', () => {
    const r = rng(7);
    const limits = [0, 1, 2, 3, 10, 199, 200, -1, 2.5, Number.NaN, Number.POSITIVE_INFINITY];
    for (let i = 0; i < 20_000; i++) {
      const s = randomText(r);
      const max = limits[i % limits.length] as number;
      expect(truncateCodePoints(s, max)).toBe(referenceTruncate(s, max));
    }
  });

  it('never splits a surrogate pair at the cut', () => {
    expect(truncateCodePoints(`${'a'.repeat(8)}🚀🚀🚀`, 10)).toBe(`${'a'.repeat(8)}🚀…`);
    expect(truncateCodePoints('🚀'.repeat(5), 5)).toBe('🚀'.repeat(5));
    // white space collapses before the cut, and the cut trims what it leaves at the end
    expect(narrationLine(`  ${'x'.repeat(198)}\u00a0\u00a0🚀🚀 `)).toBe(`${'x'.repeat(198)}…`);
  });
});

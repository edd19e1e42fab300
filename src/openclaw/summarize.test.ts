import { describe, expect, it } from 'vitest';
import { CLIP_MARK, clip } from './summarize.js';

/** what clip stands for */
function reference(s: string, max: number): string {
  const one = s.replace(/\s+/g, ' ').trim();
  if (one.length <= max) return one;
  return max > 3 ? `${one.slice(0, max - 3)}...` : one.slice(0, max);
}

describe('clip', () => {
  it('is the collapse-trim-cut of the whole text', () => {
    const cases = [
      '',
      ' ',
      'ls /tmp | head -3',
      '  a  b  ',
      'a\nb\tc\r\nd',
      '\u00a0a\u2028b\ufeff\u3000c\u180e',
      'a '.repeat(150),
      `${'x'.repeat(199)} y`,
      `${'x'.repeat(200)}\n`,
      `${' \n'.repeat(5000)}tail`,
      `${'word '.repeat(100_000)}`,
      '😀'.repeat(150),
    ];
    for (const s of cases)
      for (const max of [1, 2, 5, 120, 200]) expect(clip(s, max)).toBe(reference(s, max));
  });

  it('agrees on every short string of letters, spaces and newlines', () => {
    const alphabet = ['a', ' ', '\n'];
    const all = (s: string, depth: number): string[] =>
      depth === 0 ? [s] : [s, ...alphabet.flatMap((c) => all(s + c, depth - 1))];
    for (const s of all('', 7))
      for (let max = 1; max <= 8; max++) expect(clip(s, max)).toBe(reference(s, max));
  });

  it('ends a cut text with the ASCII mark, at exactly max characters', () => {
    const cut = clip(`${'ab '.repeat(100)}`, 200);
    expect(cut).toHaveLength(200);
    expect(cut.endsWith(CLIP_MARK)).toBe(true);
    expect(/^[\x20-\x7e]*$/.test(cut)).toBe(true);
  });

  it('returns an unchanged text as it is', () => {
    const s = 'cat /etc/hosts';
    expect(clip(s, 120)).toBe(s);
  });
});

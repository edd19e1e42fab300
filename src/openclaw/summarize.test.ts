import { describe, expect, it } from 'vitest';
import { clip } from './summarize.js';

/** what clip stands for */
function reference(s: string, max: number): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
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

  it('returns an unchanged text as it is', () => {
    const s = 'cat /etc/hosts';
    expect(clip(s, 120)).toBe(s);
  });
});

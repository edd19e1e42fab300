import { describe, expect, it } from 'vitest';
import { codePoints, fitQuoted, markInterrupted, quote } from './text.js';

describe('REST message text', () => {
  it('quotes every line, blank lines included', () => {
    expect(quote('[ACTIVE] main | 3s\n\nline')).toBe('> [ACTIVE] main | 3s\n>\n> line');
  });

  it('fits by code points, keeping header and footer and the newest lines', () => {
    const lines = [
      '> [ACTIVE] main | 3s',
      ...Array.from({ length: 20 }, (_, i) => `> ${'😀'.repeat(10)} ${i}`),
      '> [DONE] 9s',
    ];
    const text = lines.join('\n');
    const fitted = fitQuoted(text, 100);
    expect(codePoints(fitted)).toBeLessThanOrEqual(100);
    expect(fitted.length).toBeGreaterThan(100); // UTF-16 units would have cut too much
    const out = fitted.split('\n');
    expect(out[0]).toBe('> [ACTIVE] main | 3s');
    expect(out[out.length - 1]).toBe('> [DONE] 9s');
    expect(out).toContain('> …');
    expect(fitted).toContain(' 19');
    expect(fitQuoted(text, 10_000)).toBe(text);
  });

  it('closes a box as interrupted from its own text: header tag, footer tag or a new footer', () => {
    expect(markInterrupted('> [ACTIVE] main | 3s\n> working', 'gone')).toBe(
      '> [INTERRUPTED] main | 3s\n> working\n> [INTERRUPTED] gone',
    );
    expect(markInterrupted('> [IDLE] main | 3s\n> working\n> [IDLE] 3s | 1.2k tokens', 'gone')).toBe(
      '> [INTERRUPTED] main | 3s\n> working\n> [INTERRUPTED] 3s | 1.2k tokens | gone',
    );
    expect(markInterrupted('someone edited this', 'gone')).toBe('someone edited this\n> [INTERRUPTED] gone');
  });
});

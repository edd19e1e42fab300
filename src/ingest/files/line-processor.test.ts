import { describe, expect, it } from 'vitest';
import { decodeLine } from './line-processor.js';

const bytes = (...parts: Array<string | number[]>) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

describe('decodeLine', () => {
  it('parses a line, with or without CR, UTF-8 text included', () => {
    expect(decodeLine(bytes('{"type":"message","t":"Grüße 👀"}')).value).toEqual({
      type: 'message',
      t: 'Grüße 👀',
    });
    expect(decodeLine(bytes('{"a":1}\r')).value).toEqual({ a: 1 });
  });

  it('rejects invalid UTF-8 (a stray byte, a truncated sequence, UTF-16) but not a literal U+FFFD', () => {
    expect(decodeLine(bytes('{"a":"', [0xff], '"}')).error).toBe('invalid UTF-8');
    expect(decodeLine(bytes('{"a":"', [0xe2, 0x82], '"}')).error).toBe('invalid UTF-8');
    expect(decodeLine(bytes([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00])).error).toBe('invalid UTF-8');
    expect(decodeLine(bytes('{"a":"\uFFFD"}')).value).toEqual({ a: '\uFFFD' });
  });

  it('reads a line that starts with a UTF-8 byte order mark', () => {
    expect(decodeLine(bytes([0xef, 0xbb, 0xbf], '{"a":1}')).value).toEqual({ a: 1 });
  });

  it('reports invalid JSON and leaves blank lines alone', () => {
    expect(decodeLine(bytes('{"a":')).error).toMatch(/^invalid JSON: /);
    expect(decodeLine(bytes('   ')).empty).toBe(true);
    expect(decodeLine(bytes('')).empty).toBe(true);
  });
});

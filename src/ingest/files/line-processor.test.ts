import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { PulseEvent } from '../../model/events.js';
import { createTranscriptNormalizer } from '../../openclaw/normalize.js';
import { decodeLine, processLine, processLines } from './line-processor.js';

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

describe('processLines', () => {
  const fixture = readFileSync(
    new URL(
      '../../../test/fixtures/openclaw/v2026.7.35/daa6b28a-5388-4104-8e50-89a5a783e4c6.jsonl',
      import.meta.url,
    ),
  );
  const normalizer = () =>
    createTranscriptNormalizer({
      sessionKey: 'agent:main:main',
      agentId: 'main',
      sessionId: 'daa6b28a-5388-4104-8e50-89a5a783e4c6',
      source: 'files',
    });
  const run = (buf: Buffer) => {
    const events: PulseEvent[] = [];
    const bad: Array<[number, string]> = [];
    const r = processLines(buf, normalizer(), events, (i, e) => bad.push([i, e]));
    return { ...r, events, bad };
  };
  /** the same lines one by one, the way processLine reads them */
  const oneByOne = (buf: Buffer) => {
    const n = normalizer();
    const events: PulseEvent[] = [];
    const text = buf.toString('latin1');
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; start = nl + 1, nl = text.indexOf('\n', start))
      events.push(...processLine(buf.subarray(start, nl), n).events);
    return events;
  };

  it('reads a real transcript (ASCII, decoded once) to the events processLine makes of its lines', () => {
    const r = run(fixture);
    expect(r.lines).toBe(fixture.toString().split('\n').length - 1);
    expect(r.bad).toEqual([]);
    expect(r.events.length).toBeGreaterThan(20);
    expect(r.events).toEqual(oneByOne(fixture));
    expect(r.lastId).toBe(JSON.parse(fixture.toString().trim().split('\n').at(-1) as string).id);
  });

  it('reads non-ASCII text line by line, to the same events', () => {
    const text = fixture.toString().replace(/Done\./g, 'Done — “fertig” 👀');
    expect(text).not.toBe(fixture.toString());
    const buf = Buffer.from(text);
    const r = run(buf);
    expect(r.events).toEqual(oneByOne(buf));
    expect(r.events.some((e) => 'text' in e && String(e.text).includes('👀'))).toBe(true);
  });

  it('counts blank, CRLF and invalid JSON lines by index and reads past them, on both paths; ignores what follows the last newline', () => {
    const lines = fixture.toString().trim().split('\n');
    const asText = (s: string) => s;
    const nonAscii = (s: string) => s.replace('Done.', 'Done …');
    for (const variant of [asText, nonAscii]) {
      const buf = Buffer.from(
        variant(`${lines[0]}\r\n\n   \n{"type":\n${lines.slice(1).join('\n')}\n{"type":"message"`),
      );
      const r = run(buf);
      expect(r.lines).toBe(lines.length + 3);
      expect(r.bad.map(([i]) => i)).toEqual([3]);
      expect(r.bad[0]?.[1]).toMatch(/^invalid JSON/);
      expect(r.events.length).toBe(run(fixture).events.length);
    }
  });

  it('reports an invalid UTF-8 line by index and reads the others', () => {
    const lines = fixture.toString().trim().split('\n');
    const buf = bytes(`${lines[0]}\n`, '{"a":"', [0xff], '"}\n', `${lines.slice(1).join('\n')}\n`);
    const r = run(buf);
    expect(r.bad).toEqual([[1, 'invalid UTF-8']]);
    expect(r.events).toEqual(run(fixture).events);
  });
});

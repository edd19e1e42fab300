import { describe, expect, it } from 'vitest';
import { contentText, lineError, parseTranscriptLine, parseTranscriptText } from './transcript.js';

describe('parseTranscriptLine', () => {
  it('keeps known fields, passes unknown blocks, drops unusable blocks and non-numbers', () => {
    const r = parseTranscriptLine({
      type: 'message',
      id: 'a1',
      parentId: null,
      timestamp: '2026-11-21T10:00:00.000Z',
      extra: 1,
      message: {
        role: 'assistant',
        content: [
          { type: 'text', text: 'hi' },
          { type: 'thinking', thinking: 'hmm' },
          { type: 'future', x: 1 },
          { type: 'toolCall', name: 'exec' },
          7,
        ],
        usage: { input: '12', output: 3, cost: { total: 0.5 } },
        stopReason: 'toolUse',
      },
    });
    expect(r.ok).toBe(true);
    if (!r.ok || r.entry.type !== 'message') throw new Error('expected a message');
    const m = r.entry.message as { content: unknown[]; usage: unknown };
    expect(m.content.map((b) => (b as { type: string }).type)).toEqual(['text', 'thinking', 'future']);
    expect(m.usage).toEqual({ output: 3, cost: { total: 0.5 } });
    expect(contentText(m.content as never)).toBe('hi');
  });

  it('unknown entry types pass as other; broken known ones are errors', () => {
    expect(parseTranscriptLine({ type: 'branch_summary', id: 'b' })).toEqual({
      ok: true,
      entry: { type: 'other', rawType: 'branch_summary', id: 'b' },
    });
    expect(parseTranscriptLine({ type: 'message', message: { role: 'toolResult' } }).ok).toBe(false);
    expect(parseTranscriptLine([]).ok).toBe(false);
    expect(parseTranscriptText('{"type":').ok).toBe(false);
    const h = parseTranscriptText(
      '{"type":"session","version":4,"id":"s","timestamp":"2026-11-21T10:00:00.000Z","cwd":"/w"}',
    );
    expect(h).toMatchObject({ ok: true, entry: { type: 'session', version: 4, cwd: '/w' } });
  });

  it('lineError is the error parseTranscriptLine gives', () => {
    const lines: unknown[] = [
      null,
      [],
      'x',
      {},
      { type: 1 },
      { type: 'message' },
      { type: 'message', message: [] },
      { type: 'message', message: { role: 2 } },
      { type: 'message', message: { role: 'toolResult' } },
      { type: 'message', message: { role: 'toolResult', toolCallId: 'c' } },
      { type: 'message', message: { role: 'whatever' } },
      { type: 'custom' },
    ];
    for (const line of lines) {
      const r = parseTranscriptLine(line);
      expect(lineError(line)).toBe(r.ok ? undefined : r.error);
    }
  });

  it('contentText reads unparsed content as parsed content reads', () => {
    const raw = [
      null,
      3,
      { type: 'text', text: 1 },
      { type: 'text', text: 'a' },
      { type: 'image' },
      { type: 'text', text: 'b' },
    ];
    expect(contentText(raw)).toBe('a\nb');
    expect(contentText(7)).toBe('');
    expect(contentText({ type: 'text', text: 'x' })).toBe('');
  });
});

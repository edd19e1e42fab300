import { describe, expect, it } from 'vitest';
import { ev, must, testLimits } from '../model/test-events.js';
import { createSessionTracker } from '../model/tracker.js';
import {
  displayWidth,
  ESC,
  redrawInPlace,
  renderTerminalFrame,
  truncateToWidth,
  wrapToWidth,
} from './terminal.js';
import { BUILTIN_TOOL_LABELS } from './tool-labels.js';

function twoSessions() {
  const t = createSessionTracker(testLimits);
  t.apply(ev({ type: 'agent.started', ts: 0, sessionKey: 'a', agentId: 'main', runId: 'r' }));
  t.apply(
    ev({
      type: 'tool.call',
      ts: 1,
      sessionKey: 'a',
      runId: 'r',
      callId: 'c',
      name: 'exec',
      args: 'ls -la /very/long/path/to/something',
    }),
  );
  t.apply(
    ev({ type: 'tool.error', ts: 2, sessionKey: 'a', runId: 'r', callId: 'c', name: 'exec', error: 'x' }),
  );
  t.apply(ev({ type: 'agent.started', ts: 0, sessionKey: 'b', agentId: 'ops', runId: 'r' }));
  t.apply(ev({ type: 'assistant.text', ts: 3, sessionKey: 'b', text: '日本語のテキストです' }));
  t.apply(
    ev({ type: 'agent.finished', ts: 4000, sessionKey: 'b', runId: 'r', outcome: 'error', error: 'boom' }),
  );
  return t;
}

describe('terminal frame', () => {
  it('measures wide characters and cuts to the width', () => {
    expect(displayWidth('abc')).toBe(3);
    expect(displayWidth('日本')).toBe(4);
    expect(displayWidth('🚀x')).toBe(3);
    expect(truncateToWidth('日本語テキスト', 7)).toBe('日本語…');
    expect(truncateToWidth('short', 10)).toBe('short');
    expect(wrapToWidth('  abcdefghij', 8)).toEqual(['  abcdef', '    ghij']);
  });

  it('renders boxes fitted to the width, without colour', () => {
    const t = twoSessions();
    const frame = renderTerminalFrame([must(t.get('a')), must(t.get('b'))], (k) => t.get(k), {
      now: 10_000,
      toolLabels: BUILTIN_TOOL_LABELS,
      width: 24,
    });
    expect(frame).toBe(
      [
        '[ACTIVE] main | 10s',
        '  exec: ls -la /very/lo…',
        '',
        '[ERROR] ops | 4s',
        '日本語のテキストです',
        '[ERROR] 4s | boom',
      ].join('\n'),
    );
    for (const line of frame.split('\n')) expect(displayWidth(line)).toBeLessThanOrEqual(24);
  });

  it('colours by status and caps the height', () => {
    const t = twoSessions();
    const frame = renderTerminalFrame([must(t.get('a')), must(t.get('b'))], (k) => t.get(k), {
      now: 10_000,
      toolLabels: BUILTIN_TOOL_LABELS,
      width: 80,
      height: 4,
      color: true,
    });
    const rows = frame.split('\n');
    expect(rows).toHaveLength(4);
    expect(rows[0]).toBe('\x1b[1;32m[ACTIVE] main | 10s\x1b[0m');
    expect(rows[1]).toBe('\x1b[31m  exec: ls -la /very/long/path/to/something [ERR]\x1b[0m');
    expect(rows[2]).toBe('');
    expect(rows[3]).toBe('\x1b[90m… 3 more lines\x1b[0m');
  });

  it('redraws in place', () => {
    expect(redrawInPlace('a\nb')).toBe(`${ESC.home}a${ESC.clearLine}\nb${ESC.clearLine}${ESC.clearBelow}`);
  });
});

import { describe, expect, it } from 'vitest';
import { ev, must, testLimits } from '../model/test-events.js';
import { createSessionTracker } from '../model/tracker.js';
import {
  displayWidth,
  ESC,
  redrawInPlace,
  renderTerminalFrame,
  shareRows,
  stripAnsi,
  truncateToWidth,
  wrapToWidth,
} from './terminal.js';
import { BUILTIN_TOOL_LABELS } from './tool-labels.js';

const A = 'agent:main:a';
const sep = (short: string) => `── ${short} ${'─'.repeat(80 - short.length - 4)}`;
const B = 'agent:ops:b';

function twoSessions() {
  const t = createSessionTracker(testLimits);
  t.apply(ev({ type: 'agent.started', ts: 0, sessionKey: A, agentId: 'main', runId: 'r' }));
  t.apply(
    ev({
      type: 'tool.call',
      ts: 1,
      sessionKey: A,
      runId: 'r',
      callId: 'c',
      name: 'exec',
      args: 'ls -la /very/long/path/to/something',
    }),
  );
  t.apply(
    ev({ type: 'tool.error', ts: 2, sessionKey: A, runId: 'r', callId: 'c', name: 'exec', error: 'x' }),
  );
  t.apply(ev({ type: 'agent.started', ts: 0, sessionKey: B, agentId: 'ops', runId: 'r' }));
  t.apply(ev({ type: 'assistant.text', ts: 3, sessionKey: B, text: '日本語のテキストです' }));
  t.apply(
    ev({ type: 'agent.finished', ts: 4000, sessionKey: B, runId: 'r', outcome: 'error', error: 'boom' }),
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

  it('renders boxes under a separator naming the session, failed ones first, fitted to the width', () => {
    const t = twoSessions();
    const frame = renderTerminalFrame([must(t.get(A)), must(t.get(B))], (k) => t.get(k), {
      now: 10_000,
      toolLabels: BUILTIN_TOOL_LABELS,
      width: 24,
    });
    expect(frame).toBe(
      [
        '── b ───────────────────',
        '[ERROR] ops | 4s',
        '日本語のテキストです',
        '[ERROR] 4s | boom',
        '── a ───────────────────',
        '[ACTIVE] main | 10s',
        '  exec: ls -la /very/lo…',
      ].join('\n'),
    );
    for (const line of frame.split('\n')) expect(displayWidth(line)).toBeLessThanOrEqual(24);
  });

  it('colours by status; too tall, every box keeps its header and footer and its newest lines', () => {
    const t = twoSessions();
    for (let i = 0; i < 10; i++)
      t.apply(ev({ type: 'assistant.text', ts: 5 + i, sessionKey: A, runId: 'r', text: `step ${i}` }));
    const stuck = 'agent:main:stuck';
    t.apply(ev({ type: 'agent.started', ts: 0, sessionKey: stuck, runId: 'r' }));
    t.tick(300_000);
    expect(t.get(stuck)?.status).toBe('stuck');
    const roots = [must(t.get(A)), must(t.get(B)), must(t.get(stuck))];
    const frame = renderTerminalFrame(roots, (k) => t.get(k), {
      now: 300_000,
      toolLabels: BUILTIN_TOOL_LABELS,
      width: 80,
      height: 12,
      color: true,
    });
    const rows = frame.split('\n');
    expect(rows).toHaveLength(12);
    expect(rows[0]).toBe(`\x1b[90m${sep('stuck')}\x1b[0m`);
    expect(rows[1]).toBe('\x1b[1;1;35m[STUCK] main | 5m00s\x1b[0m');
    expect(rows[2]?.startsWith('\x1b[1;35m[STUCK] 5m00s | no activity for 5m00s')).toBe(true);
    const plain = rows.map(stripAnsi);
    expect(plain.slice(3)).toEqual([
      sep('b'),
      '[ERROR] ops | 4s',
      '日本語のテキストです',
      '[ERROR] 4s | boom',
      sep('a'),
      '[ACTIVE] main | 5m00s',
      '… 9 earlier lines',
      'step 8',
      'step 9',
    ]);
  });

  it('shares body rows fairly: short boxes whole, the rest split', () => {
    expect(shareRows([1, 10, 10], 9)).toEqual([1, 4, 4]);
    expect(shareRows([2, 3], 10)).toEqual([2, 3]);
    expect(shareRows([5, 5], 0)).toEqual([0, 0]);
  });

  it('ends with "… N more lines" only when even the headers do not fit', () => {
    const t = twoSessions();
    const frame = renderTerminalFrame([must(t.get(A)), must(t.get(B))], (k) => t.get(k), {
      now: 10_000,
      toolLabels: BUILTIN_TOOL_LABELS,
      width: 80,
      height: 4,
    });
    const rows = frame.split('\n');
    expect(rows).toHaveLength(4);
    expect(rows[1]).toBe('[ERROR] ops | 4s');
    expect(rows[3]).toBe('… 4 more lines');
  });

  it('redraws in place', () => {
    expect(redrawInPlace('a\nb')).toBe(`${ESC.home}a${ESC.clearLine}\nb${ESC.clearLine}${ESC.clearBelow}`);
  });
});

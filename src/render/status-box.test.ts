import { describe, expect, it } from 'vitest';
import type { PulseEvent } from '../model/events.js';
import { ev, must, testLimits } from '../model/test-events.js';
import { codePointLength } from '../model/text.js';
import { createSessionTracker, type SessionTracker } from '../model/tracker.js';
import { formatDuration, formatTokens } from './format.js';
import { renderStatusBox } from './status-box.js';
import { BUILTIN_TOOL_LABELS } from './tool-labels.js';

const K = 'agent:main:main';
const C = 'agent:main:subagent:planner';

/** the DESIGN.md example, as events */
function designTree(): SessionTracker {
  const t = createSessionTracker(testLimits);
  const feed: PulseEvent[] = [
    ev({ type: 'agent.started', ts: 0, sessionKey: K, runId: 'r1' }),
    ev({
      type: 'assistant.text',
      ts: 1000,
      sessionKey: K,
      runId: 'r1',
      text: 'Reading live-status source code...',
    }),
    ev({
      type: 'tool.call',
      ts: 2000,
      sessionKey: K,
      runId: 'r1',
      callId: 'c1',
      name: 'exec',
      args: 'ls /agents/sessions',
    }),
    ev({ type: 'tool.output', ts: 3000, sessionKey: K, runId: 'r1', callId: 'c1', name: 'exec' }),
    ev({
      type: 'assistant.text',
      ts: 4000,
      sessionKey: K,
      runId: 'r1',
      text: 'Analyzing agent configurations...',
    }),
    ev({
      type: 'tool.call',
      ts: 5000,
      sessionKey: K,
      runId: 'r1',
      callId: 'c2',
      name: 'exec',
      args: '{"command":"grep -r live-status","timeout":30}',
    }),
    ev({ type: 'tool.output', ts: 6000, sessionKey: K, runId: 'r1', callId: 'c2', name: 'exec' }),
    ev({
      type: 'assistant.text',
      ts: 7000,
      sessionKey: K,
      runId: 'r1',
      text: 'Writing new implementation...',
    }),
    ev({
      type: 'subagent.spawned',
      ts: 10_000,
      sessionKey: K,
      parentKey: K,
      childKey: C,
      label: 'proj035-planner',
    }),
    ev({ type: 'agent.started', ts: 10_000, sessionKey: C, runId: 'rc' }),
    ev({ type: 'assistant.text', ts: 12_000, sessionKey: C, runId: 'rc', text: 'Reading protocol...' }),
    ev({ type: 'assistant.text', ts: 20_000, sessionKey: C, runId: 'rc', text: 'Analyzing JSONL format...' }),
  ];
  for (const e of feed) t.apply(e);
  return t;
}

function finishDesignTree(t: SessionTracker): void {
  t.apply(ev({ type: 'agent.finished', ts: 38_000, sessionKey: C, runId: 'rc', outcome: 'ok' }));
  t.apply(
    ev({ type: 'subagent.finished', ts: 38_000, sessionKey: K, parentKey: K, childKey: C, outcome: 'ok' }),
  );
  t.apply(
    ev({
      type: 'assistant.text',
      ts: 50_000,
      sessionKey: K,
      runId: 'r1',
      text: 'Plan ready. Awaiting approval.',
    }),
  );
  t.apply(
    ev({
      type: 'llm.tokens',
      ts: 50_000,
      sessionKey: K,
      input: 10_000,
      output: 2_000,
      cacheRead: 400,
      cacheWrite: 0,
      reasoning: 0,
      costUsd: 0.1,
    }),
  );
  t.apply(ev({ type: 'agent.finished', ts: 53_000, sessionKey: K, runId: 'r1', outcome: 'ok' }));
  t.tick(53_000 + 60_000);
}

const render = (t: SessionTracker, now: number, maxChars?: number) =>
  renderStatusBox(must(t.get(K)), (k) => t.get(k), { now, toolLabels: BUILTIN_TOOL_LABELS, maxChars });

describe('formats', () => {
  it('durations and tokens', () => {
    expect(
      [0, 999, 38_000, 59_999, 60_000, 125_000, 3_599_000, 3_720_000, 90_000_000].map(formatDuration),
    ).toEqual(['0s', '0s', '38s', '59s', '1m00s', '2m05s', '59m59s', '1h02m', '25h00m']);
    expect([0, 950, 1000, 12_400, 12_449, 999_949, 999_999, 1_200_000, 25_000_000].map(formatTokens)).toEqual(
      ['0', '950', '1k', '12.4k', '12.4k', '999.9k', '1M', '1.2M', '25M'],
    );
  });
});

describe('renderStatusBox', () => {
  it('renders an active tree with a running sub-agent', () => {
    const t = designTree();
    t.apply(
      ev({
        type: 'tool.call',
        ts: 21_000,
        sessionKey: C,
        runId: 'rc',
        callId: 'x',
        name: 'read',
        args: '/docs/protocol.md',
      }),
    );
    expect(render(t, 38_000)).toBe(
      [
        '[ACTIVE] main | 38s',
        'Reading live-status source code...',
        '  exec: ls /agents/sessions [OK]',
        'Analyzing agent configurations...',
        '  exec: grep -r live-status [OK]',
        'Writing new implementation...',
        '  Sub-agent: proj035-planner',
        '    Reading protocol...',
        '    Analyzing JSONL format...',
        '      read: /docs/protocol.md ...',
      ].join('\n'),
    );
  });

  it('renders the finished DESIGN.md example exactly', () => {
    const t = designTree();
    finishDesignTree(t);
    expect(render(t, 200_000)).toBe(
      [
        '[DONE] main | 53s',
        'Reading live-status source code...',
        '  exec: ls /agents/sessions [OK]',
        'Analyzing agent configurations...',
        '  exec: grep -r live-status [OK]',
        'Writing new implementation...',
        '  Sub-agent: proj035-planner',
        '    Reading protocol...',
        '    Analyzing JSONL format...',
        '    [DONE] 28s',
        'Plan ready. Awaiting approval.',
        '[DONE] 53s | 12.4k tokens | $0.10',
      ].join('\n'),
    );
  });

  it('shows tool errors, the last error in the footer, stuck and stopped notes', () => {
    const t = createSessionTracker(testLimits);
    t.apply(ev({ type: 'agent.started', ts: 0, sessionKey: K, runId: 'r' }));
    t.apply(
      ev({
        type: 'tool.call',
        ts: 1,
        sessionKey: K,
        runId: 'r',
        callId: 'a',
        name: 'web_fetch',
        args: 'https://example.com',
      }),
    );
    t.apply(
      ev({
        type: 'tool.error',
        ts: 2,
        sessionKey: K,
        runId: 'r',
        callId: 'a',
        name: 'web_fetch',
        error: '404',
      }),
    );
    t.apply(ev({ type: 'tool.call', ts: 3, sessionKey: K, runId: 'r', callId: 'b', name: 'my_custom_tool' }));
    t.apply(
      ev({
        type: 'llm.error',
        ts: 4000,
        sessionKey: K,
        runId: 'r',
        status: 529,
        message: 'overloaded',
        retryable: true,
      }),
    );
    t.apply(
      ev({
        type: 'agent.finished',
        ts: 12_000,
        sessionKey: K,
        runId: 'r',
        outcome: 'error',
        error: 'overloaded',
      }),
    );
    expect(render(t, 99_999)).toBe(
      [
        '[ERROR] main | 12s',
        '  fetch: https://example.com [ERR]',
        '  my_custom_tool [ERR]',
        '[ERROR] 12s | 529 overloaded',
      ].join('\n'),
    );

    const s = createSessionTracker(testLimits);
    s.apply(ev({ type: 'agent.started', ts: 0, sessionKey: K, runId: 'r' }));
    s.tick(300_000);
    expect(
      renderStatusBox(must(s.get(K)), (k) => s.get(k), { now: 310_000, toolLabels: BUILTIN_TOOL_LABELS }),
    ).toBe(['[STUCK] main | 5m10s', '[STUCK] 5m10s | no activity for 5m00s (run open)'].join('\n'));
    s.tick(1_800_000);
    expect(
      renderStatusBox(must(s.get(K)), (k) => s.get(k), { now: 1_900_000, toolLabels: BUILTIN_TOOL_LABELS }),
    ).toBe(['[DONE] main | 30m00s', '[DONE] 30m00s | stopped after max duration (30m00s)'].join('\n'));
  });

  it('maxChars drops the oldest body lines, counts code points, keeps header and footer', () => {
    const t = designTree();
    t.apply(ev({ type: 'assistant.text', ts: 30_000, sessionKey: K, text: '🚀🚀🚀 Déploiement terminé ✅' }));
    finishDesignTree(t);
    const full = render(t, 200_000);
    const fullLen = codePointLength(full);
    expect(fullLen).toBeLessThan(full.length); // the emoji are 2 UTF-16 units each
    expect(render(t, 200_000, fullLen)).toBe(full);
    const cut = render(t, 200_000, 150);
    expect(codePointLength(cut)).toBeLessThanOrEqual(150);
    const lines = cut.split('\n');
    expect(lines[0]).toBe('[DONE] main | 53s');
    expect(lines[1]).toBe('…');
    expect(lines.at(-1)).toBe('[DONE] 53s | 12.4k tokens | $0.10');
    expect(lines.slice(-3, -1)).toEqual(['🚀🚀🚀 Déploiement terminé ✅', 'Plan ready. Awaiting approval.']);
    // exactly the newest lines that fit: one more would overflow
    expect(full.endsWith(lines.slice(2).join('\n'))).toBe(true);
    const tiny = render(t, 200_000, 10);
    expect(codePointLength(tiny)).toBeLessThanOrEqual(10);
  });
});

describe('names', () => {
  it('label, then a one-line cut display name, then the agent id', () => {
    const t = createSessionTracker(testLimits);
    t.apply(
      ev({
        type: 'session.seen',
        ts: 0,
        sessionKey: 'a',
        agentId: 'ops',
        displayName: `Hello,\nplease ${'x'.repeat(80)}`,
      }),
    );
    t.apply(
      ev({
        type: 'session.seen',
        ts: 0,
        sessionKey: 'b',
        agentId: 'ops',
        label: 'nightly',
        displayName: 'ignored',
      }),
    );
    t.apply(ev({ type: 'session.seen', ts: 0, sessionKey: 'c', agentId: 'ops' }));
    const head = (k: string) =>
      renderStatusBox(must(t.get(k)), (x) => t.get(x), { now: 0, toolLabels: BUILTIN_TOOL_LABELS }).split(
        '\n',
      )[0];
    expect(head('a')).toBe(`[ACTIVE] Hello, please ${'x'.repeat(33)}… | 0s`);
    expect(head('b')).toBe('[ACTIVE] nightly | 0s');
    expect(head('c')).toBe('[ACTIVE] ops | 0s');
  });
});

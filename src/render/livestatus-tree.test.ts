import { describe, expect, it } from 'vitest';
import { ev, must, testLimits } from '../model/test-events.js';
import { createSessionTracker } from '../model/tracker.js';
import { toLiveStatusProps } from './livestatus-tree.js';
import { BUILTIN_TOOL_LABELS } from './tool-labels.js';

const K = 'agent:main:main';
const C1 = 'agent:main:subagent:one';
const C2 = 'agent:main:subagent:two';

describe('toLiveStatusProps', () => {
  it('nests children in line order, carries the error, skips children it cannot find', () => {
    const t = createSessionTracker(testLimits);
    t.apply(ev({ type: 'agent.started', ts: 0, sessionKey: K, runId: 'r' }));
    t.apply(ev({ type: 'subagent.spawned', ts: 1, sessionKey: K, parentKey: K, childKey: C1, label: 'one' }));
    t.apply(ev({ type: 'session.compacted', ts: 2, sessionKey: K, mode: 'rewrite' }));
    t.apply(ev({ type: 'subagent.spawned', ts: 3, sessionKey: K, parentKey: K, childKey: C2, label: 'two' }));
    t.apply(
      ev({ type: 'tool.call', ts: 4, sessionKey: K, runId: 'r', callId: 'c', name: 'exec', args: 'make' }),
    );
    t.apply(
      ev({
        type: 'llm.error',
        ts: 5,
        sessionKey: K,
        runId: 'r',
        status: 529,
        message: 'overloaded',
        retryable: true,
      }),
    );
    t.apply(
      ev({ type: 'agent.finished', ts: 6, sessionKey: K, runId: 'r', outcome: 'error', error: 'overloaded' }),
    );
    const lookup = (k: string) => (k === C1 ? undefined : t.get(k));
    const props = toLiveStatusProps(must(t.get(K)), lookup, 100, BUILTIN_TOOL_LABELS);
    expect(props.root.status).toBe('error');
    expect(props.root.error).toBe('529 overloaded');
    expect(props.root.endedAt).toBe(6);
    expect(props.root.lines).toEqual([
      { kind: 'system', text: '[session compacted - continuing]' },
      { kind: 'child', childIndex: 0 },
      { kind: 'tool', text: 'exec: make', toolStatus: 'error', durationMs: 2 },
    ]);
    expect(props.root.children.map((c) => c.label)).toEqual(['two']);
    expect(props.root.children[0]?.status).toBe('active');
    expect(props.root.children[0]?.error).toBeUndefined();
  });

  it('marks a cost priced from the price table (costEstimated), only on the session that has one', () => {
    const t = createSessionTracker(testLimits);
    const tokens = { input: 100_000, output: 5000, cacheRead: 0, cacheWrite: 0, reasoning: 0 };
    t.apply(ev({ type: 'agent.started', ts: 0, sessionKey: K, runId: 'r' }));
    t.apply(ev({ type: 'subagent.spawned', ts: 1, sessionKey: K, parentKey: K, childKey: C1, label: 'one' }));
    t.apply(ev({ type: 'llm.tokens', ts: 2, sessionKey: K, runId: 'r', ...tokens, costUsd: 0.5 }));
    t.apply(
      ev({
        type: 'llm.tokens',
        ts: 3,
        sessionKey: C1,
        runId: 'c',
        ...tokens,
        costUsd: 0.375,
        costEstimated: true,
      }),
    );
    const props = toLiveStatusProps(must(t.get(K)), (k) => t.get(k), 100, BUILTIN_TOOL_LABELS);
    const child = must(props.root.children[0], 'child');
    expect(child).toMatchObject({ costUsd: 0.375, costEstimated: true });
    // absent, not false, where the source gave the cost: the props stay as they were (v1)
    expect('costEstimated' in props.root).toBe(false);
    expect(props.v).toBe(1);
    // what the daemon posts is JSON: the mark survives it
    expect(JSON.parse(JSON.stringify(props)).root.children[0].costEstimated).toBe(true);
  });
});

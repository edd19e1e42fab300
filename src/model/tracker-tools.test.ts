import { describe, expect, it } from 'vitest';
import type { SessionState } from './session.js';
import { ev, must, testLimits } from './test-events.js';
import { createSessionTracker } from './tracker.js';

const K = 'agent:main:main';
const C = 'agent:main:subagent:c1';

function tracker(limits = testLimits) {
  return createSessionTracker(limits);
}

describe('tools, text, tokens', () => {
  it('correlates tool calls by (runId, callId); duplicates are no-ops; outputs close them', () => {
    const t = tracker();
    t.apply(
      ev({
        type: 'tool.call',
        ts: 0,
        sessionKey: K,
        runId: 'r1',
        callId: 'call_1',
        name: 'exec',
        args: 'ls',
      }),
    );
    expect(
      t.apply(ev({ type: 'tool.call', ts: 1, sessionKey: K, runId: 'r1', callId: 'call_1', name: 'exec' })),
    ).toEqual([]);
    t.apply(ev({ type: 'tool.call', ts: 2, sessionKey: K, runId: 'r2', callId: 'call_1', name: 'read' }));
    t.apply(
      ev({
        type: 'tool.output',
        ts: 500,
        sessionKey: K,
        runId: 'r1',
        callId: 'call_1',
        name: 'exec',
        output: 'x',
      }),
    );
    t.apply(
      ev({
        type: 'tool.error',
        ts: 900,
        sessionKey: K,
        runId: 'r2',
        callId: 'call_1',
        name: 'read',
        error: 'ENOENT',
        durationMs: 7,
      }),
    );
    const s = t.get(K) as SessionState;
    expect(s.tools).toEqual([
      {
        callId: 'call_1',
        runId: 'r1',
        name: 'exec',
        args: 'ls',
        status: 'ok',
        startedAt: 0,
        endedAt: 500,
        durationMs: 500,
      },
      {
        callId: 'call_1',
        runId: 'r2',
        name: 'read',
        status: 'error',
        startedAt: 2,
        endedAt: 900,
        durationMs: 7,
        error: 'ENOENT',
      },
    ]);
    expect(s.lines.filter((l) => l.kind === 'tool')).toHaveLength(2);
    expect(
      t.apply(
        ev({ type: 'tool.output', ts: 901, sessionKey: K, runId: 'r1', callId: 'call_1', name: 'exec' }),
      ),
    ).toEqual([]);
  });

  it('a finished run closes its running tools (ok if the run was ok, else error)', () => {
    const t = tracker();
    t.apply(ev({ type: 'agent.started', ts: 0, sessionKey: 'a', runId: 'r' }));
    t.apply(ev({ type: 'tool.call', ts: 1, sessionKey: 'a', runId: 'r', callId: 'c', name: 'exec' }));
    t.apply(ev({ type: 'agent.finished', ts: 10, sessionKey: 'a', runId: 'r', outcome: 'ok' }));
    expect(t.get('a')?.tools[0]).toMatchObject({ status: 'ok', durationMs: 9 });
    t.apply(ev({ type: 'agent.started', ts: 0, sessionKey: 'b', runId: 'r' }));
    t.apply(ev({ type: 'tool.call', ts: 1, sessionKey: 'b', runId: 'r', callId: 'c', name: 'exec' }));
    t.apply(
      ev({ type: 'agent.finished', ts: 10, sessionKey: 'b', runId: 'r', outcome: 'error', error: 'bad' }),
    );
    expect(t.get('b')?.tools[0]).toMatchObject({ status: 'error', error: 'bad' });
    // nothing is open any more: no stuck, plain done after idle
    t.tick(10_000_000);
    expect(t.get('a')?.status).toBe('done');
  });

  it('a tool output without its call still shows, finished', () => {
    const t = tracker();
    t.apply(
      ev({
        type: 'tool.output',
        ts: 100,
        sessionKey: K,
        runId: 'r',
        callId: 'c',
        name: 'read',
        durationMs: 40,
      }),
    );
    expect(t.get(K)?.tools[0]).toMatchObject({ status: 'ok', startedAt: 60, durationMs: 40 });
    expect(t.tick(100 + 60_000)).toEqual([K]); // not stuck: the tool is closed
    expect(t.get(K)?.status).toBe('done');
  });

  it('assistant.text: first meaningful line, tags stripped, truncated with …', () => {
    const t = tracker();
    t.apply(
      ev({
        type: 'assistant.text',
        ts: 0,
        sessionKey: K,
        text: '[[reply_to_current]]  \n\n```\n## Plan ready.  Awaiting approval.\nsecond line',
      }),
    );
    t.apply(ev({ type: 'assistant.text', ts: 1, sessionKey: K, text: '   \n[[reply_to:42]]' }));
    t.apply(ev({ type: 'assistant.text', ts: 2, sessionKey: K, text: 'é'.repeat(300) }));
    const lines = t.get(K)?.lines as Array<{ kind: string; text?: string }>;
    expect(lines).toHaveLength(2);
    expect(lines[0]?.text).toBe('Plan ready. Awaiting approval.');
    expect(lines[1]?.text).toBe(`${'é'.repeat(199)}…`);
  });

  it('caps lines, dropping the oldest but keeping sub-agent lines', () => {
    const t = tracker({ ...testLimits, maxStatusLines: 3 });
    t.apply(ev({ type: 'assistant.text', ts: 0, sessionKey: K, text: 'a' }));
    t.apply(ev({ type: 'subagent.spawned', ts: 1, sessionKey: K, parentKey: K, childKey: C }));
    for (const x of ['b', 'c', 'd']) t.apply(ev({ type: 'assistant.text', ts: 2, sessionKey: K, text: x }));
    const s = t.get(K) as SessionState;
    expect(s.lines.map((l) => (l.kind === 'text' ? l.text : l.kind))).toEqual(['subagent', 'c', 'd']);
    expect(s.children).toEqual([C]);
  });

  it('a line older than every line of a full box is dropped at once; a sub-agent line stays', () => {
    const t = tracker({ ...testLimits, maxStatusLines: 2 });
    for (const [ts, text] of [
      [10, 'b'],
      [20, 'c'],
      [5, 'old'],
    ] as const) {
      t.apply(ev({ type: 'assistant.text', ts, sessionKey: K, text }));
    }
    t.apply(ev({ type: 'tool.call', ts: 1, sessionKey: K, runId: 'r', callId: 'x', name: 'exec' }));
    const s = t.get(K) as SessionState;
    expect(s.lines.map((l) => (l.kind === 'text' ? l.text : l.kind))).toEqual(['b', 'c']);
    expect(s.tools).toHaveLength(1); // the call is recorded even when its line is not shown
    t.apply(ev({ type: 'subagent.spawned', ts: 2, sessionKey: K, parentKey: K, childKey: C }));
    expect(s.lines.map((l) => (l.kind === 'text' ? l.text : l.kind))).toEqual(['subagent', 'c']);
  });

  it('an event that changes only its own session returns just its key, every time', () => {
    const t = tracker();
    const a = t.apply(ev({ type: 'agent.started', ts: 0, sessionKey: K, runId: 'r' }));
    const b = t.apply(ev({ type: 'assistant.text', ts: 1, sessionKey: K, text: 'hi' }));
    const c = t.apply(ev({ type: 'assistant.text', ts: 2, sessionKey: K, text: 'again' }));
    expect([a, b, c]).toEqual([[K], [K], [K]]);
    // shared between calls, so nobody may change it
    expect(Object.isFrozen(c)).toBe(true);
    // an event that changes more sessions lists them all (a key may repeat)
    const spawn = t.apply(ev({ type: 'subagent.spawned', ts: 3, sessionKey: K, parentKey: K, childKey: C }));
    expect(new Set(spawn)).toEqual(new Set([K, C]));
  });

  it('finds each tool of a run with many calls, whichever output comes first', () => {
    const t = tracker();
    const ids = ['a', 'b', 'c', 'd'];
    for (const runId of ['r1', 'r2']) {
      for (const callId of ids)
        t.apply(ev({ type: 'tool.call', ts: 1, sessionKey: K, runId, callId, name: 'exec' }));
    }
    for (const callId of [...ids].reverse()) {
      t.apply(ev({ type: 'tool.output', ts: 5, sessionKey: K, runId: 'r2', callId, name: 'exec' }));
    }
    t.apply(
      ev({ type: 'tool.error', ts: 6, sessionKey: K, runId: 'r1', callId: 'c', name: 'exec', error: 'x' }),
    );
    const s = t.get(K) as SessionState;
    expect(s.tools.map((x) => `${x.runId}/${x.callId}:${x.status}`)).toEqual([
      'r1/a:running',
      'r1/b:running',
      'r1/c:error',
      'r1/d:running',
      'r2/a:ok',
      'r2/b:ok',
      'r2/c:ok',
      'r2/d:ok',
    ]);
  });

  it('sums tokens and cost', () => {
    const t = tracker();
    const tok = {
      type: 'llm.tokens' as const,
      sessionKey: K,
      input: 100,
      output: 20,
      cacheRead: 5,
      cacheWrite: 3,
      reasoning: 2,
      costUsd: 0.25,
    };
    t.apply(ev({ ...tok, ts: 0 }));
    t.apply(ev({ ...tok, ts: 1, model: 'gpt', provider: 'openai' }));
    const s = t.get(K) as SessionState;
    expect(s.tokens).toEqual({
      input: 200,
      output: 40,
      cacheRead: 10,
      cacheWrite: 6,
      reasoning: 4,
      total: 260,
    });
    expect(s.costUsd).toBeCloseTo(0.5);
    expect(s.model).toBe('gpt');
  });

  it('compaction (rewrite) adds a system line and counts; reset clears lines', () => {
    const t = tracker();
    t.apply(ev({ type: 'assistant.text', ts: 0, sessionKey: K, text: 'x' }));
    t.apply(ev({ type: 'session.compacted', ts: 1, sessionKey: K, mode: 'append' }));
    t.apply(ev({ type: 'session.compacted', ts: 2, sessionKey: K, mode: 'rewrite' }));
    let s = t.get(K) as SessionState;
    expect(s.compactions).toBe(2);
    expect(s.lines.at(-1)).toEqual({ kind: 'system', text: '[session compacted - continuing]', ts: 2 });
    t.apply(ev({ type: 'session.reset', ts: 3, sessionKey: K, sessionId: 'new' }));
    s = t.get(K) as SessionState;
    expect(s.sessionId).toBe('new');
    expect(s.lines).toEqual([]);
  });

  it('garbage does not throw', () => {
    const t = tracker();
    expect(t.apply({} as never)).toEqual([]);
    expect(t.apply({ type: 'nope', sessionKey: 'k', ts: 1 } as never)).toEqual([]);
    t.apply(
      ev({
        type: 'llm.tokens',
        ts: Number.NaN,
        sessionKey: K,
        input: Number.NaN,
        output: 1,
        cacheRead: 0,
        cacheWrite: 0,
        reasoning: 0,
        costUsd: Number.NaN,
      }),
    );
    expect(t.get(K)?.tokens.total).toBe(1);
  });
});

describe('restore', () => {
  it('restores snapshots with working indexes (tool dedupe, stuck, parents)', () => {
    const a = tracker();
    a.apply(ev({ type: 'agent.started', ts: 0, sessionKey: K, runId: 'r1' }));
    a.apply(ev({ type: 'tool.call', ts: 1, sessionKey: K, runId: 'r1', callId: 'c', name: 'exec' }));
    a.apply(ev({ type: 'session.seen', ts: 2, sessionKey: C, parentKey: K }));
    const snaps = JSON.parse(JSON.stringify(a.all())) as SessionState[];
    const b = tracker();
    b.restore(snaps);
    expect(
      b.apply(ev({ type: 'tool.call', ts: 3, sessionKey: K, runId: 'r1', callId: 'c', name: 'exec' })),
    ).toEqual([]);
    expect(b.rootOf(C)?.key).toBe(K);
    expect(b.tick(400_000)).toContain(K);
    expect(b.get(K)?.status).toBe('stuck');
    must(snaps[0]).status = 'error';
    expect(b.get(K)?.status).toBe('stuck'); // no aliasing
  });
});

describe('late events', () => {
  it('a late event of the finished run adds its line without starting a new turn', () => {
    const t = createSessionTracker(testLimits);
    t.apply(ev({ type: 'agent.started', ts: 0, sessionKey: K, runId: 'r1' }));
    t.apply(ev({ type: 'agent.finished', ts: 10, sessionKey: K, runId: 'r1', outcome: 'ok' }));
    t.apply(ev({ type: 'assistant.text', ts: 12, sessionKey: K, runId: 'r1', text: 'late words' }));
    expect(t.get(K)).toMatchObject({ status: 'idle', endedAt: 10, activeSince: 0 });
    expect(t.get(K)?.lines).toHaveLength(1);
    t.apply(ev({ type: 'assistant.text', ts: 20, sessionKey: K, text: 'no run id: a new turn' }));
    expect(t.get(K)).toMatchObject({ status: 'active', activeSince: 20 });
  });

  it('a sub-agent spawned under an unusual key takes the event agentId', () => {
    const t = createSessionTracker(testLimits);
    t.apply(
      ev({
        type: 'subagent.spawned',
        ts: 0,
        sessionKey: K,
        agentId: 'main',
        parentKey: K,
        childKey: 'child-x',
      }),
    );
    expect(t.get('child-x')?.agentId).toBe('main');
  });
});

describe('narration lines', () => {
  it('drops markdown noise around the words', async () => {
    const { narrationLine } = await import('./text.js');
    expect(narrationLine('---\n> **Plan:** fix the parser')).toBe('Plan: fix the parser');
    expect(narrationLine('```ts\ncode')).toBe('code');
    expect(narrationLine('| --- | --- |\n\tTabs\tand  spaces ')).toBe('Tabs and spaces');
    expect(narrationLine('   ')).toBeUndefined();
  });
});

describe('tools closed by inference', () => {
  it('a new run closes the tools of the previous open run; their late output corrects them', () => {
    const t = createSessionTracker(testLimits);
    t.apply(ev({ type: 'agent.started', ts: 0, sessionKey: K, runId: 'r1' }));
    t.apply(ev({ type: 'tool.call', ts: 1, sessionKey: K, runId: 'r1', callId: 'c', name: 'exec' }));
    t.apply(ev({ type: 'agent.started', ts: 10, sessionKey: K, runId: 'r2' }));
    expect(t.get(K)?.tools[0]).toMatchObject({ status: 'error', error: 'no result (a new run started)' });
    // nothing open any more: not stuck, just done after the idle timeout... once r2 ends
    t.apply(
      ev({
        type: 'tool.output',
        ts: 12,
        sessionKey: K,
        runId: 'r1',
        callId: 'c',
        name: 'exec',
        durationMs: 11,
      }),
    );
    expect(t.get(K)?.tools[0]).toMatchObject({ status: 'ok', durationMs: 11 });
    expect(t.get(K)?.tools[0]?.error).toBeUndefined();
    // a second sighting of a real output is still a no-op
    expect(
      t.apply(
        ev({ type: 'tool.error', ts: 13, sessionKey: K, runId: 'r1', callId: 'c', name: 'exec', error: 'x' }),
      ),
    ).toEqual([]);
    expect(t.get(K)?.tools[0]?.status).toBe('ok');
  });

  it('a run that ended ok closed its tool ok; a late tool.error from another source corrects it', () => {
    const t = createSessionTracker(testLimits);
    t.apply(ev({ type: 'agent.started', ts: 0, sessionKey: K, runId: 'r' }));
    t.apply(ev({ type: 'tool.call', ts: 1, sessionKey: K, runId: 'r', callId: 'c', name: 'exec' }));
    t.apply(ev({ type: 'agent.finished', ts: 5, sessionKey: K, runId: 'r', outcome: 'ok' }));
    t.apply(
      ev({
        type: 'tool.error',
        ts: 6,
        sessionKey: K,
        runId: 'r',
        callId: 'c',
        name: 'exec',
        error: 'exit 1',
      }),
    );
    expect(t.get(K)?.tools[0]).toMatchObject({ status: 'error', error: 'exit 1' });
    expect(t.get(K)?.status).toBe('idle');
  });
});

describe('history after the end', () => {
  it('activity older than the end of a finished session adds lines but no new turn', () => {
    const t = createSessionTracker(testLimits);
    t.apply(ev({ type: 'session.seen', ts: 5000, sessionKey: K, updatedAt: 5000, rowStatus: 'done' }));
    t.apply(
      ev({
        type: 'subagent.spawned',
        ts: 3000,
        sessionKey: K,
        parentKey: K,
        childKey: 'agent:main:subagent:x',
      }),
    );
    t.apply(ev({ type: 'assistant.text', ts: 4000, sessionKey: K, text: 'old words' }));
    expect(t.get(K)).toMatchObject({ status: 'done', endedAt: 5000 });
    expect(t.get(K)?.lines.map((l) => l.kind)).toEqual(['subagent', 'text']);
    t.apply(ev({ type: 'assistant.text', ts: 6000, sessionKey: K, text: 'new words' }));
    expect(t.get(K)).toMatchObject({ status: 'active', activeSince: 6000 });
  });
});

describe('tool cap', () => {
  it('keeps a long-lived session bounded, dropping the oldest finished tools', async () => {
    const { MAX_TOOLS } = await import('./state.js');
    const t = createSessionTracker(testLimits);
    t.apply(ev({ type: 'tool.call', ts: 0, sessionKey: K, runId: 'r0', callId: 'open', name: 'exec' }));
    for (let i = 1; i <= MAX_TOOLS + 600; i++) {
      t.apply(ev({ type: 'tool.call', ts: i, sessionKey: K, runId: `r${i}`, callId: 'c', name: 'exec' }));
      t.apply(ev({ type: 'tool.output', ts: i, sessionKey: K, runId: `r${i}`, callId: 'c', name: 'exec' }));
    }
    const s = t.get(K) as SessionState;
    expect(s.tools.length).toBeLessThanOrEqual(MAX_TOOLS + 500);
    expect(s.tools[0]?.callId).toBe('open'); // still running: kept
    expect(s.tools.at(-1)?.runId).toBe(`r${MAX_TOOLS + 600}`);
    // a dropped call seen again is new, not a duplicate: the index was trimmed with the list
    expect(
      t.apply(ev({ type: 'tool.call', ts: 99_999, sessionKey: K, runId: 'r1', callId: 'c', name: 'exec' })),
    ).toEqual([K]);
  });
});

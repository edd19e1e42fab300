import { describe, expect, it } from 'vitest';
import { ev, testLimits } from '../../src/model/test-events.js';
import { createSessionTracker } from '../../src/model/tracker.js';
import { statusBox } from './status-text.js';

describe('dashboard status box text', () => {
  it('speaks the shared vocabulary: tool labels, the error brief once, tokens and cost in the footer', () => {
    const t = createSessionTracker(testLimits);
    const key = 'agent:main:main';
    t.apply(ev({ type: 'agent.started', sessionKey: key, ts: 1000, runId: 'r' }));
    t.apply(
      ev({
        type: 'tool.call',
        sessionKey: key,
        ts: 1100,
        runId: 'r',
        callId: 'c',
        name: 'sessions_spawn',
        args: '{"label":"helper","task":"x"}',
      }),
    );
    t.apply(
      ev({ type: 'tool.output', sessionKey: key, ts: 1200, runId: 'r', callId: 'c', name: 'sessions_spawn' }),
    );
    t.apply(
      ev({
        type: 'llm.tokens',
        sessionKey: key,
        ts: 1300,
        runId: 'r',
        input: 1000,
        output: 200,
        cacheRead: 0,
        cacheWrite: 0,
        reasoning: 0,
        costUsd: 0.42,
      }),
    );
    t.apply(
      ev({
        type: 'agent.finished',
        sessionKey: key,
        ts: 3000,
        runId: 'r',
        outcome: 'error',
        error: '529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
      }),
    );
    const lines = statusBox(
      key,
      (k) => t.get(k),
      () => undefined,
      5000,
    );
    const text = lines.map((l) => l.text).join('\n');
    expect(text).toContain('spawn: helper [OK]');
    expect(text).not.toContain('sessions_spawn');
    const footer = lines.at(-1);
    expect(footer?.kind).toBe('footer');
    expect(footer?.text).toBe('[ERROR] 2s | 529 Overloaded | 1.2k tokens | $0.42');
  });
});

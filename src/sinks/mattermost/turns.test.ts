import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../model/events.js';
import { type EventInput, ev, testLimits } from '../../model/test-events.js';
import { createSessionTracker } from '../../model/tracker.js';
import { findBoundaries, markOf, replayTurnEnds } from './turns.js';

const KEY = 'agent:main:main';
const IDLE = 60_000;
let seq = 0;
type NoKey<T> = T extends unknown ? Omit<T, 'sessionKey'> & { sessionKey?: string } : never;
const stored = (...inputs: Array<NoKey<EventInput>>): StoredEvent[] =>
  inputs.map((i) => ({ seq: ++seq, event: ev({ sessionKey: KEY, ...i } as EventInput) }));

describe('turn ends the model did not see', () => {
  it('a run after the idle timeout with no run open ends the turn before it (gap)', () => {
    const evs = stored(
      { type: 'agent.started', runId: 'r1', ts: 0 },
      { type: 'agent.finished', runId: 'r1', outcome: 'ok', ts: 1000 },
      { type: 'agent.started', runId: 'r2', ts: 1000 + IDLE },
    );
    const { boundaries, mark } = findBoundaries(evs, undefined, IDLE);
    expect(boundaries).toEqual([{ seq: evs[2]?.seq, ts: 1000 + IDLE, reason: 'gap' }]);
    expect(mark).toEqual({ lastEventAt: 1000 + IDLE, runOpen: true, finished: false });
  });

  it('no end while a run is open, or before the idle timeout', () => {
    const evs = stored(
      { type: 'agent.started', runId: 'r1', ts: 0 },
      { type: 'tool.call', runId: 'r1', callId: 'c', name: 'exec', ts: 10 },
      { type: 'agent.started', runId: 'r2', ts: 10 + 5 * IDLE }, // the open run was still busy
      { type: 'agent.finished', runId: 'r2', outcome: 'ok', ts: 20 + 5 * IDLE },
      { type: 'agent.started', runId: 'r3', ts: 19 + 6 * IDLE }, // a follow-up inside the timeout
    );
    expect(findBoundaries(evs, undefined, IDLE).boundaries).toEqual([]);
  });

  it('a failed run ends its turn at once; the mark carries over between updates', () => {
    const a = stored(
      { type: 'agent.started', runId: 'r1', ts: 0 },
      { type: 'agent.finished', runId: 'r1', outcome: 'error', error: 'boom', ts: 10 },
    );
    const first = findBoundaries(a, undefined, IDLE);
    expect(first.boundaries).toEqual([]);
    const b = stored({ type: 'agent.started', runId: 'r2', ts: 20 });
    expect(findBoundaries(b, first.mark, IDLE).boundaries).toEqual([
      { seq: b[0]?.seq, ts: 20, reason: 'after-end' },
    ]);
  });

  it('replays each ended turn from the store as it was at its end', () => {
    const evs = stored(
      { type: 'agent.started', runId: 'r1', ts: 0 },
      { type: 'assistant.text', runId: 'r1', text: 'one', ts: 5 },
      { type: 'agent.finished', runId: 'r1', outcome: 'ok', ts: 10 },
      { type: 'agent.started', runId: 'r2', ts: 10 + IDLE },
      { type: 'assistant.text', runId: 'r2', text: 'two', ts: 20 + IDLE },
    );
    const tracker = createSessionTracker(testLimits);
    for (const e of evs) tracker.apply(e.event);
    const root = tracker.get(KEY);
    expect(root?.status).toBe('active');
    expect(markOf(root as NonNullable<typeof root>).runOpen).toBe(true);
    const { boundaries } = findBoundaries(evs, undefined, IDLE);
    const store = { readSession: (k: string) => (k === KEY ? evs : []) };
    const out = replayTurnEnds(
      store,
      testLimits,
      root as NonNullable<typeof root>,
      (k) => tracker.get(k),
      boundaries,
      (s) => ({
        status: s.status,
        endedAt: s.endedAt,
        lines: s.lines.map((l) => (l.kind === 'text' ? l.text : l.kind)),
      }),
    );
    expect(out).toEqual([{ status: 'done', endedAt: 10, lines: ['one'] }]);
  });
});

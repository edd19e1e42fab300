import { describe, expect, it } from 'vitest';
import { ManualClock } from '../infra/clock.js';
import { createSessionDedupe, DEDUPE_IDLE_MS } from './session-dedupe.js';

describe('session dedupe sets', () => {
  it('a session quiet for the idle time gives its set back; its next use loads it again', () => {
    const clock = new ManualClock(1e12);
    const loads: number[] = [];
    const d = createSessionDedupe((sid) => void loads.push(sid), 32 * 1024 * 1024, {
      afterMs: DEDUPE_IDLE_MS,
      now: () => clock.now(),
    });
    d.get(1);
    d.get(2);
    clock.advance(DEDUPE_IDLE_MS / 2);
    d.get(1);
    clock.advance(DEDUPE_IDLE_MS / 2);
    d.dropIdle();
    // 2 was last used a whole idle time ago, 1 half of one
    expect([...d.sets().keys()]).toEqual([1]);
    d.get(2);
    d.get(1);
    expect(loads).toEqual([1, 2, 2]);
    clock.advance(DEDUPE_IDLE_MS);
    d.dropIdle();
    expect(d.sets().size).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { ev, testLimits } from './test-events.js';
import { createSessionTracker } from './tracker.js';

const HOUR = 3600_000;
const limits = { ...testLimits, retainFinishedMs: 24 * HOUR };

/** a main session with one finished run and a sub-agent, both done by `t0 + 2 min` */
function finishedTree(t0: number) {
  const t = createSessionTracker(limits);
  t.apply(ev({ type: 'agent.started', ts: t0, sessionKey: 'main', runId: 'r1' }));
  t.apply(
    ev({ type: 'subagent.spawned', ts: t0 + 1, sessionKey: 'main', parentKey: 'main', childKey: 'child' }),
  );
  t.apply(ev({ type: 'agent.started', ts: t0 + 2, sessionKey: 'child', runId: 'c1' }));
  t.apply(ev({ type: 'agent.finished', ts: t0 + 3, sessionKey: 'child', runId: 'c1', outcome: 'ok' }));
  t.apply(ev({ type: 'agent.finished', ts: t0 + 4, sessionKey: 'main', runId: 'r1', outcome: 'ok' }));
  t.tick(t0 + 2 * 60_000); // idle → done
  return t;
}

describe('evicting finished sessions', () => {
  it('drops a finished tree quiet for the retention, whole, and nothing sooner', () => {
    const t = finishedTree(0);
    expect(t.get('main')?.status).toBe('done');
    expect(t.evict(23 * HOUR)).toEqual([]);
    expect(t.evict(24 * HOUR + 4).sort()).toEqual(['child', 'main']);
    expect(t.all()).toEqual([]);
    expect(t.tick(25 * HOUR)).toEqual([]);
  });

  it('keeps a tree while any session in it is live, and a sub-agent while its parent stays', () => {
    const t = finishedTree(0);
    t.apply(ev({ type: 'agent.started', ts: 10 * HOUR, sessionKey: 'child', runId: 'c2' }));
    expect(t.evict(30 * HOUR)).toEqual([]); // the child is live (stuck by now, but live)
    expect(t.get('main')).toBeDefined();

    const u = finishedTree(0);
    u.apply(ev({ type: 'agent.started', ts: 20 * HOUR, sessionKey: 'main', runId: 'r2' }));
    u.apply(
      ev({ type: 'agent.finished', ts: 20 * HOUR + 1, sessionKey: 'main', runId: 'r2', outcome: 'ok' }),
    );
    u.tick(20 * HOUR + 2 * 60_000);
    // the child is old enough, but its parent is not: neither goes
    expect(u.evict(24 * HOUR + 10)).toEqual([]);
    expect(u.evict(44 * HOUR + 2).sort()).toEqual(['child', 'main']);
  });

  it('a session seen again after it was dropped starts afresh in the model', () => {
    const t = finishedTree(0);
    t.evict(48 * HOUR);
    t.apply(ev({ type: 'agent.started', ts: 50 * HOUR, sessionKey: 'main', runId: 'r9' }));
    expect(t.get('main')?.status).toBe('active');
    expect(t.get('main')?.children).toEqual([]);
  });
});

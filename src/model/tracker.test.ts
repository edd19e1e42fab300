import { describe, expect, it } from 'vitest';
import type { SessionState } from './session.js';
import { ev, testLimits } from './test-events.js';
import { createSessionTracker } from './tracker.js';

const K = 'agent:main:main';
const C = 'agent:main:subagent:c1';

function tracker(limits = testLimits) {
  return createSessionTracker(limits);
}

describe('sessions and sub-agents', () => {
  it('session.seen creates a session with its fields', () => {
    const t = tracker();
    const changed = t.apply(
      ev({
        type: 'session.seen',
        ts: 1000,
        sessionKey: K,
        sessionId: 'sid-1',
        label: 'lab',
        displayName: 'Main',
        channel: { provider: 'mattermost', channelId: 'ch1' },
        updatedAt: 1500,
        model: 'm1',
      }),
    );
    expect(changed).toContain(K);
    const s = t.get(K);
    expect(s).toMatchObject({
      key: K,
      sessionId: 'sid-1',
      agentId: 'main',
      label: 'lab',
      displayName: 'Main',
      updatedAt: 1500,
      model: 'm1',
      status: 'active',
      startedAt: 1000,
      // the row's updatedAt is later than the event itself: the event time bounds it
      lastEventAt: 1000,
    });
    expect(s?.channel).toEqual({ provider: 'mattermost', channelId: 'ch1' });
  });

  it('session.seen with a terminal row status starts finished', () => {
    const t = tracker();
    t.apply(ev({ type: 'session.seen', ts: 1000, sessionKey: K, updatedAt: 900, rowStatus: 'done' }));
    expect(t.get(K)?.status).toBe('done');
    expect(t.get(K)?.endedAt).toBe(900);
    // the sessions.json write right after the run (updatedAt a few ms later) is not a new turn
    t.apply(ev({ type: 'session.seen', ts: 1010, sessionKey: K, updatedAt: 909, rowStatus: 'done' }));
    expect(t.get(K)?.status).toBe('done');
  });

  it('sub-agent hangs under its parent with a line at the spawn point; idempotent with subagent.spawned', () => {
    const t = tracker();
    t.apply(ev({ type: 'assistant.text', ts: 1, sessionKey: K, text: 'before' }));
    const ch = t.apply(ev({ type: 'session.seen', ts: 2, sessionKey: C, parentKey: K, label: 'kid' }));
    expect(ch).toEqual(expect.arrayContaining([C, K]));
    t.apply(
      ev({ type: 'subagent.spawned', ts: 3, sessionKey: K, parentKey: K, childKey: C, label: 'other' }),
    );
    t.apply(ev({ type: 'assistant.text', ts: 4, sessionKey: K, text: 'after' }));
    const p = t.get(K) as SessionState;
    expect(p.children).toEqual([C]);
    expect(p.lines.map((l) => l.kind)).toEqual(['text', 'subagent', 'text']);
    expect(t.get(C)?.parentKey).toBe(K);
    expect(t.get(C)?.label).toBe('kid');
    expect(t.rootOf(C)?.key).toBe(K);
  });

  it('children keep spawn order', () => {
    const t = tracker();
    for (const [i, c] of ['x', 'y', 'z'].entries()) {
      t.apply(
        ev({
          type: 'subagent.spawned',
          ts: i,
          sessionKey: K,
          parentKey: K,
          childKey: `agent:main:subagent:${c}`,
        }),
      );
    }
    expect(t.get(K)?.children).toEqual([
      'agent:main:subagent:x',
      'agent:main:subagent:y',
      'agent:main:subagent:z',
    ]);
  });

  it('a sub-agent with an unknown parent stays a root until the parent appears', () => {
    const t = tracker();
    t.apply(ev({ type: 'session.seen', ts: 1, sessionKey: C, parentKey: K }));
    expect(t.rootOf(C)?.key).toBe(C);
    expect(t.get(K)).toBeUndefined();
    const changed = t.apply(ev({ type: 'agent.started', ts: 5, sessionKey: K, runId: 'r1' }));
    expect(changed).toEqual(expect.arrayContaining([K, C]));
    expect(t.rootOf(C)?.key).toBe(K);
    expect(t.get(K)?.children).toEqual([C]);
    expect(t.get(K)?.lines).toEqual([{ kind: 'subagent', childKey: C, ts: 1 }]);
  });

  it('any event for an unknown session creates it with the event agentId', () => {
    const t = tracker();
    t.apply(
      ev({
        type: 'llm.tokens',
        ts: 7,
        sessionKey: 'agent:ops:x',
        agentId: 'ops',
        input: 1,
        output: 2,
        cacheRead: 0,
        cacheWrite: 0,
        reasoning: 0,
        costUsd: 0,
      }),
    );
    expect(t.get('agent:ops:x')).toMatchObject({ agentId: 'ops', startedAt: 7, status: 'active' });
  });

  it('refuses a parent cycle and rootOf terminates', () => {
    const t = tracker();
    t.apply(ev({ type: 'session.seen', ts: 1, sessionKey: 'a', parentKey: 'b' }));
    t.apply(ev({ type: 'session.seen', ts: 2, sessionKey: 'b', parentKey: 'a' }));
    expect(t.get('b')?.parentKey).toBeUndefined();
    expect(t.rootOf('a')?.key).toBe('b');
  });
});

describe('runs and statuses', () => {
  it('active → idle (ok) → done after idle timeout, endedAt at the finish', () => {
    const t = tracker();
    t.apply(ev({ type: 'agent.started', ts: 0, sessionKey: K, runId: 'r1' }));
    expect(t.get(K)).toMatchObject({ status: 'active', runOpen: true, runs: 1, currentRunId: 'r1' });
    t.apply(ev({ type: 'agent.finished', ts: 5000, sessionKey: K, runId: 'r1', outcome: 'ok' }));
    expect(t.get(K)).toMatchObject({ status: 'idle', runOpen: false, lastOutcome: 'ok', endedAt: 5000 });
    expect(t.tick(5000 + 59_999)).toEqual([]);
    expect(t.tick(5000 + 60_000)).toEqual([K]);
    expect(t.get(K)).toMatchObject({ status: 'done', endedAt: 5000 });
    expect(t.tick(10_000_000)).toEqual([]);
  });

  it('error outcome → error status and an errors entry, not duplicated after llm.error', () => {
    const t = tracker();
    t.apply(ev({ type: 'agent.started', ts: 0, sessionKey: K, runId: 'r1' }));
    t.apply(
      ev({
        type: 'llm.error',
        ts: 1,
        sessionKey: K,
        runId: 'r1',
        status: 529,
        message: 'overloaded',
        retryable: true,
      }),
    );
    t.apply(
      ev({
        type: 'agent.finished',
        ts: 2,
        sessionKey: K,
        runId: 'r1',
        outcome: 'error',
        error: '529 overloaded',
      }),
    );
    const s = t.get(K) as SessionState;
    expect(s.status).toBe('error');
    expect(s.errors).toEqual([{ ts: 1, message: 'overloaded', status: 529, retryable: true, runId: 'r1' }]);
    t.apply(ev({ type: 'agent.started', ts: 10, sessionKey: K, runId: 'r2' }));
    t.apply(
      ev({ type: 'agent.finished', ts: 11, sessionKey: K, runId: 'r2', outcome: 'error', error: 'boom' }),
    );
    expect(t.get(K)?.errors.map((e) => e.message)).toEqual(['overloaded', 'boom']);
  });

  it('aborted run → interrupted; interruptAll marks live sessions only', () => {
    const t = tracker();
    t.apply(ev({ type: 'agent.started', ts: 0, sessionKey: 'a', runId: 'r' }));
    t.apply(ev({ type: 'agent.finished', ts: 1, sessionKey: 'a', runId: 'r', outcome: 'aborted' }));
    expect(t.get('a')?.status).toBe('interrupted');
    t.apply(ev({ type: 'agent.started', ts: 0, sessionKey: 'b', runId: 'r' }));
    t.apply(ev({ type: 'agent.started', ts: 0, sessionKey: 'c', runId: 'r' }));
    t.apply(ev({ type: 'agent.finished', ts: 3, sessionKey: 'c', runId: 'r', outcome: 'error' }));
    expect(t.interruptAll(100, 'daemon shutdown')).toEqual(['b']);
    expect(t.get('b')).toMatchObject({ status: 'interrupted', endedAt: 100, note: 'daemon shutdown' });
    expect(t.get('c')?.status).toBe('error');
  });

  it('interruptAll interrupts only work in flight: a finished last run ends done, a failed one error', () => {
    const t = tracker();
    // stuck: a run open and quiet past the threshold
    t.apply(ev({ type: 'agent.started', ts: 0, sessionKey: 'stuck', runId: 'r' }));
    t.tick(300_000);
    expect(t.get('stuck')?.status).toBe('stuck');
    const T = 300_000;
    // idle: the run finished ok, the idle timeout has not passed yet
    t.apply(ev({ type: 'agent.started', ts: T, sessionKey: 'idle', runId: 'r' }));
    t.apply(ev({ type: 'agent.finished', ts: T + 5, sessionKey: 'idle', runId: 'r', outcome: 'ok' }));
    // a tool still running, no run marker
    t.apply(ev({ type: 'tool.call', ts: T, sessionKey: 'tool', runId: 'r', callId: 'c', name: 'exec' }));
    // failed last run
    t.apply(ev({ type: 'agent.started', ts: T, sessionKey: 'err', runId: 'r' }));
    t.apply(
      ev({ type: 'agent.finished', ts: T + 7, sessionKey: 'err', runId: 'r', outcome: 'error', error: 'x' }),
    );
    // active with nothing open (text after the run ended)
    t.apply(ev({ type: 'assistant.text', ts: T + 9, sessionKey: 'quiet', text: 'hello' }));
    const changed = t.interruptAll(T + 20, 'clawpulse stopped');
    expect(new Set(changed)).toEqual(new Set(['idle', 'tool', 'stuck', 'quiet']));
    expect(t.get('idle')).toMatchObject({ status: 'done', endedAt: T + 5 });
    expect(t.get('idle')?.note).toBeUndefined();
    expect(t.get('quiet')).toMatchObject({ status: 'done', endedAt: T + 9 });
    expect(t.get('tool')).toMatchObject({
      status: 'interrupted',
      endedAt: T + 20,
      note: 'clawpulse stopped',
    });
    expect(t.get('stuck')).toMatchObject({ status: 'interrupted', note: 'clawpulse stopped' });
    expect(t.get('err')?.status).toBe('error');
  });

  it('stuck when a run is open and quiet; back to active on the next event', () => {
    const t = tracker();
    t.apply(ev({ type: 'agent.started', ts: 0, sessionKey: K, runId: 'r1' }));
    expect(t.tick(299_999)).toEqual([]);
    expect(t.tick(300_000)).toEqual([K]);
    expect(t.get(K)?.status).toBe('stuck');
    expect(t.get(K)?.note).toContain('no activity for 5m00s');
    t.apply(
      ev({
        type: 'llm.tokens',
        ts: 300_001,
        sessionKey: K,
        input: 1,
        output: 1,
        cacheRead: 0,
        cacheWrite: 0,
        reasoning: 0,
        costUsd: 0,
      }),
    );
    expect(t.get(K)?.status).toBe('active');
    expect(t.get(K)?.note).toBeUndefined();
  });

  it('stuck when a tool is open without a run; a quiet session with nothing open ends instead', () => {
    const t = tracker();
    t.apply(ev({ type: 'tool.call', ts: 0, sessionKey: 'a', runId: 'r', callId: 'c', name: 'exec' }));
    t.apply(ev({ type: 'assistant.text', ts: 0, sessionKey: 'b', text: 'hi' }));
    const changed = t.tick(300_000);
    expect(changed.sort()).toEqual(['a', 'b']);
    expect(t.get('a')?.status).toBe('stuck');
    expect(t.get('b')).toMatchObject({ status: 'done', endedAt: 0 });
  });

  it('session.stuck event marks stuck without resetting the silence clock', () => {
    const t = tracker();
    t.apply(ev({ type: 'agent.started', ts: 0, sessionKey: K, runId: 'r1' }));
    t.apply(ev({ type: 'session.stuck', ts: 50, sessionKey: K, ageMs: 125_000 }));
    expect(t.get(K)).toMatchObject({ status: 'stuck', note: 'no activity for 2m05s', lastEventAt: 0 });
  });

  it('stops at the max duration; later events of that run do not reopen it, a new run does', () => {
    const t = tracker({ ...testLimits, stuckAfterMs: 10_000_000 });
    t.apply(ev({ type: 'agent.started', ts: 0, sessionKey: K, runId: 'r1' }));
    t.apply(ev({ type: 'tool.call', ts: 1, sessionKey: K, runId: 'r1', callId: 'c1', name: 'exec' }));
    t.apply(ev({ type: 'assistant.text', ts: 1_799_000, sessionKey: K, runId: 'r1', text: 'still going' }));
    expect(t.tick(1_799_999)).toEqual([]);
    expect(t.tick(1_800_000)).toEqual([K]);
    let s = t.get(K) as SessionState;
    expect(s).toMatchObject({ status: 'done', endedAt: 1_800_000, stoppedRunId: 'r1' });
    expect(s.note).toBe('stopped after max duration (30m00s)');
    expect(s.tools[0]?.status).toBe('error');
    const nLines = s.lines.length;
    t.apply(ev({ type: 'assistant.text', ts: 1_800_100, sessionKey: K, runId: 'r1', text: 'more' }));
    t.apply(ev({ type: 'tool.call', ts: 1_800_200, sessionKey: K, runId: 'r1', callId: 'c2', name: 'exec' }));
    t.apply(ev({ type: 'agent.step_started', ts: 1_800_300, sessionKey: K, runId: 'r1' }));
    s = t.get(K) as SessionState;
    expect(s.status).toBe('done');
    expect(s.lines.length).toBe(nLines);
    t.apply(ev({ type: 'agent.started', ts: 1_900_000, sessionKey: K, runId: 'r2' }));
    s = t.get(K) as SessionState;
    expect(s).toMatchObject({ status: 'active', activeSince: 1_900_000, startedAt: 0, runs: 2 });
    expect(s.endedAt).toBeUndefined();
    expect(s.note).toBeUndefined();
  });

  it('reactivation: agent.started or updatedAt past endedAt starts a new activation', () => {
    const t = tracker();
    t.apply(ev({ type: 'session.seen', ts: 0, sessionKey: K, updatedAt: 0 }));
    t.apply(ev({ type: 'agent.started', ts: 0, sessionKey: K, runId: 'r1' }));
    t.apply(ev({ type: 'agent.finished', ts: 1000, sessionKey: K, runId: 'r1', outcome: 'ok' }));
    t.tick(100_000);
    expect(t.get(K)?.status).toBe('done');
    t.apply(ev({ type: 'session.seen', ts: 1001, sessionKey: K, updatedAt: 1005 }));
    expect(t.get(K)?.status).toBe('done'); // within the grace of the end-of-run write
    t.apply(ev({ type: 'session.seen', ts: 200_000, sessionKey: K, updatedAt: 200_000 }));
    expect(t.get(K)).toMatchObject({ status: 'active', startedAt: 0, activeSince: 200_000 });
    expect(t.get(K)?.endedAt).toBeUndefined();
    t.apply(
      ev({ type: 'agent.finished', ts: 201_000, sessionKey: K, runId: 'r2', outcome: 'error', error: 'x' }),
    );
    expect(t.get(K)?.status).toBe('error');
    t.apply(ev({ type: 'agent.started', ts: 300_000, sessionKey: K, runId: 'r3' }));
    expect(t.get(K)).toMatchObject({ status: 'active', activeSince: 300_000 });
  });

  it('a duplicate agent.finished does not flip a done session back to idle', () => {
    const t = tracker();
    t.apply(ev({ type: 'agent.started', ts: 0, sessionKey: K, runId: 'r1' }));
    t.apply(ev({ type: 'agent.finished', ts: 10, sessionKey: K, runId: 'r1', outcome: 'ok' }));
    t.tick(100_000);
    t.apply(ev({ type: 'agent.finished', ts: 11, sessionKey: K, runId: 'r1', outcome: 'ok' }));
    expect(t.get(K)?.status).toBe('done');
  });

  it('subagent.finished ends a running child', () => {
    const t = tracker();
    t.apply(ev({ type: 'subagent.spawned', ts: 0, sessionKey: K, parentKey: K, childKey: C }));
    t.apply(ev({ type: 'agent.started', ts: 1, sessionKey: C, runId: 'rc' }));
    t.apply(
      ev({ type: 'subagent.finished', ts: 28_000, sessionKey: K, parentKey: K, childKey: C, outcome: 'ok' }),
    );
    expect(t.get(C)).toMatchObject({ status: 'done', endedAt: 28_000 });
  });
});

describe('stuck with sub-agents', () => {
  it('a parent whose sub-agent is still working is not stuck', () => {
    const t = createSessionTracker(testLimits);
    t.apply(ev({ type: 'agent.started', ts: 0, sessionKey: K, runId: 'r' }));
    t.apply(ev({ type: 'subagent.spawned', ts: 1, sessionKey: K, parentKey: K, childKey: C }));
    t.apply(ev({ type: 'agent.started', ts: 2, sessionKey: C, runId: 'rc' }));
    t.apply(ev({ type: 'assistant.text', ts: 250_000, sessionKey: C, runId: 'rc', text: 'working' }));
    expect(t.tick(300_001)).toEqual([]);
    expect(t.get(K)?.status).toBe('active');
    expect(t.tick(550_000).sort()).toEqual([K, C].sort());
    expect(t.get(K)?.status).toBe('stuck');
    expect(t.get(C)?.status).toBe('stuck');
  });
});

describe('history delivered out of order', () => {
  it('places lines by time and moves a sub-agent line back to its spawn', () => {
    const t = createSessionTracker(testLimits);
    // sessions.json rows first (written at the end), then the transcripts
    t.apply(ev({ type: 'session.seen', ts: 900, sessionKey: K, updatedAt: 900, rowStatus: 'done' }));
    t.apply(
      ev({ type: 'session.seen', ts: 950, sessionKey: C, parentKey: K, updatedAt: 950, rowStatus: 'done' }),
    );
    t.apply(ev({ type: 'subagent.spawned', ts: 400, sessionKey: K, parentKey: K, childKey: C }));
    t.apply(ev({ type: 'agent.started', ts: 100, sessionKey: K, runId: 'r' }));
    t.apply(ev({ type: 'assistant.text', ts: 200, sessionKey: K, runId: 'r', text: 'before spawn' }));
    t.apply(ev({ type: 'assistant.text', ts: 600, sessionKey: K, runId: 'r', text: 'after spawn' }));
    const s = t.get(K) as SessionState;
    expect(s.lines.map((l) => (l.kind === 'text' ? l.text : l.kind))).toEqual([
      'before spawn',
      'subagent',
      'after spawn',
    ]);
    expect(s.startedAt).toBe(100);
    expect(s.children).toEqual([C]);
  });
});

describe('row status', () => {
  it('a newer row saying killed ends an open run that wrote no agent.finished', () => {
    const t = createSessionTracker(testLimits);
    t.apply(ev({ type: 'session.seen', ts: 0, sessionKey: K, updatedAt: 0, rowStatus: 'running' }));
    t.apply(ev({ type: 'agent.started', ts: 10, sessionKey: K, runId: 'r' }));
    t.apply(ev({ type: 'tool.call', ts: 20, sessionKey: K, runId: 'r', callId: 'c', name: 'exec' }));
    // an older row (written before the tool call) changes nothing
    t.apply(ev({ type: 'session.seen', ts: 21, sessionKey: K, updatedAt: 15, rowStatus: 'done' }));
    expect(t.get(K)).toMatchObject({ status: 'active', runOpen: true });
    t.apply(ev({ type: 'session.seen', ts: 30, sessionKey: K, updatedAt: 30, rowStatus: 'killed' }));
    expect(t.get(K)).toMatchObject({
      status: 'interrupted',
      runOpen: false,
      endedAt: 30,
      note: 'run killed',
    });
    expect(t.get(K)?.tools[0]).toMatchObject({ status: 'error', error: 'killed' });
    // a new run starts a new turn
    t.apply(ev({ type: 'session.seen', ts: 60_000, sessionKey: K, updatedAt: 60_000, rowStatus: 'running' }));
    expect(t.get(K)).toMatchObject({ status: 'active', activeSince: 60_000 });
  });
});

describe('rows written after the run (recorded from real OpenClaw)', () => {
  it('running-then-done rows after agent.finished do not reopen the session', () => {
    const t = createSessionTracker(testLimits);
    t.apply(ev({ type: 'session.seen', ts: 1000, sessionKey: K, updatedAt: 1000 }));
    t.apply(ev({ type: 'agent.started', ts: 2000, sessionKey: K, runId: 'r' }));
    t.apply(ev({ type: 'agent.finished', ts: 9000, sessionKey: K, runId: 'r', outcome: 'ok' }));
    const changed = t.apply(
      ev({ type: 'session.seen', ts: 14_000, sessionKey: K, updatedAt: 14_000, rowStatus: 'running' }),
    );
    expect(changed).toContain(K);
    expect(t.get(K)).toMatchObject({ status: 'idle', endedAt: 9000, activeSince: 2000 });
    t.apply(ev({ type: 'session.seen', ts: 14_200, sessionKey: K, updatedAt: 14_200, rowStatus: 'done' }));
    expect(t.get(K)).toMatchObject({ status: 'idle', endedAt: 9000, activeSince: 2000 });
    // a row saying running well after the end is a new turn
    t.apply(ev({ type: 'session.seen', ts: 40_000, sessionKey: K, updatedAt: 40_000, rowStatus: 'running' }));
    expect(t.get(K)).toMatchObject({ status: 'active', activeSince: 40_000 });
  });
});

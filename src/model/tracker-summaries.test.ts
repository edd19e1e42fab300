import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteStore, type SqliteStore } from '../store/sqlite-store.js';
import type { PulseEvent } from './events.js';
import type { SessionState } from './session.js';
import { ev, testLimits } from './test-events.js';
import { createSessionTracker, type SessionTracker } from './tracker.js';

const P = 'agent:main:main';
const C = 'agent:main:subagent:c1';
const Q = 'agent:main:other';
const S = 60_000;

let dir: string;
let store: SqliteStore;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cp-briefs-'));
  store = createSqliteStore(path.join(dir, 'store.sqlite'));
});
afterEach(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** a tracker that summarizes (reading the real store) beside one that never does, fed alike */
function pair() {
  const briefed = createSessionTracker(testLimits, {
    load: (k) => store.loadSnapshot(k),
    afterMs: 30_000,
    everyMs: 5000,
  });
  const whole = createSessionTracker(testLimits);
  const both = (e: PulseEvent) => {
    const a = [...briefed.apply(e)].sort();
    const b = [...whole.apply(e)].sort();
    expect(a).toEqual(b);
    return a;
  };
  const tick = (t: number) => {
    expect(briefed.tick(t).sort()).toEqual(whole.tick(t).sort());
  };
  /** what the pipeline does: the states saved with the store's seq, then the tracker told */
  const save = () => {
    const list = briefed.all();
    store.saveSnapshots(list, store.lastSeq());
    briefed.saved?.(list);
  };
  return { briefed, whole, both, tick, save };
}

const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : 1);
const states = (t: SessionTracker, keys: string[]): Array<SessionState | undefined> =>
  keys.map((k) => JSON.parse(JSON.stringify(t.get(k) ?? null)));

/** a parent that spawned a finished sub-agent, a tool its run's end closed by inference, a second root */
function history(both: (e: PulseEvent) => unknown) {
  both(
    ev({ type: 'session.seen', ts: 1000, sessionKey: P, label: 'the main one', host: 'h1', gateway: 'gw1' }),
  );
  both(ev({ type: 'agent.started', ts: 1000, sessionKey: P, runId: 'r1' }));
  both(ev({ type: 'assistant.text', ts: 1100, sessionKey: P, text: 'looking at it' }));
  both(
    ev({ type: 'tool.call', ts: 1200, sessionKey: P, runId: 'r1', callId: 'a', name: 'exec', args: 'ls' }),
  );
  both(ev({ type: 'tool.output', ts: 1300, sessionKey: P, runId: 'r1', callId: 'a', name: 'exec' }));
  both(ev({ type: 'tool.call', ts: 1400, sessionKey: P, runId: 'r1', callId: 'slow', name: 'read' }));
  both(ev({ type: 'subagent.spawned', ts: 1500, sessionKey: P, parentKey: P, childKey: C, label: 'kid' }));
  both(ev({ type: 'agent.started', ts: 1600, sessionKey: C, runId: 'k1' }));
  both(
    ev({ type: 'tool.error', ts: 1700, sessionKey: C, runId: 'k1', callId: 'x', name: 'web', error: '500' }),
  );
  both(ev({ type: 'agent.finished', ts: 1800, sessionKey: C, runId: 'k1', outcome: 'ok' }));
  // the run ends with 'slow' still running: closed by inference, its late output may correct it
  both(ev({ type: 'agent.finished', ts: 2000, sessionKey: P, runId: 'r1', outcome: 'ok' }));
  both(
    ev({
      type: 'llm.tokens',
      ts: 2000,
      sessionKey: P,
      input: 10,
      output: 5,
      cacheRead: 0,
      cacheWrite: 0,
      reasoning: 0,
      costUsd: 0.01,
    }),
  );
  both(ev({ type: 'agent.started', ts: 3000, sessionKey: Q, runId: 'q1' }));
  both(
    ev({
      type: 'agent.finished',
      ts: 3100,
      sessionKey: Q,
      runId: 'q1',
      outcome: 'error',
      error: '529 Overloaded',
    }),
  );
}

describe('finished sessions as briefs', () => {
  it('keeps quiet finished trees as briefs once the store holds their exact state', () => {
    const { briefed, whole, both, tick, save } = pair();
    history(both);
    save();
    tick(2000 + 61_000); // idle -> done: changed since the save
    // the parent and its child changed since the save (the store could not give them back):
    // they stay whole; Q (ended in error before the save, unchanged) becomes a brief
    tick(2000 + 2 * S);
    expect(
      briefed
        .all()
        .map((s) => s.key)
        .sort(),
    ).toEqual([P, C].sort());
    // a copy saved is not the state the model holds: still unsaved
    briefed.saved?.(briefed.all().map((x) => structuredClone(x)));
    tick(2000 + 2 * S + 5000);
    expect(briefed.briefCount()).toBe(1);
    save();
    tick(2000 + 3 * S);
    expect(briefed.briefCount()).toBe(3);
    expect(briefed.all()).toEqual([]);
    expect(briefed.size()).toBe(3);
    // the lists are the same, and a brief's whole state comes from the store
    expect(briefed.briefs().sort(byKey)).toEqual(whole.briefs().sort(byKey));
    expect(briefed.brief(P)).toMatchObject({ host: 'h1', gateway: 'gw1', children: [C], toolCalls: 2 });
    expect(states(briefed, [P, C, Q])).toEqual(states(whole, [P, C, Q]));
    expect(briefed.rootOf(C)?.key).toBe(P);
  });

  it('a new event brings the whole tree back exactly as a tracker that never summarized has it', () => {
    const { briefed, whole, both, tick, save } = pair();
    history(both);
    tick(2000 + S + 1000);
    save();
    tick(2000 + 3 * S);
    expect(briefed.briefCount()).toBe(3);
    // the late output of the tool closed by inference corrects it (on both)
    both(
      ev({
        type: 'tool.output',
        ts: 2000 + 3 * S + 10,
        sessionKey: P,
        runId: 'r1',
        callId: 'slow',
        name: 'read',
      }),
    );
    expect(briefed.briefCount()).toBe(1); // the parent's tree came back whole; Q stays a brief
    const keys = [P, C, Q];
    expect(states(briefed, keys)).toEqual(states(whole, keys));
    // and goes on alike: a new turn on the child, time passing
    both(ev({ type: 'agent.started', ts: 2000 + 4 * S, sessionKey: C, runId: 'k2' }));
    both(
      ev({ type: 'tool.call', ts: 2000 + 4 * S + 5, sessionKey: C, runId: 'k2', callId: 'y', name: 'exec' }),
    );
    tick(2000 + 4 * S + 100);
    expect(states(briefed, keys)).toEqual(states(whole, keys));
    expect(briefed.all().sort(byKey)).toEqual(
      whole
        .all()
        .filter((s) => s.key !== Q)
        .sort(byKey),
    );
  });

  it('a spawn naming a brief parent, and a parent adopting a waiting brief, bring them back', () => {
    const { briefed, whole, both, tick, save } = pair();
    history(both);
    // a sub-agent whose parent is not seen yet waits as a root
    both(
      ev({
        type: 'session.seen',
        ts: 3200,
        sessionKey: 'agent:main:subagent:orphan',
        parentKey: 'agent:main:late',
      }),
    );
    tick(3200 + S + 1000);
    save();
    tick(3200 + 3 * S);
    expect(briefed.briefCount()).toBe(4);
    const t = 3200 + 4 * S;
    both(
      ev({
        type: 'subagent.spawned',
        ts: t,
        sessionKey: Q,
        parentKey: Q,
        childKey: 'agent:main:subagent:new',
      }),
    );
    both(ev({ type: 'session.seen', ts: t + 1, sessionKey: 'agent:main:late' }));
    const keys = [P, C, Q, 'agent:main:subagent:new', 'agent:main:subagent:orphan', 'agent:main:late'];
    expect(states(briefed, keys)).toEqual(states(whole, keys));
    expect(whole.get('agent:main:late')?.children).toEqual(['agent:main:subagent:orphan']);
  });

  it('a tree with a live member stays whole; briefs leave after the retention like whole sessions', () => {
    const limits = { ...testLimits, retainFinishedMs: 10 * S };
    const t = createSessionTracker(limits, { load: (k) => store.loadSnapshot(k), afterMs: 30_000 });
    t.apply(ev({ type: 'agent.started', ts: 0, sessionKey: P, runId: 'r' }));
    t.apply(ev({ type: 'subagent.spawned', ts: 1, sessionKey: P, parentKey: P, childKey: C }));
    t.apply(ev({ type: 'agent.finished', ts: 2, sessionKey: C, runId: 'k', outcome: 'ok' }));
    const save = () => {
      const list = t.all();
      store.saveSnapshots(list, store.lastSeq());
      t.saved?.(list);
    };
    save();
    t.tick(1000);
    t.tick(2 * S); // the parent's run is open (stuck after 5 min, still live)
    expect(t.briefCount()).toBe(0);
    t.apply(ev({ type: 'agent.finished', ts: 2 * S, sessionKey: P, runId: 'r', outcome: 'ok' }));
    t.tick(4 * S);
    save();
    t.tick(5 * S);
    expect(t.briefCount()).toBe(2);
    expect(t.evict(5 * S)).toEqual([]);
    expect(t.evict(13 * S).sort()).toEqual([P, C].sort());
    expect(t.size()).toBe(0);
    expect(t.get(P)).toBeUndefined();
  });

  it('restore after a brief keeps the briefs and the children waiting for a parent', () => {
    const { briefed, both, tick, save } = pair();
    history(both);
    both(
      ev({
        type: 'session.seen',
        ts: 3200,
        sessionKey: 'agent:main:subagent:orphan',
        parentKey: 'agent:main:late',
      }),
    );
    tick(3200 + S + 1000);
    save();
    tick(3200 + 3 * S);
    const snap = store.loadSnapshot(Q) as SessionState;
    briefed.restore([snap]); // the pipeline's come-back path restores one stored state
    expect(briefed.briefCount()).toBe(3);
    expect(briefed.get(Q)).toEqual(snap);
    briefed.apply(ev({ type: 'session.seen', ts: 3200 + 4 * S, sessionKey: 'agent:main:late' }));
    expect(briefed.get('agent:main:late')?.children).toEqual(['agent:main:subagent:orphan']);
  });
});

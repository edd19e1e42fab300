import { afterEach, describe, expect, it } from 'vitest';
import { type AlertHarness, alertHarness, T0 } from './alerts-test-kit.js';
import { costVelocityRule } from './rules/cost-velocity.js';
import { errorBurstRule } from './rules/error-burst.js';
import { loopRule } from './rules/loop.js';
import { runFailedRule } from './rules/run-failed.js';
import { stuckRule } from './rules/stuck.js';

const MIN = 60_000;
let h: AlertHarness;
afterEach(() => h?.close());

const tokens = (sessionKey: string, costUsd: number) => ({
  type: 'llm.tokens' as const,
  sessionKey,
  input: 100,
  output: 10,
  cacheRead: 0,
  cacheWrite: 0,
  reasoning: 0,
  costUsd,
});

describe('stuck rule', () => {
  it('fires once when the model says stuck, resolves when the session moves, fires anew after', () => {
    h = alertHarness(() => [stuckRule()]);
    const k = 'agent:main:main';
    h.ingest({ type: 'agent.started', sessionKey: k, runId: 'r1' });
    h.ingest({
      type: 'tool.call',
      sessionKey: k,
      runId: 'r1',
      callId: 'c1',
      name: 'exec',
      args: 'sleep 999',
    });
    h.advance(4 * MIN);
    expect(h.log()).toEqual([]);
    h.advance(2 * MIN); // past STUCK_AFTER (5 min)
    expect(h.log()).toEqual([`firing:stuck:${k}`]);
    const fired = h.dest.sent[0];
    expect(fired).toMatchObject({
      rule: 'stuck',
      severity: 'warning',
      sessionKey: k,
      agentId: 'main',
      firedAt: T0 + 6 * MIN,
    });
    expect(fired?.message).toMatch(/stuck: no activity for/);
    h.advance(10 * MIN);
    expect(h.log()).toHaveLength(1); // still stuck: nothing more
    h.ingest({ type: 'tool.output', sessionKey: k, runId: 'r1', callId: 'c1', name: 'exec', output: 'ok' });
    expect(h.log()).toEqual([`firing:stuck:${k}`, `resolved:stuck:${k}`]);
    expect(h.dest.sent[1]).toMatchObject({ id: fired?.id, state: 'resolved', resolvedAt: T0 + 16 * MIN });
    expect(h.alerts.get(fired?.id ?? '')?.state).toBe('resolved');
    h.ingest({
      type: 'tool.call',
      sessionKey: k,
      runId: 'r1',
      callId: 'c2',
      name: 'exec',
      args: 'sleep 999',
    });
    h.advance(6 * MIN);
    expect(h.log()).toEqual([`firing:stuck:${k}`, `resolved:stuck:${k}`, `firing:stuck:${k}`]);
    expect(h.dest.sent[2]?.id).not.toBe(fired?.id);
    expect(h.alerts.list().map((a) => a.state)).toEqual(['firing', 'resolved']);
  });
});

describe('run-failed rule', () => {
  const rule = () =>
    alertHarness(({ tracker }) => [
      runFailedRule({ maxEventAgeMs: 15 * MIN, getSession: (k) => tracker.get(k) }),
    ]);

  it('fires once for a failed run (a failing retry is the same alert) and resolves when a later run finishes ok', () => {
    h = rule();
    const k = 'agent:main:subagent:a';
    h.ingest({ type: 'agent.started', sessionKey: k, runId: 'r1' });
    h.ingest({
      type: 'llm.error',
      sessionKey: k,
      runId: 'r1',
      status: 529,
      message: '529 Overloaded',
      retryable: true,
    });
    h.ingest({
      type: 'agent.finished',
      sessionKey: k,
      runId: 'r1',
      outcome: 'error',
      error: '529 Overloaded',
    });
    expect(h.log()).toEqual([`firing:run-failed:${k}`]);
    expect(h.dest.sent[0]?.message).toContain('529 Overloaded');
    h.advance(MIN);
    h.ingest({ type: 'agent.started', sessionKey: k, runId: 'r2' });
    h.ingest({
      type: 'agent.finished',
      sessionKey: k,
      runId: 'r2',
      outcome: 'error',
      error: '529 Overloaded',
    });
    expect(h.log()).toHaveLength(1);
    h.ingest({ type: 'agent.started', sessionKey: k, runId: 'r3' });
    h.ingest({ type: 'agent.finished', sessionKey: k, runId: 'r3', outcome: 'ok' });
    expect(h.log()).toEqual([`firing:run-failed:${k}`, `resolved:run-failed:${k}`]);
  });

  it('does not alert on failures read from history (older than the age limit when they arrive)', () => {
    h = rule();
    const k = 'agent:main:old';
    h.ingest({ type: 'agent.started', sessionKey: k, runId: 'r1', ts: T0 - 3 * 3600_000 });
    h.ingest({
      type: 'agent.finished',
      sessionKey: k,
      runId: 'r1',
      outcome: 'error',
      error: 'boom',
      ts: T0 - 3 * 3600_000,
    });
    h.advance(MIN);
    expect(h.log()).toEqual([]);
  });

  it('an exhausted dispatch (dispatch.failed) is critical, for its label; it resolves when the label runs again', () => {
    h = rule();
    const k = 'agent:main:subagent:d';
    h.ingest({ type: 'session.seen', sessionKey: k, label: 'nightly' });
    h.lifecycle({
      event: 'dispatch.failed',
      label: 'nightly',
      sessionKey: k,
      error: '529 Overloaded (3 retries exhausted)',
      agent: 'main',
    });
    expect(h.log()).toEqual(['firing:run-failed:dispatch:nightly']);
    expect(h.dest.sent[0]).toMatchObject({ severity: 'critical', label: 'nightly', sessionKey: k });
    expect(h.dest.sent[0]?.message).toContain('retries exhausted');
    h.lifecycle({ event: 'dispatch.failed', label: 'nightly', sessionKey: k, error: 'again' });
    expect(h.log()).toHaveLength(1);
    h.lifecycle({ event: 'dispatch.started', label: 'nightly', sessionKey: k });
    expect(h.log()).toEqual(['firing:run-failed:dispatch:nightly', 'resolved:run-failed:dispatch:nightly']);
  });
});

describe('error burst rule', () => {
  it('fires once at N errors in M minutes across sessions and resolves as they age out of the window', () => {
    h = alertHarness(() => [errorBurstRule({ count: 3, windowMs: 5 * MIN })]);
    const err = (sessionKey: string) => ({
      type: 'llm.error' as const,
      sessionKey,
      message: '500',
      retryable: false,
    });
    h.ingest(err('a'), err('b'));
    expect(h.log()).toEqual([]);
    h.advance(MIN);
    h.ingest(err('c'));
    expect(h.log()).toEqual(['firing:error-burst:fleet']);
    expect(h.dest.sent[0]).toMatchObject({ value: 3, threshold: 3, unit: 'errors', severity: 'warning' });
    expect(h.dest.sent[0]?.sessionKey).toBeUndefined();
    expect(h.dest.sent[0]?.message).toBe('3 errors in the last 5 min across 3 sessions');
    h.ingest(err('d'));
    expect(h.log()).toHaveLength(1);
    h.advance(4 * MIN + 1); // the first two leave the window: 2 left
    expect(h.log()).toEqual(['firing:error-burst:fleet', 'resolved:error-burst:fleet']);
    h.ingest(err('e'));
    expect(h.log()).toHaveLength(3);
    expect(h.log()[2]).toBe('firing:error-burst:fleet');
  });

  it('old errors (history) do not make a burst', () => {
    h = alertHarness(() => [errorBurstRule({ count: 2, windowMs: 5 * MIN })]);
    const old = { type: 'llm.error' as const, message: 'x', retryable: false, ts: T0 - 3600_000 };
    h.ingest({ ...old, sessionKey: 'a' }, { ...old, sessionKey: 'b' }, { ...old, sessionKey: 'c' });
    expect(h.log()).toEqual([]);
  });
});

describe('cost velocity rule', () => {
  it('fires per session and fleet-wide over $/hour, resolves when the hour slides past the spend', () => {
    h = alertHarness(({ tracker }) => [
      costVelocityRule({ fleetUsdPerHour: 1, sessionUsdPerHour: 0.5, getSession: (k) => tracker.get(k) }),
    ]);
    h.ingest(tokens('s1', 0.3));
    h.advance(10 * MIN);
    h.ingest(tokens('s1', 0.3));
    expect(h.log()).toEqual(['firing:cost-velocity:s1']);
    expect(h.dest.sent[0]).toMatchObject({ sessionKey: 's1', value: 0.6, threshold: 0.5, unit: 'usd/h' });
    h.ingest(tokens('s2', 0.35));
    expect(h.log()).toHaveLength(1);
    h.ingest(tokens('s2', 0.11));
    expect(h.log()).toEqual(['firing:cost-velocity:s1', 'firing:cost-velocity:fleet']);
    expect(h.dest.sent[1]?.message).toBe('the fleet spent $1.06 in the last hour (threshold $1.00/h)');
    h.advance(51 * MIN); // the first 0.3 is out of the hour: s1 at 0.3, fleet at 0.76
    expect(h.log().slice(0, 2)).toEqual(['firing:cost-velocity:s1', 'firing:cost-velocity:fleet']);
    expect(h.log().slice(2).sort()).toEqual(['resolved:cost-velocity:fleet', 'resolved:cost-velocity:s1']);
  });
});

describe('loop rule', () => {
  const rule = (repeat = 3, failStreak = 2) =>
    alertHarness(({ tracker }) => [
      loopRule({ repeat, failStreak, maxEventAgeMs: 15 * MIN, getSession: (k) => tracker.get(k) }),
    ]);
  const call = (callId: string, args = 'git status', name = 'exec') => ({
    type: 'tool.call' as const,
    sessionKey: 'k',
    runId: 'r1',
    callId,
    name,
    args,
  });

  it('fires once at N calls of one tool with the same arguments in a run; resolves when the run ends', () => {
    h = rule();
    h.ingest({ type: 'agent.started', sessionKey: 'k', runId: 'r1' });
    h.ingest(call('1'), call('2'), call('x', 'ls'), call('y', 'git status', 'read'));
    expect(h.log()).toEqual([]);
    h.ingest(call('3'));
    expect(h.log()).toEqual(['firing:loop:k:r1:exec']);
    expect(h.dest.sent[0]).toMatchObject({ value: 3, threshold: 3, unit: 'calls' });
    expect(h.dest.sent[0]?.message).toContain('called exec 3 times with the same arguments (git status)');
    h.ingest(call('4'));
    expect(h.log()).toHaveLength(1);
    h.ingest({ type: 'agent.finished', sessionKey: 'k', runId: 'r1', outcome: 'ok' });
    expect(h.log()).toEqual(['firing:loop:k:r1:exec', 'resolved:loop:k:r1:exec']);
  });

  it('fires at K failures of one tool in a row and resolves when that tool succeeds', () => {
    h = rule(10, 3);
    const fail = (callId: string) => ({
      type: 'tool.error' as const,
      sessionKey: 'k',
      runId: 'r1',
      callId,
      name: 'exec',
      error: 'exit 1',
    });
    const ok = (callId: string, name = 'exec') => ({
      type: 'tool.output' as const,
      sessionKey: 'k',
      runId: 'r1',
      callId,
      name,
      output: '',
    });
    h.ingest({ type: 'agent.started', sessionKey: 'k', runId: 'r1' });
    h.ingest(fail('1'), fail('2'), ok('3'), fail('4'), fail('5'), ok('6', 'read'));
    expect(h.log()).toEqual([]); // a success between broke the first streak; another tool's does not
    h.ingest(fail('7'));
    expect(h.log()).toEqual(['firing:loop:k:r1:exec']);
    expect(h.dest.sent[0]?.message).toContain('exec failed 3 times in a row (exit 1)');
    h.ingest(fail('8'));
    expect(h.log()).toHaveLength(1);
    h.ingest(ok('9'));
    expect(h.log()).toEqual(['firing:loop:k:r1:exec', 'resolved:loop:k:r1:exec']);
  });
});

import { describe, expect, it } from 'vitest';
import { ManualClock } from '../infra/clock.js';
import { silentLogger } from '../infra/logger.js';
import type { AlertStore } from '../store/alert-store.js';
import { createSqliteStore } from '../store/sqlite-store.js';
import type { AlertDestination } from './alert.js';
import { recordingDestination, T0 } from './alerts-test-kit.js';
import { createAlertEngine } from './engine.js';
import type { Condition, Rule } from './rules/rule.js';

/** a rule whose conditions the test sets by hand */
function manualRule(): Rule & { hold: Map<string, Condition> } {
  const hold = new Map<string, Condition>();
  return { rule: 'stuck', hold, conditions: () => [...hold.values()] };
}
const cond = (key: string, over: Partial<Condition> = {}): Condition => ({
  key,
  severity: 'warning',
  message: `${key} holds`,
  resolvedMessage: `${key} cleared`,
  ...over,
});

describe('alert engine', () => {
  it('takes up the alerts still firing at the last stop: not sent again; resolves those whose condition is gone', () => {
    const store = createSqliteStore(':memory:');
    const clock = new ManualClock(T0);
    const rule = manualRule();
    rule.hold.set('stuck:a', cond('stuck:a'));
    rule.hold.set('stuck:b', cond('stuck:b'));
    const first = recordingDestination();
    const e1 = createAlertEngine({
      rules: [rule],
      store: store.alerts(),
      destinations: () => [first],
      clock,
      logger: silentLogger,
    });
    e1.tick(clock.now());
    expect(first.sent.map((a) => a.key)).toEqual(['stuck:a', 'stuck:b']);

    // a restart: a new engine on the same store; b cleared meanwhile
    clock.advance(60_000);
    rule.hold.delete('stuck:b');
    const second = recordingDestination();
    const e2 = createAlertEngine({
      rules: [rule],
      store: store.alerts(),
      destinations: () => [second],
      clock,
      logger: silentLogger,
    });
    e2.tick(clock.now());
    expect(second.sent.map((a) => `${a.state}:${a.key}`)).toEqual(['resolved:stuck:b']);
    // no resolved text was remembered across the restart: it says what cleared
    expect(second.sent[0]?.message).toBe('cleared: stuck:b holds');
    expect(e2.firing().map((a) => a.key)).toEqual(['stuck:a']);
    expect(store.alerts().counts()).toMatchObject({ firing: 1, resolved: 1 });
    store.close();
  });

  it('a destination that throws or rejects costs the others nothing; failures are counted', async () => {
    const clock = new ManualClock(T0);
    const rule = manualRule();
    const good = recordingDestination('good');
    const throwing: AlertDestination = {
      name: 'throws',
      send: () => {
        throw new Error('boom');
      },
      health: () => ({ id: 'throws', kind: 'throws', breaker: 'closed', requests: 0, failures: 0 }),
    };
    const rejecting: AlertDestination = {
      ...throwing,
      name: 'rejects',
      send: () => Promise.reject(new Error('no')),
    };
    const engine = createAlertEngine({
      rules: [rule],
      destinations: () => [throwing, rejecting, good],
      clock,
      logger: silentLogger,
    });
    rule.hold.set('stuck:x', cond('stuck:x'));
    engine.tick(clock.now());
    await engine.idle();
    expect(good.sent.map((a) => a.key)).toEqual(['stuck:x']);
    expect(engine.stats()).toMatchObject({ fired: 1, sendFailures: 2 });
  });

  it('a store that fails to write still lets the alert out, once', () => {
    const clock = new ManualClock(T0);
    const rule = manualRule();
    const dest = recordingDestination();
    const broken: AlertStore = {
      record: () => {
        throw new Error('disk full');
      },
      resolve: () => {
        throw new Error('disk full');
      },
      get: () => undefined,
      list: () => [],
      counts: () => ({ firing: 0, resolved: 0, firingByRule: {} as never }),
      prune: () => 0,
    };
    const engine = createAlertEngine({
      rules: [rule],
      store: broken,
      destinations: () => [dest],
      clock,
      logger: silentLogger,
    });
    rule.hold.set('stuck:x', cond('stuck:x'));
    engine.tick(clock.now());
    engine.tick(clock.now() + 1000);
    rule.hold.clear();
    engine.tick(clock.now() + 2000);
    expect(dest.sent.map((a) => a.state)).toEqual(['firing', 'resolved']);
    expect(engine.stats().storeFailures).toBe(2);
  });

  it('a rule that throws keeps its alerts firing (it does not resolve them) and the other rules go on', () => {
    const clock = new ManualClock(T0);
    const flaky = manualRule();
    let fail = false;
    const throwing: Rule = {
      rule: 'loop',
      conditions: () => {
        if (fail) throw new Error('bug');
        return [cond('loop:k')];
      },
    };
    const dest = recordingDestination();
    const engine = createAlertEngine({
      rules: [throwing, flaky],
      destinations: () => [dest],
      clock,
      logger: silentLogger,
    });
    engine.tick(clock.now());
    fail = true;
    flaky.hold.set('stuck:y', cond('stuck:y'));
    engine.tick(clock.now());
    expect(dest.sent.map((a) => `${a.state}:${a.key}`)).toEqual(['firing:loop:k', 'firing:stuck:y']);
    expect(engine.stats().ruleFailures).toBe(1);
    fail = false;
    engine.tick(clock.now());
    expect(dest.sent).toHaveLength(2);
  });

  it('an action runs before the alert goes out, the key counting as firing meanwhile', async () => {
    const clock = new ManualClock(T0);
    const rule = manualRule();
    const dest = recordingDestination();
    let release: (v: string) => void = () => {};
    let calls = 0;
    rule.hold.set(
      'budget:x:100',
      cond('budget:x:100', {
        severity: 'critical',
        act: () => {
          calls++;
          return new Promise<string>((r) => {
            release = r;
          });
        },
      }),
    );
    const engine = createAlertEngine({
      rules: [rule],
      destinations: () => [dest],
      clock,
      logger: silentLogger,
    });
    engine.tick(clock.now());
    engine.tick(clock.now() + 1000);
    expect(calls).toBe(1);
    expect(dest.sent).toEqual([]);
    release('aborted the run');
    await engine.idle();
    expect(dest.sent.map((a) => [a.key, a.action])).toEqual([['budget:x:100', 'aborted the run']]);
    expect(engine.stats().firingByRule.stuck).toBe(1);
  });
});

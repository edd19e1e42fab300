import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeGatewayCaller } from '../../test/support/fake-gateway-caller.js';
import { createSessionActions } from '../dispatch/session-actions-impl.js';
import { silentLogger } from '../infra/logger.js';
import type { SessionTracker } from '../model/tracker.js';
import { tempDir } from '../test-support/temp-dir.js';
import { type AlertHarness, alertHarness, T0 } from './alerts-test-kit.js';
import { createBudgetGuard } from './budget-guard.js';
import { type Budgets, loadBudgets, parseBudgetsText } from './budgets.js';
import { budgetRule } from './rules/budget.js';
import { createSpendTracker, type SpendTracker } from './spend.js';

const dir = tempDir('clawpulse-budgets-');
const MIN = 60_000;
const HOUR = 3_600_000;

describe('budgets file', () => {
  it('reads YAML and JSON alike, numbers or objects per agent and label', () => {
    const yaml = `
daily_usd: 50
monthly_usd: 1000
session_usd: 5
warn_percent: 75
action: abort
agents:
  main: { daily_usd: 20 }
  "*": 10
labels:
  nightly-report: { usd: 3 }
  weekly: 7.5
`;
    const fromYaml = parseBudgetsText(yaml, 'b.yaml');
    expect(fromYaml).toEqual({
      fleetDailyUsd: 50,
      fleetMonthlyUsd: 1000,
      sessionUsd: 5,
      warnPercent: 75,
      action: 'abort',
      agentDailyUsd: { main: 20, '*': 10 },
      labelUsd: { 'nightly-report': 3, weekly: 7.5 },
    });
    const json = JSON.stringify({ daily_usd: 50, agents: { main: { daily_usd: 20 } } });
    expect(parseBudgetsText(json, 'b.json')).toEqual({
      fleetDailyUsd: 50,
      agentDailyUsd: { main: 20 },
      labelUsd: {},
    });
    expect(parseBudgetsText('', 'empty.yaml')).toEqual({ agentDailyUsd: {}, labelUsd: {} });
  });

  it.each([
    ['daily_usd: -1', /b\.yaml: daily_usd: a number of US dollars, 0 or more/],
    ['daily_usd: lots', /b\.yaml: daily_usd: a number of US dollars/],
    ['dayly_usd: 5', /b\.yaml: the top level: unknown field dayly_usd/],
    ['agents:\n  main: { weekly_usd: 3 }', /b\.yaml: agents\.main/],
    ['action: explode', /b\.yaml: action: none or abort/],
    ['warn_percent: 120', /b\.yaml: warn_percent: a percent from 1 to 99/],
    ['daily_usd: [1, 2', /b\.yaml: not JSON or YAML/],
    ['- 1\n- 2', /b\.yaml: the top level/],
  ])('refuses %j naming the file and field', (text, message) => {
    expect(() => parseBudgetsText(text, 'b.yaml')).toThrow(message);
  });

  it('the env shorthands win over the file; a missing or bad file leaves the env budgets and an error', () => {
    const file = join(dir, 'budgets.yaml');
    writeFileSync(file, 'daily_usd: 50\nsession_usd: 5\nagents:\n  main: 20\n');
    const ok = loadBudgets({ file, dailyUsd: 30, action: 'abort' });
    expect(ok.error).toBeUndefined();
    expect(ok.budgets).toMatchObject({
      fleetDailyUsd: 30,
      sessionUsd: 5,
      agentDailyUsd: { main: 20 },
      action: 'abort',
      warnPercent: 80,
    });
    const missing = loadBudgets({ file: join(dir, 'nope.yaml'), monthlyUsd: 100 });
    expect(missing.error).toBe(`budgets file ${join(dir, 'nope.yaml')}: no such file`);
    expect(missing.budgets).toMatchObject({ fleetMonthlyUsd: 100, action: 'none', agentDailyUsd: {} });
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'session_usd: "five"\n');
    expect(loadBudgets({ file: bad }).error).toMatch(/bad\.yaml: session_usd: a number of US dollars/);
    expect(loadBudgets({ file: dir }).error).toMatch(/is a directory/);
  });
});

describe('budget rule', () => {
  let h: AlertHarness;
  afterEach(() => h?.close());

  const budgets = (over: Partial<Budgets>): Budgets => ({
    agentDailyUsd: {},
    labelUsd: {},
    warnPercent: 80,
    action: 'none',
    ...over,
  });
  const tokens = (sessionKey: string, costUsd: number, agentId = 'main') => ({
    type: 'llm.tokens' as const,
    sessionKey,
    agentId,
    input: 1000,
    output: 100,
    cacheRead: 0,
    cacheWrite: 0,
    reasoning: 0,
    costUsd,
  });

  function harness(
    b: Budgets,
    abort?: (tracker: SessionTracker) => Parameters<typeof budgetRule>[0]['abort'],
  ) {
    let spend: SpendTracker | undefined;
    const hh = alertHarness(({ tracker, clock }) => {
      spend = createSpendTracker(clock.now());
      const s = spend;
      return [
        {
          // the daemon feeds the spend tracker from the same updates
          rule: 'budget',
          update: (u) => {
            s.add(u.events);
            return false;
          },
          conditions: () => [],
        },
        budgetRule({
          budgets: () => b,
          spend: s,
          getSession: (k) => tracker.get(k),
          allSessions: () => tracker.all(),
          ...(abort ? { abort: abort(tracker) } : {}),
        }),
      ];
    });
    return hh;
  }

  it('fleet per day: warns at 80 %, critical at 100 %, once each; both resolve when the UTC day ends', () => {
    h = harness(budgets({ fleetDailyUsd: 10 }));
    h.ingest(tokens('a', 5), tokens('b', 2.9));
    expect(h.log()).toEqual([]);
    h.ingest(tokens('b', 0.2)); // 8.1
    const day = '2026-12-07';
    expect(h.log()).toEqual([`firing:budget:fleet-day:${day}:80`]);
    expect(h.dest.sent[0]).toMatchObject({ severity: 'warning', value: 8.1, threshold: 8, unit: 'usd' });
    expect(h.dest.sent[0]?.message).toBe(`fleet spend today (${day}) $8.10 is 81 % of its budget $10.00`);
    h.ingest(tokens('a', 1));
    expect(h.log()).toHaveLength(1);
    h.ingest(tokens('c', 1, 'other')); // 10.1
    expect(h.log()).toEqual([`firing:budget:fleet-day:${day}:80`, `firing:budget:fleet-day:${day}:100`]);
    expect(h.dest.sent[1]).toMatchObject({ severity: 'critical', threshold: 10 });
    expect(h.dest.sent[1]?.action).toBeUndefined();
    h.advance(14 * HOUR - MIN); // still the 7th
    expect(h.log()).toHaveLength(2);
    h.advance(MIN); // midnight UTC
    expect(h.log().slice(2).sort()).toEqual([
      `resolved:budget:fleet-day:${day}:100`,
      `resolved:budget:fleet-day:${day}:80`,
    ]);
    h.ingest(tokens('a', 1));
    expect(h.log()).toHaveLength(4);
  });

  it('per month, per agent per day (its own or "*"), per session and per label with its sub-agents', () => {
    h = harness(
      budgets({
        fleetMonthlyUsd: 100,
        sessionUsd: 2,
        agentDailyUsd: { main: 3, '*': 1 },
        labelUsd: { nightly: 4 },
      }),
    );
    h.ingest({ type: 'session.seen', sessionKey: 'lab', label: 'nightly' });
    h.ingest({ type: 'subagent.spawned', sessionKey: 'lab', parentKey: 'lab', childKey: 'kid' });
    h.ingest(tokens('lab', 1.5), tokens('kid', 1.8));
    // main: 3.3 of 3 (80 and 100); session kid 1.8 of 2 (90 %); label 3.3 of 4 (82 %)
    expect(h.log().sort()).toEqual([
      'firing:budget:agent-day:main:2026-12-07:100',
      'firing:budget:agent-day:main:2026-12-07:80',
      'firing:budget:label:nightly:80',
      'firing:budget:session:kid:80',
    ]);
    h.ingest(tokens('x', 0.9, 'ops'));
    expect(h.log()).toContain('firing:budget:agent-day:ops:2026-12-07:80');
    expect(h.dest.sent.find((a) => a.key === 'budget:label:nightly:80')).toMatchObject({
      label: 'nightly',
      value: 3.3,
    });
    expect(h.dest.sent.find((a) => a.key === 'budget:session:kid:80')).toMatchObject({ sessionKey: 'kid' });
  });

  it('with action abort, a critical budget aborts the open run through the gateway and says so', async () => {
    const fake = fakeGatewayCaller({ 'sessions.abort': () => ({ ok: true, aborted: true }) }, [
      'sessions.abort',
    ]);
    h = harness(budgets({ sessionUsd: 1, action: 'abort' }), (tracker) =>
      createBudgetGuard({
        actions: () =>
          createSessionActions({
            gateway: fake.caller,
            runIdOf: (k) => tracker.get(k),
            logger: silentLogger,
          }),
        logger: silentLogger,
      }),
    );
    h.ingest({ type: 'agent.started', sessionKey: 'agent:main:s', runId: 'run-9' });
    h.ingest(tokens('agent:main:s', 1.2));
    await h.engine.idle();
    expect(fake.of('sessions.abort')).toEqual([
      { method: 'sessions.abort', params: { key: 'agent:main:s', runId: 'run-9' } },
    ]);
    const critical = h.dest.sent.find((a) => a.severity === 'critical');
    expect(critical).toMatchObject({ key: 'budget:session:agent:main:s:100', action: 'aborted the run' });
    expect(h.alerts.get(critical?.id ?? '')?.action).toBe('aborted the run');
    // the warning has no action; nothing is aborted twice
    expect(h.dest.sent.find((a) => a.severity === 'warning')?.action).toBeUndefined();
    h.ingest(tokens('agent:main:s', 1));
    await h.engine.idle();
    expect(fake.of('sessions.abort')).toHaveLength(1);
  });

  it('without a gateway, or when the gateway refuses, the alert says the run was not aborted', async () => {
    h = harness(budgets({ sessionUsd: 1, action: 'abort' }), () =>
      createBudgetGuard({ actions: () => undefined, logger: silentLogger }),
    );
    h.ingest({ type: 'agent.started', sessionKey: 's', runId: 'r' });
    h.ingest(tokens('s', 2));
    await h.engine.idle();
    expect(h.dest.sent.find((a) => a.severity === 'critical')?.action).toMatch(
      /^could not abort: actions unavailable: no gateway/,
    );
    h.close();

    const refusing = fakeGatewayCaller({}, ['sessions.abort']);
    h = harness(budgets({ sessionUsd: 1, action: 'abort' }), (tracker) =>
      createBudgetGuard({
        actions: () =>
          createSessionActions({
            gateway: refusing.caller,
            runIdOf: (k) => tracker.get(k),
            logger: silentLogger,
          }),
        logger: silentLogger,
      }),
    );
    h.ingest({ type: 'agent.started', sessionKey: 's', runId: 'r' });
    h.ingest(tokens('s', 2));
    await h.engine.idle();
    expect(h.dest.sent.find((a) => a.severity === 'critical')?.action).toMatch(
      /^could not abort s: gateway refused abort: unknown method/,
    );
  });

  it('a session with no run open is not aborted: the alert says so', async () => {
    const fake = fakeGatewayCaller({ 'sessions.abort': () => ({ ok: true }) }, ['sessions.abort']);
    h = harness(budgets({ sessionUsd: 1, action: 'abort' }), (tracker) =>
      createBudgetGuard({
        actions: () =>
          createSessionActions({
            gateway: fake.caller,
            runIdOf: (k) => tracker.get(k),
            logger: silentLogger,
          }),
        logger: silentLogger,
      }),
    );
    h.ingest({ type: 'agent.started', sessionKey: 's', runId: 'r' });
    h.ingest({ type: 'agent.finished', sessionKey: 's', runId: 'r', outcome: 'ok' });
    h.ingest(tokens('s', 2));
    await h.engine.idle();
    expect(fake.calls).toEqual([]);
    expect(h.dest.sent.find((a) => a.severity === 'critical')?.action).toBe('no run was open to abort');
  });
});

describe('spend tracker', () => {
  it('is seeded from the usage aggregate (today, yesterday, this month) and counts new events on top', () => {
    const reports: unknown[] = [];
    const usage = {
      report: (q: { by: string; since?: number; until?: number }) => {
        reports.push(q);
        if (q.by === 'month')
          return [
            { key: '2026-12', costUsd: 40 },
            { key: '2026-11', costUsd: 7 },
          ];
        const day = new Date(q.since ?? 0).toISOString().slice(0, 10);
        return day === '2026-12-07'
          ? [
              { key: 'main', costUsd: 3 },
              { key: 'ops', costUsd: 1 },
            ]
          : [{ key: 'main', costUsd: 9 }];
      },
    };
    const spend = createSpendTracker(T0, usage as never);
    expect(spend.fleetDay('2026-12-07')).toBe(4);
    expect(spend.fleetDay('2026-12-06')).toBe(9);
    expect(spend.agentDay('2026-12-07', 'ops')).toBe(1);
    expect(spend.fleetMonth('2026-12')).toBe(40);
    spend.add([
      {
        seq: 1,
        event: {
          type: 'llm.tokens',
          ts: T0,
          source: 'demo',
          sessionKey: 's',
          agentId: 'ops',
          dedupeKey: 'd',
          input: 1,
          output: 1,
          cacheRead: 0,
          cacheWrite: 0,
          reasoning: 0,
          costUsd: 0.5,
        },
      },
    ]);
    expect(spend.agentDay('2026-12-07', 'ops')).toBe(1.5);
    expect(spend.fleetMonth('2026-12')).toBe(40.5);
    spend.prune(T0 + 86_400_000); // on the 8th: the 7th is kept, the 6th goes
    expect(spend.fleetDay('2026-12-07')).toBe(0.5 + 4);
    expect(spend.fleetDay('2026-12-06')).toBe(0);
  });
});

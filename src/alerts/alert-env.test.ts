import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config/config.js';

describe('alert and budget variables', () => {
  it('have defaults: every rule on, thresholds set, no budget', () => {
    const c = loadConfig({ CLAWPULSE_HOME: '/tmp/cp-alert-env' }).alerts;
    expect(c.rules).toEqual(['stuck', 'run-failed', 'error-burst', 'cost-velocity', 'loop', 'budget']);
    expect(c.errorBurst).toEqual({ count: 10, windowMs: 300_000 });
    expect(c.costVelocity).toEqual({ fleetUsdPerHour: 20, sessionUsdPerHour: 5 });
    expect(c.loop).toEqual({ repeat: 5, failStreak: 4 });
    expect(c.budgets).toEqual({});
  });

  it('reads the settings and the budget shorthands; the file path is made absolute', () => {
    const c = loadConfig({
      ALERT_RULES: 'stuck, budget',
      ALERT_COST_VELOCITY_USD_H: '2.5',
      BUDGET_DAILY_USD: '50',
      BUDGET_MONTHLY_USD: '1000',
      BUDGET_SESSION_USD: '2.50',
      BUDGET_ACTION: 'ABORT',
      BUDGETS_FILE: 'budgets.yaml',
    }).alerts;
    expect(c.rules).toEqual(['stuck', 'budget']);
    expect(c.costVelocity.fleetUsdPerHour).toBe(2.5);
    expect(c.budgets).toEqual({
      file: `${process.cwd()}/budgets.yaml`,
      dailyUsd: 50,
      monthlyUsd: 1000,
      sessionUsd: 2.5,
      action: 'abort',
    });
    expect(loadConfig({ ALERT_RULES: 'none' }).alerts.rules).toEqual([]);
  });

  it('refuses bad values together, naming each variable', () => {
    try {
      loadConfig({ ALERT_RULES: 'stuck,nope', BUDGET_DAILY_USD: '-5', BUDGET_ACTION: 'kill' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const names = (err as ConfigError).problems.map((p) => p.name);
      expect(names).toEqual(expect.arrayContaining(['ALERT_RULES', 'BUDGET_DAILY_USD', 'BUDGET_ACTION']));
    }
  });
});

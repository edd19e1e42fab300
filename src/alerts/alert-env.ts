/**
 * The alert rules' and budgets' variables, their parsers and the Config part (`config.alerts`).
 * Kept apart from config.ts (as otlp-env.ts is) so that file only spreads them in. Each rule has
 * a default; 0 turns a threshold off. The stuck rule follows the model's STUCK_AFTER_S.
 */
import { z } from 'zod';
import { ALERT_RULES, type AlertRule } from './alert.js';
import type { BudgetAction, BudgetEnv } from './budgets.js';

const intIn = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, `a whole number from ${min} to ${max}`)
        .max(max, `a whole number from ${min} to ${max}`),
    );

const usd = z
  .string()
  .trim()
  .regex(/^\d+(\.\d+)?$/, 'a number of US dollars such as 25 or 2.50')
  .transform(Number);

const rules = z
  .string()
  .trim()
  .toLowerCase()
  .refine(
    (v) =>
      v === 'all' ||
      v === 'none' ||
      v.split(',').every((r) => (ALERT_RULES as readonly string[]).includes(r.trim())),
    `all, none, or a comma list of ${ALERT_RULES.join(', ')}`,
  )
  .transform((v): AlertRule[] =>
    v === 'all' ? [...ALERT_RULES] : v === 'none' ? [] : (v.split(',').map((r) => r.trim()) as AlertRule[]),
  );

export const ALERT_ENV = {
  /** which rules run: all (default), none, or a comma list */
  ALERT_RULES: rules.default([...ALERT_RULES]),
  /** error burst: this many errors (model errors, failed runs) across sessions within the window */
  ALERT_ERROR_BURST_COUNT: intIn(0, 1_000_000).default(10),
  ALERT_ERROR_BURST_WINDOW_S: intIn(10, 86_400).default(300),
  /** cost velocity: fleet-wide and per-session spend in the last hour (USD) */
  ALERT_COST_VELOCITY_USD_H: usd.default(20),
  ALERT_SESSION_COST_VELOCITY_USD_H: usd.default(5),
  /** loop: the same tool with the same arguments this many times in one run; one tool failing this many times in a row */
  ALERT_LOOP_REPEAT: intIn(0, 10_000).default(5),
  ALERT_LOOP_FAILS: intIn(0, 10_000).default(4),
  /** events older than this when they reach clawpulse (history read at a first start) raise no run-failed or loop alert */
  ALERT_MAX_EVENT_AGE_S: intIn(1, 30 * 86_400).default(900),
  /** resolved alerts are kept this many days */
  ALERT_RETAIN_DAYS: intIn(1, 3650).default(30),
  BUDGETS_FILE: z.string().trim().min(1, 'a path to a JSON or YAML file').optional(),
  BUDGET_DAILY_USD: usd.optional(),
  BUDGET_MONTHLY_USD: usd.optional(),
  BUDGET_SESSION_USD: usd.optional(),
  BUDGET_WARN_PERCENT: intIn(1, 99).optional(),
  BUDGET_ACTION: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['none', 'abort'], { error: 'none or abort' }))
    .optional(),
} as const;

export interface AlertsConfig {
  rules: AlertRule[];
  errorBurst: { count: number; windowMs: number };
  costVelocity: { fleetUsdPerHour: number; sessionUsdPerHour: number };
  loop: { repeat: number; failStreak: number };
  maxEventAgeMs: number;
  retainMs: number;
  budgets: BudgetEnv;
}

type Parsed = { [K in keyof typeof ALERT_ENV]: z.output<(typeof ALERT_ENV)[K]> };

export function alertsConfig(raw: Record<string, unknown>, resolvePath: (p: string) => string): AlertsConfig {
  const p = raw as Parsed;
  return {
    rules: p.ALERT_RULES,
    errorBurst: { count: p.ALERT_ERROR_BURST_COUNT, windowMs: p.ALERT_ERROR_BURST_WINDOW_S * 1000 },
    costVelocity: {
      fleetUsdPerHour: p.ALERT_COST_VELOCITY_USD_H,
      sessionUsdPerHour: p.ALERT_SESSION_COST_VELOCITY_USD_H,
    },
    loop: { repeat: p.ALERT_LOOP_REPEAT, failStreak: p.ALERT_LOOP_FAILS },
    maxEventAgeMs: p.ALERT_MAX_EVENT_AGE_S * 1000,
    retainMs: p.ALERT_RETAIN_DAYS * 86_400_000,
    budgets: {
      ...(p.BUDGETS_FILE ? { file: resolvePath(p.BUDGETS_FILE) } : {}),
      ...(p.BUDGET_DAILY_USD !== undefined ? { dailyUsd: p.BUDGET_DAILY_USD } : {}),
      ...(p.BUDGET_MONTHLY_USD !== undefined ? { monthlyUsd: p.BUDGET_MONTHLY_USD } : {}),
      ...(p.BUDGET_SESSION_USD !== undefined ? { sessionUsd: p.BUDGET_SESSION_USD } : {}),
      ...(p.BUDGET_WARN_PERCENT !== undefined ? { warnPercent: p.BUDGET_WARN_PERCENT } : {}),
      ...(p.BUDGET_ACTION !== undefined ? { action: p.BUDGET_ACTION as BudgetAction } : {}),
    },
  };
}

/**
 * Budgets: how much may be spent, per session, per label, per agent per day, and for the whole
 * fleet per day and per month, from a BUDGETS_FILE (JSON or YAML) and the env shorthands
 * BUDGET_DAILY_USD, BUDGET_MONTHLY_USD, BUDGET_SESSION_USD, BUDGET_ACTION, BUDGET_WARN_PERCENT
 * (a variable set wins over the file's same field). Days and months are UTC.
 *
 *   daily_usd: 50            # the fleet, per day
 *   monthly_usd: 1000        # the fleet, per month
 *   session_usd: 5           # any one session
 *   warn_percent: 80         # the warning level (the critical one is 100 %)
 *   action: abort            # at 100 %: abort the runs in the budget's scope (default: none)
 *   agents:
 *     main: { daily_usd: 20 }
 *     "*": { daily_usd: 10 } # every agent not named
 *   labels:
 *     nightly-report: { usd: 3 }   # all sessions of that label (and their sub-agents) together
 *
 * A bad file is an error that names the file and the field; the daemon then runs with the env
 * budgets alone and says so in the log and /health (it never stops for a budget file).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

export type BudgetAction = 'none' | 'abort';

export interface Budgets {
  fleetDailyUsd?: number;
  fleetMonthlyUsd?: number;
  sessionUsd?: number;
  /** per agent per day; `*` for every agent not named */
  agentDailyUsd: Record<string, number>;
  /** per label, all its sessions together */
  labelUsd: Record<string, number>;
  /** the warning level in percent (80); the critical level is 100 */
  warnPercent: number;
  action: BudgetAction;
}

/** what the env shorthands set (src/alerts/alert-env.ts) */
export interface BudgetEnv {
  file?: string;
  dailyUsd?: number;
  monthlyUsd?: number;
  sessionUsd?: number;
  action?: BudgetAction;
  warnPercent?: number;
}

export class BudgetFileError extends Error {
  constructor(
    message: string,
    public readonly path: string,
  ) {
    super(message);
    this.name = 'BudgetFileError';
  }
}

const usd = z
  .number({ error: 'a number of US dollars' })
  .finite()
  .min(0, 'a number of US dollars, 0 or more');
const agentEntry = z.union([usd, z.object({ daily_usd: usd }).strict()]);
const labelBudget = z.union([usd, z.object({ usd }).strict()]);
const fileSchema = z
  .object({
    daily_usd: usd.optional(),
    monthly_usd: usd.optional(),
    session_usd: usd.optional(),
    warn_percent: z.number().min(1, 'a percent from 1 to 99').max(99, 'a percent from 1 to 99').optional(),
    action: z.enum(['none', 'abort'], { error: 'none or abort' }).optional(),
    agents: z.record(z.string().min(1), agentEntry).optional(),
    labels: z.record(z.string().min(1), labelBudget).optional(),
  })
  .strict();

export const DEFAULT_WARN_PERCENT = 80;

/** parses a budgets file's text (JSON is YAML too); throws BudgetFileError naming the field */
export function parseBudgetsText(
  text: string,
  path: string,
): Omit<Budgets, 'warnPercent' | 'action'> & Partial<Pick<Budgets, 'warnPercent' | 'action'>> {
  let raw: unknown;
  try {
    raw = text.trim() ? parseYaml(text) : {};
  } catch (err) {
    throw new BudgetFileError(
      `budgets file ${path}: not JSON or YAML: ${(err as Error).message.split('\n')[0]}`,
      path,
    );
  }
  const r = fileSchema.safeParse(raw ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : 'the top level';
    const what =
      issue?.code === 'unrecognized_keys'
        ? `unknown field ${issue.keys.join(', ')}`
        : (issue?.message ?? 'invalid');
    throw new BudgetFileError(`budgets file ${path}: ${where}: ${what}`, path);
  }
  const f = r.data;
  const agentDailyUsd: Record<string, number> = {};
  for (const [a, b] of Object.entries(f.agents ?? {}))
    agentDailyUsd[a] = typeof b === 'number' ? b : b.daily_usd;
  const labelUsd: Record<string, number> = {};
  for (const [l, b] of Object.entries(f.labels ?? {})) labelUsd[l] = typeof b === 'number' ? b : b.usd;
  return {
    ...(f.daily_usd !== undefined ? { fleetDailyUsd: f.daily_usd } : {}),
    ...(f.monthly_usd !== undefined ? { fleetMonthlyUsd: f.monthly_usd } : {}),
    ...(f.session_usd !== undefined ? { sessionUsd: f.session_usd } : {}),
    ...(f.warn_percent !== undefined ? { warnPercent: f.warn_percent } : {}),
    ...(f.action !== undefined ? { action: f.action } : {}),
    agentDailyUsd,
    labelUsd,
  };
}

/**
 * The budgets in effect: the file's (when there is one and it reads), with the env shorthands
 * over it. A file that cannot be read or parsed gives `error` and the env budgets alone.
 */
export function loadBudgets(env: BudgetEnv): { budgets: Budgets; error?: string } {
  let fromFile: ReturnType<typeof parseBudgetsText> = { agentDailyUsd: {}, labelUsd: {} };
  let error: string | undefined;
  if (env.file) {
    try {
      fromFile = parseBudgetsText(readFileSync(env.file, 'utf8'), env.file);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      error =
        err instanceof BudgetFileError
          ? err.message
          : `budgets file ${env.file}: ${e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a directory' : e.message}`;
    }
  }
  const budgets: Budgets = {
    ...fromFile,
    ...(env.dailyUsd !== undefined ? { fleetDailyUsd: env.dailyUsd } : {}),
    ...(env.monthlyUsd !== undefined ? { fleetMonthlyUsd: env.monthlyUsd } : {}),
    ...(env.sessionUsd !== undefined ? { sessionUsd: env.sessionUsd } : {}),
    warnPercent: env.warnPercent ?? fromFile.warnPercent ?? DEFAULT_WARN_PERCENT,
    action: env.action ?? fromFile.action ?? 'none',
  };
  return error ? { budgets, error } : { budgets };
}

/** whether any budget is set (no budget: the rule has nothing to watch) */
export function hasBudgets(b: Budgets): boolean {
  return (
    b.fleetDailyUsd !== undefined ||
    b.fleetMonthlyUsd !== undefined ||
    b.sessionUsd !== undefined ||
    Object.keys(b.agentDailyUsd).length > 0 ||
    Object.keys(b.labelUsd).length > 0
  );
}

/** an agent's daily budget: its own, else the `*` one */
export function agentBudget(b: Budgets, agentId: string): number | undefined {
  return b.agentDailyUsd[agentId] ?? b.agentDailyUsd['*'];
}

/** UTC day and month of an epoch ms: '2026-12-07', '2026-12' */
export const dayOf = (ts: number): string => new Date(ts).toISOString().slice(0, 10);
export const monthOf = (ts: number): string => new Date(ts).toISOString().slice(0, 7);

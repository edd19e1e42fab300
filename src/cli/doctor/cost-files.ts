/**
 * The files a user writes by hand for cost: PRICES_FILE (the price table's overrides) and
 * BUDGETS_FILE. The daemon runs on without a bad one (the bundled prices, the BUDGET_* variables
 * alone) and says so in its log and /health; doctor says it before the daemon starts.
 */
import { loadBudgets } from '../../alerts/budgets.js';
import type { Config } from '../../config/config.js';
import { readPricesFile } from '../../usage/prices-file.js';
import { type CheckResult, fail, ok } from './report.js';

export function checkCostFiles(config: Readonly<Pick<Config, 'pricesFile' | 'alerts'>>): CheckResult[] {
  const out: CheckResult[] = [];
  if (config.pricesFile) {
    try {
      const table = readPricesFile(config.pricesFile);
      const models = Object.values(table).reduce((n, m) => n + Object.keys(m).length, 0);
      out.push(
        ok(
          'prices file',
          `${config.pricesFile}: ${models} model price${models === 1 ? '' : 's'} over the bundled table`,
        ),
      );
    } catch (err) {
      out.push(
        fail(
          'prices file',
          (err as Error).message,
          'fix the file (see "Usage and cost" in the README) or unset PRICES_FILE; until then costs the source lacks are estimated from the bundled table',
        ),
      );
    }
  }
  const env = config.alerts.budgets;
  if (env.file) {
    const { error } = loadBudgets(env);
    out.push(
      error
        ? fail(
            'budgets file',
            error,
            'fix the file (see "Alerts and budgets" in the README) or unset BUDGETS_FILE; until then only the BUDGET_* variables apply',
          )
        : ok('budgets file', `${env.file}: read`),
    );
  }
  return out;
}

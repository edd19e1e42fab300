import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/config.js';
import { checkCostFiles } from './cost-files.js';

const dir = mkdtempSync(join(tmpdir(), 'clawpulse-doctor-cost-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, text: string): string => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};
const checks = (env: Record<string, string>) =>
  checkCostFiles(loadConfig({ HOME: dir, CLAWPULSE_HOME: join(dir, 'home'), ...env }));

describe('doctor: the prices and budgets files', () => {
  it('says nothing when neither is set', () => {
    expect(checks({})).toEqual([]);
  });

  it('reads good files and says what they hold', () => {
    const prices = write(
      'prices.yaml',
      'acme:\n  m1: { input: 1, output: 2 }\n  m2: { input: 1, output: 2 }\n',
    );
    const budgets = write('budgets.yaml', 'daily_usd: 20\n');
    expect(checks({ PRICES_FILE: prices, BUDGETS_FILE: budgets })).toEqual([
      { name: 'prices file', status: 'ok', detail: `${prices}: 2 model prices over the bundled table` },
      { name: 'budgets file', status: 'ok', detail: `${budgets}: read` },
    ]);
  });

  it('fails a missing, unparsable or wrongly shaped file with the reason and the fix', () => {
    const bad = write('prices.json', '{"acme": {"m1": {"input": "cheap"}}}');
    const [prices, budgets] = checks({ PRICES_FILE: bad, BUDGETS_FILE: join(dir, 'nope.yaml') });
    expect(prices).toMatchObject({
      name: 'prices file',
      status: 'fail',
      detail: expect.stringMatching(/acme\.m1\.input/),
      fix: expect.stringMatching(/unset PRICES_FILE/),
    });
    expect(budgets).toMatchObject({
      name: 'budgets file',
      status: 'fail',
      detail: expect.stringMatching(/no such file/),
      fix: expect.stringMatching(/BUDGET_\* variables/),
    });
    const garbage = write('budgets.json', '{ not: [json');
    expect(checks({ BUDGETS_FILE: garbage })[0]).toMatchObject({ status: 'fail' });
  });
});

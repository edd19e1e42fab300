/**
 * PRICES_FILE: a JSON or YAML file that overrides or extends the bundled price table
 * (`prices.ts`), in the same shape: provider → model → { input, output, cacheRead?,
 * cacheWrite?, reasoning? } in USD per 1M tokens. A model given in the file replaces the
 * bundled entry of that provider and model; everything else stays.
 *
 * A bad file (missing, unreadable, not JSON/YAML, a price that is not a number ≥ 0) is an
 * error that names the file and the entry: prices are money, a silent fallback would be wrong.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { BUNDLED_PRICES, type PriceTable } from './prices.js';

const price = z.number({ error: 'a number (USD per 1M tokens)' }).finite().min(0, 'a number ≥ 0');
const modelPrice = z
  .object({
    input: price,
    output: price,
    cacheRead: price.optional(),
    cacheWrite: price.optional(),
    reasoning: price.optional(),
  })
  .strict();
const fileSchema = z.record(z.string().min(1), z.record(z.string().min(1), modelPrice));

export class PricesFileError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'PricesFileError';
  }
}

/** the table of a prices file alone (throws PricesFileError) */
export function readPricesFile(file: string): PriceTable {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new PricesFileError(`PRICES_FILE ${file} cannot be read (${code})`, file);
  }
  let data: unknown;
  try {
    // YAML is a superset of JSON: one parser reads both
    data = parseYaml(text);
  } catch (err) {
    throw new PricesFileError(
      `PRICES_FILE ${file} is not valid JSON or YAML: ${(err as Error).message}`,
      file,
    );
  }
  const r = fileSchema.safeParse(data ?? {});
  if (!r.success) {
    const i = r.error.issues[0];
    const where = i?.path.length ? i.path.join('.') : '(top level)';
    throw new PricesFileError(
      `PRICES_FILE ${file}: ${where}: ${i?.message ?? 'invalid'} (expected provider → model → { input, output, cacheRead?, cacheWrite?, reasoning? } in USD per 1M tokens)`,
      file,
    );
  }
  return r.data as PriceTable;
}

/** the bundled table with a prices file's entries over it (`file` undefined: the bundled table) */
export function loadPrices(file?: string): PriceTable {
  if (!file) return BUNDLED_PRICES;
  const extra = readPricesFile(file);
  const out: PriceTable = {};
  for (const [p, models] of Object.entries(BUNDLED_PRICES)) out[p] = { ...models };
  for (const [p, models] of Object.entries(extra)) out[p] = { ...out[p], ...models };
  return out;
}

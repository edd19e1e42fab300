/**
 * `npm run bench`: runs every bench/*.bench.ts in its own process (so memory figures do not
 * mix) and prints their figures. Benchmarks report ratios measured in the same run, because
 * these machines are shared and noisy. `npm run bench -- ingest` runs only matching files.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const filter = process.argv[2];

if (process.argv[2] === '--one') {
  const file = process.argv[3] as string;
  const mod = (await import(file)) as { run: () => Promise<Record<string, unknown>> };
  const result = await mod.run();
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

const all = readdirSync(dir).filter((f) => f.endsWith('.bench.ts'));
// a bench named exactly runs alone (`store` is store.bench.ts, not store-wal too); else a substring
const files = all
  .filter(
    (f) => !filter || (all.includes(`${filter}.bench.ts`) ? f === `${filter}.bench.ts` : f.includes(filter)),
  )
  .sort();
let failed = 0;
for (const f of files) {
  const t0 = Date.now();
  const r = spawnSync(
    process.execPath,
    // what follows the name goes to the bench: `npm run bench -- daemon 1000,10000`
    [
      '--import',
      'tsx',
      '--expose-gc',
      fileURLToPath(import.meta.url),
      '--one',
      `${dir}${f}`,
      ...process.argv.slice(3),
    ],
    {
      encoding: 'utf8',
      timeout: 1_800_000,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const last = r.stdout.trim().split('\n').pop() ?? '';
  process.stdout.write(`\n== ${f} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
  try {
    for (const [k, v] of Object.entries(JSON.parse(last) as Record<string, unknown>)) {
      process.stdout.write(`  ${k.padEnd(44)} ${typeof v === 'number' ? Number(v.toFixed(3)) : String(v)}\n`);
    }
  } catch {
    failed++;
    process.stdout.write(`  failed (exit ${r.status}): ${r.stdout.slice(-2000)}\n`);
  }
}
process.exit(failed ? 1 : 0);

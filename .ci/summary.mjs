// Prints one closing line, "vitest: N passed, N failed, N skipped", over the JSON reports
// given (Vitest's own closing lines are not among those CI reads).
import { existsSync, readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) {
    console.log(`no report at ${file} (that run did not finish)`);
    failed++;
    continue;
  }
  const r = JSON.parse(readFileSync(file, 'utf8'));
  passed += r.numPassedTests ?? 0;
  failed += (r.numFailedTests ?? 0) + (r.numRuntimeErrorTestSuites ?? 0);
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  if (!r.success && !r.numFailedTests) failed++;
}
console.log(`vitest: ${passed} passed, ${failed} failed, ${skipped} skipped`);

// Prints one closing line, "vitest: N passed, N failed, N skipped", over the JSON reports
// given (Vitest's own closing lines are not among those CI reads), preceded by each failed
// test's file, name and first error line, so the tail CI keeps says what failed.
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';

let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
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
  for (const suite of r.testResults ?? []) {
    const where = relative(process.cwd(), suite.name ?? '?');
    const bad = (suite.assertionResults ?? []).filter((t) => t.status === 'failed');
    for (const t of bad) failures.push(`${where} > ${t.fullName ?? t.title}: ${firstLine(t.failureMessages?.[0])}`);
    if (bad.length === 0 && suite.status === 'failed') failures.push(`${where}: ${firstLine(suite.message)}`);
  }
}
for (const f of failures) console.log(`FAILED ${f}`);
console.log(`vitest: ${passed} passed, ${failed} failed, ${skipped} skipped`);

function firstLine(text) {
  const line = String(text ?? '').split('\n').find((l) => l.trim() !== '') ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

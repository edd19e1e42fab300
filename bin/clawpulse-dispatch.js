#!/usr/bin/env node
// `clawpulse-dispatch <command> …` = `clawpulse dispatch <command> …` (openclaw-scheduler's
// `node dispatch/index.mjs <command> …`, same flags and exit codes). Runs the built CLI.
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli/dispatch-main.js', import.meta.url);
if (!existsSync(built)) {
  console.error('clawpulse is not built yet: run `npm run build` in the clawpulse folder first.');
  process.exit(2);
}
await import(built.href);

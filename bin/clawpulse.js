#!/usr/bin/env node
// The clawpulse command. Runs the built CLI (npm run build; `npm install` builds it too).
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(built)) {
  console.error('clawpulse is not built yet: run `npm run build` in the clawpulse folder first.');
  process.exit(2);
}
await import(built.href);

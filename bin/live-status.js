#!/usr/bin/env node
// `live-status …`: the original Live Status command, run by clawpulse (start-watcher,
// stop-watcher and status run clawpulse's; the v1 per-call commands are no-ops now).
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli/live-status.js', import.meta.url);
if (!existsSync(built)) {
  console.error('clawpulse is not built yet: run `npm run build` in the clawpulse folder first.');
  process.exit(2);
}
(await import(built.href)).main();

/** Real Chromium for the dashboard e2e test and benchmark (system chromium, headless). */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../support/chromium.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const UI_DIST = path.join(ROOT, 'ui/dist');
export const SHOTS = path.join(ROOT, 'test-output/dashboard');

export { CHROMIUM } from '../support/chromium.js';

/**
 * Builds the dashboard once when ui/dist is missing. Builds into a temp folder and renames it
 * into place, so two test files starting at once never see (or clobber) a half-built folder.
 */
export function ensureUiBuilt(): string {
  if (fs.existsSync(path.join(UI_DIST, 'index.html'))) return UI_DIST;
  const tmp = `${UI_DIST}.tmp-${process.pid}-${Date.now()}`;
  try {
    execFileSync(
      process.execPath,
      [
        path.join(ROOT, 'node_modules/vite/bin/vite.js'),
        'build',
        '--config',
        'ui/vite.config.ts',
        '--outDir',
        tmp,
        '--emptyOutDir',
      ],
      { cwd: ROOT, stdio: 'pipe', timeout: 180_000 },
    );
    if (!fs.existsSync(path.join(UI_DIST, 'index.html'))) {
      fs.rmSync(UI_DIST, { recursive: true, force: true });
      try {
        fs.renameSync(tmp, UI_DIST);
      } catch {
        /* another process renamed its build in first: use that one */
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return UI_DIST;
}

export const launchBrowser = launchChromium;

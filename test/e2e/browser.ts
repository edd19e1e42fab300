/** Real Chromium for the dashboard e2e test and benchmark (system chromium, headless). */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const UI_DIST = path.join(ROOT, 'ui/dist');
export const SHOTS = path.join(ROOT, 'test-output/dashboard');

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** builds the dashboard once when ui/dist is missing */
export function ensureUiBuilt(): string {
  if (!fs.existsSync(path.join(UI_DIST, 'index.html'))) {
    execFileSync(
      process.execPath,
      [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'ui/vite.config.ts'],
      {
        cwd: ROOT,
        stdio: 'pipe',
        timeout: 180_000,
      },
    );
  }
  return UI_DIST;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

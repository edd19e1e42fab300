/**
 * The release path, checked the way CI runs it: `npm run build:plugin` from a clean dist must
 * produce the tarball Mattermost installs, with a valid manifest, the bundle where the manifest
 * says, within the size budget, and the npm package must ship that tarball.
 * Run alone: npx vitest run mattermost-plugin/test/build.test.ts  (about 5 s)
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { PLUGIN_ID, pluginDir, repoRoot, tarPath, withBuildLock } from './harness.js';

/** raw and gzipped budgets for webapp/dist/main.js (React is the host's, never bundled) */
const BUNDLE_BUDGET = { raw: 60_000, gzip: 20_000 };
const TARBALL_BUDGET = 25_000;

describe('npm run build:plugin', () => {
  it('builds the installable tarball: manifest, bundle path, size budget, npm files', () => {
    // plugin.test.ts builds too: one build (and read of its output) at a time
    withBuildLock(() => {
      fs.rmSync(path.join(pluginDir, 'dist'), { recursive: true, force: true });
      const t0 = Date.now();
      execFileSync('npm', ['run', '--silent', 'build:plugin'], {
        cwd: repoRoot,
        stdio: 'pipe',
        env: { ...process.env, NODE_ENV: 'production' },
      });
      expect(Date.now() - t0).toBeLessThan(30_000);
      expect(fs.statSync(tarPath).size).toBeLessThan(TARBALL_BUDGET);

      const list = execFileSync('tar', ['-tzf', tarPath], { encoding: 'utf8' }).trim().split('\n');
      expect(list.every((p) => p.startsWith(`${PLUGIN_ID}/`))).toBe(true);
      const out = fs.mkdtempSync(path.join(os.tmpdir(), 'clawpulse-plugin-build-'));
      try {
        execFileSync('tar', ['-xzf', tarPath, '-C', out]);
        const manifest = JSON.parse(fs.readFileSync(path.join(out, PLUGIN_ID, 'plugin.json'), 'utf8'));
        const source = JSON.parse(fs.readFileSync(path.join(pluginDir, 'plugin.json'), 'utf8'));
        expect(manifest).toEqual(source);
        expect(manifest.id).toBe(PLUGIN_ID);
        expect(manifest.version).toBe(
          JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).version,
        );
        expect(manifest.min_server_version).toMatch(/^\d+\.\d+\.\d+$/);
        expect(manifest.server).toBeUndefined(); // webapp-only: no server binary to ship
        expect(list).toContain(`${PLUGIN_ID}/${manifest.webapp.bundle_path}`);
        const bundle = fs.readFileSync(path.join(out, PLUGIN_ID, manifest.webapp.bundle_path));
        expect(bundle.length).toBeLessThan(BUNDLE_BUDGET.raw);
        expect(zlib.gzipSync(bundle).length).toBeLessThan(BUNDLE_BUDGET.gzip);
        const text = bundle.toString('utf8');
        expect(text).toContain(`registerPlugin`);
        expect(text).not.toContain('__SECRET_INTERNALS'); // no bundled React
      } finally {
        fs.rmSync(out, { recursive: true, force: true });
      }
    });

    // the npm package ships the tarball, and `npm pack` / `npm publish` build it first
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
    expect(pkg.files).toContain(`mattermost-plugin/dist/${PLUGIN_ID}.tar.gz`);
    expect(pkg.scripts.prepack).toContain('build:plugin');
  }, 60_000);
});

#!/usr/bin/env node
// The lockfile is portable: every optional dependency a locked package declares (biome's,
// esbuild's and rollup's per-platform binaries, …) has its own entry, so `npm ci` works on
// macOS, Windows and musl too and `npm install` on any of them does not rewrite the file.
// Usage: node .ci/lockfile-check.mjs [package-lock.json]
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'package-lock.json';
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages ?? {};
const problems = [];
if (lock.lockfileVersion !== 3) problems.push(`lockfileVersion ${lock.lockfileVersion}, expected 3`);

/** where node would find `name` from the package at `path` (node_modules lookup upwards) */
function resolves(path, name) {
  let dir = path;
  for (;;) {
    if (packages[`${dir ? `${dir}/` : ''}node_modules/${name}`]) return true;
    if (!dir) return false;
    const i = dir.lastIndexOf('/node_modules/');
    dir = i < 0 ? '' : dir.slice(0, i);
  }
}

let optional = 0;
for (const [path, pkg] of Object.entries(packages)) {
  for (const name of Object.keys(pkg.optionalDependencies ?? {})) {
    optional++;
    if (!resolves(path, name)) problems.push(`${path || '(root)'}: optional dependency ${name} is not locked`);
  }
}
for (const [path, pkg] of Object.entries(packages))
  if (path && !pkg.link && !pkg.version) problems.push(`${path}: no version`);

const platforms = new Set();
for (const pkg of Object.values(packages)) for (const os of pkg.os ?? []) platforms.add(os);
if (problems.length) {
  console.error(`${file} is not portable:\n  ${problems.join('\n  ')}`);
  console.error('regenerate it: rm -rf node_modules && npm install --package-lock-only (omit-lockfile-registry-resolved is set in .npmrc)');
  process.exit(1);
}
console.log(
  `${file}: ${Object.keys(packages).length - 1} packages, all ${optional} optional dependencies locked (platforms: ${[...platforms].sort().join(', ')})`,
);

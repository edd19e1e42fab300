#!/usr/bin/env node
// What `npm publish` would upload (its --dry-run --json list on stdin): everything a user needs
// (the built CLI and daemon, the dashboard, the Mattermost plugin tarball, the bins, the hook,
// the systemd units, the demo recordings) and nothing else (no sources, tests, fixtures, source
// maps, CI or build files).
// Usage: npm publish --dry-run --ignore-scripts --json | node .ci/package-contents.mjs
import { readFileSync } from 'node:fs';

const out = JSON.parse(readFileSync(0, 'utf8'));
const info = out.clawpulse ?? out[0] ?? out;
const files = info.files.map((f) => f.path);
const has = new Set(files);

const required = [
  'package.json',
  'README.md',
  'CHANGELOG.md',
  'bin/clawpulse.js',
  'bin/clawpulse-dispatch.js',
  'bin/live-status.js',
  'dist/cli/main.js',
  'dist/cli/live-status.js',
  'dist/cli/dispatch-main.js',
  'dist/cli/doctor/doctor.js',
  'dist/daemon/daemon.js',
  'ui/dist/index.html',
  'mattermost-plugin/dist/com.clawpulse.livestatus.tar.gz',
  'hooks/clawpulse/HOOK.md',
  'hooks/clawpulse/handler.js',
  'deploy/systemd/system/clawpulse.service',
  'deploy/systemd/user/clawpulse.service',
];
const forbidden = [
  [/(^|\/)test(s)?\//, 'tests'],
  [/\.test\.[cm]?[jt]sx?$/, 'tests'],
  [/(^|\/)fixtures?\//, 'fixtures'],
  [/(^|\/)test-support\//, 'test support'],
  [/(^|\/)(fake|bench)-[^/]*\.js$|\.bench\.js$|\.helper\.js$/, 'test and bench helpers'],
  [/\.map$/, 'source maps'],
  [/^src\/|^ui\/src\/|^mattermost-plugin\/src\//, 'sources'],
  [/\.ts$|\.tsx$/, 'TypeScript sources'],
  [/^\.ci\/|^\.github\/|^bench\/|^docs\/|^deploy\/docker\//, 'CI, benchmarks, design docs, Docker build files'],
  [/(^|\/)node_modules\//, 'node_modules'],
  [/\.tsbuildinfo$|(^|\/)tsconfig[^/]*\.json$|^biome\.json$|^vitest\.config/, 'build configuration'],
  [/^\.npmrc$|^\.env|(^|\/)\.DS_Store$/, 'local settings'],
  [/^mattermost-plugin\/dist\/webapp\//, 'the plugin bundle outside its tarball'],
];
const problems = [];
for (const r of required) if (!has.has(r)) problems.push(`missing ${r}`);
for (const f of files)
  for (const [re, what] of forbidden) if (re.test(f)) problems.push(`${f}: ${what} do not belong in the package`);
if (!files.some((f) => f.startsWith('demo/recordings/'))) problems.push('missing demo/recordings/ (clawpulse demo)');

if (problems.length) {
  console.error(`npm publish would upload the wrong files:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
const top = {};
for (const f of files) {
  const k = f.includes('/') ? `${f.split('/')[0]}/` : f;
  top[k] = (top[k] ?? 0) + 1;
}
console.log(
  `npm publish --dry-run: ${files.length} files, ${(info.size / 1024).toFixed(0)} kB packed (${(info.unpackedSize / 1024).toFixed(0)} kB unpacked): ${Object.entries(
    top,
  )
    .map(([k, n]) => `${k}${n > 1 ? ` ${n}` : ''}`)
    .join(', ')}`,
);

#!/usr/bin/env node
// What the installed package runs needs only its `dependencies`: every module the built code
// (the package's .js files outside ui/dist, which the browser loads) imports is a Node builtin,
// a relative file, or a package listed in `dependencies` (a devDependency would be missing after
// `npm install -g`). Usage: node .ci/runtime-deps.mjs <unpacked package dir>
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';

const root = process.argv[2] ?? '.';
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const deps = new Set(Object.keys(pkg.dependencies ?? {}));
const dev = new Set(Object.keys(pkg.devDependencies ?? {}));
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

function* jsFiles(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name === 'node_modules' || relative(root, p) === join('ui', 'dist')) continue;
      yield* jsFiles(p);
    } else if (/\.(m?js|cjs)$/.test(e.name)) yield p;
  }
}

// static imports/exports, dynamic import() and require() with a literal specifier
const SPEC = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;
const problems = [];
const used = new Set();
let files = 0;
for (const file of jsFiles(root)) {
  files++;
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(SPEC)) {
    const spec = m[1];
    if (spec.startsWith('.') || spec.startsWith('/') || builtins.has(spec) || spec.startsWith('node:')) continue;
    const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
    used.add(name);
    if (!deps.has(name))
      problems.push(
        `${relative(root, file)} imports ${spec}: ${dev.has(name) ? 'a devDependency' : 'not a dependency'}`,
      );
  }
}
if (problems.length) {
  console.error(`the built code needs packages a user's install does not have:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
const unused = [...deps].filter((d) => !used.has(d));
console.log(
  `runtime imports: ${files} files use ${[...used].sort().join(', ')}; all in dependencies${unused.length ? ` (listed, not imported directly: ${unused.join(', ')})` : ''}`,
);

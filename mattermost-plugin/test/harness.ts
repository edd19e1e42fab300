/**
 * Test harness: builds the real plugin (npm run build:plugin), unpacks the tar.gz, bundles the
 * fake webapp host, serves both plus a fake `/api/v4/channels/:id/posts` on 127.0.0.1:0, and
 * launches headless Chromium.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { build } from 'vite';
import { type FakeMattermost, startFakeMattermost } from '../../src/test-support/fake-mattermost/server.js';
import { launchChromium } from '../../test/support/chromium.js';
import type { MmPost } from '../src/types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const pluginDir = path.resolve(here, '..');
export const repoRoot = path.resolve(pluginDir, '..');
export const PLUGIN_ID = 'com.clawpulse.livestatus';
export const tarPath = path.join(pluginDir, 'dist', `${PLUGIN_ID}.tar.gz`);

export interface ApiRequest {
  url: string;
  requestedWith: string | undefined;
}

export interface Harness {
  baseUrl: string;
  browser: Browser;
  unpacked: string;
  /** a copy of the packed tarball this run built (dist/ may be rebuilt by another test file) */
  tarball: string;
  /** what the fake REST endpoint returns per channel; a number means "answer with that status" */
  channelPosts: Record<string, MmPost[] | number>;
  apiRequests: ApiRequest[];
  /** the strict fake Mattermost that answers post search (proxied with the bot's token) */
  mm: FakeMattermost;
  searchRequests: Array<ApiRequest & { body: unknown; csrf: string | undefined }>;
  close(): Promise<void>;
}

async function buildHost(outDir: string): Promise<string> {
  await build({
    configFile: false,
    // vitest sets NODE_ENV=test, which would switch the JSX transform to jsxDEV
    mode: 'production',
    esbuild: { jsx: 'automatic', jsxDev: false },
    logLevel: 'warn',
    root: here,
    publicDir: false,
    define: { 'process.env.NODE_ENV': JSON.stringify('production') },
    build: {
      outDir,
      emptyOutDir: true,
      minify: false,
      target: 'es2022',
      lib: { entry: path.join(here, 'host.tsx'), formats: ['iife'], name: 'Host', fileName: () => 'host.js' },
    },
  });
  return path.join(outDir, 'host.js');
}

/**
 * Test files run in parallel and two of them build the plugin into the same dist/: a lock
 * directory makes one build-and-read happen at a time.
 */
export function withBuildLock<T>(fn: () => T): T {
  const lock = path.join(os.tmpdir(), 'clawpulse-plugin-build.lock');
  const until = Date.now() + 120_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      // a lock older than 2 minutes was left by a killed run
      try {
        if (Date.now() - fs.statSync(lock).mtimeMs > 120_000)
          fs.rmSync(lock, { recursive: true, force: true });
      } catch {}
      if (Date.now() > until) throw new Error(`plugin build lock ${lock} held too long`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

export async function startHarness(): Promise<Harness> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'clawpulse-plugin-'));
  const unpacked = path.join(tmp, 'unpacked');
  fs.mkdirSync(unpacked);
  withBuildLock(() => {
    execFileSync('npm', ['run', '--silent', 'build:plugin'], {
      cwd: repoRoot,
      stdio: 'pipe',
      env: { ...process.env, NODE_ENV: 'production' },
    });
    execFileSync('tar', ['-xzf', tarPath, '-C', unpacked]);
    fs.copyFileSync(tarPath, path.join(tmp, 'plugin.tar.gz'));
  });
  const hostJs = await buildHost(path.join(tmp, 'host'));
  const pluginJs = path.join(unpacked, PLUGIN_ID, 'webapp/dist/main.js');
  const hostHtml = path.join(here, 'host.html');

  const mm = await startFakeMattermost();
  // the host page's user is in two teams (host.tsx); the second one has a channel from the start
  mm.addChannel(undefined, { teamId: 'secondteamaaaaaaaaaaaaaaaa' });
  const searchRequests: Harness['searchRequests'] = [];
  const channelPosts: Harness['channelPosts'] = {};
  const apiRequests: ApiRequest[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    const m = /^\/api\/v4\/channels\/([a-z0-9]+)\/posts$/.exec(url.pathname);
    if (m?.[1]) {
      const xrw = req.headers['x-requested-with'];
      apiRequests.push({ url: url.pathname + url.search, requestedWith: Array.isArray(xrw) ? xrw[0] : xrw });
      const answer = channelPosts[m[1]] ?? [];
      if (typeof answer === 'number') return send(answer, 'application/json', '{"status_code":403}');
      const posts = Object.fromEntries(answer.map((p) => [p.id, p]));
      const order = [...answer].sort((a, b) => (b.create_at ?? 0) - (a.create_at ?? 0)).map((p) => p.id);
      return send(
        200,
        'application/json',
        JSON.stringify({ order, posts, next_post_id: '', prev_post_id: '' }),
      );
    }
    if (
      req.method === 'POST' &&
      (/^\/api\/v4\/teams\/[a-z0-9]+\/posts\/search$/.test(url.pathname) ||
        url.pathname === '/api/v4/posts/search')
    ) {
      // the browser's cookie session stands in for the bot token the fake knows
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const h1 = (n: string) => {
          const v = req.headers[n];
          return Array.isArray(v) ? v[0] : v;
        };
        let body: unknown = raw;
        try {
          body = JSON.parse(raw);
        } catch {}
        searchRequests.push({
          url: url.pathname,
          requestedWith: h1('x-requested-with'),
          csrf: h1('x-csrf-token'),
          body,
        });
        fetch(mm.url + url.pathname, {
          method: 'POST',
          headers: { authorization: `Bearer ${mm.token}`, 'content-type': h1('content-type') ?? '' },
          body: raw,
        })
          .then(async (r) => send(r.status, 'application/json', Buffer.from(await r.arrayBuffer())))
          .catch((e) => send(502, 'text/plain', String(e)));
      });
      return;
    }
    if (url.pathname === '/favicon.ico') return send(204, 'image/x-icon', '');
    if (url.pathname === '/') return send(200, 'text/html', fs.readFileSync(hostHtml));
    if (url.pathname === '/host.js') return send(200, 'text/javascript', fs.readFileSync(hostJs));
    if (url.pathname === '/plugin/main.js') return send(200, 'text/javascript', fs.readFileSync(pluginJs));
    return send(404, 'text/plain', 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const browser = await launchChromium();
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    browser,
    unpacked,
    tarball: path.join(tmp, 'plugin.tar.gz'),
    channelPosts,
    apiRequests,
    mm,
    searchRequests,
    async close() {
      await browser.close();
      await mm.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}

export const screenshotDir = path.join(repoRoot, 'test-output', 'plugin');

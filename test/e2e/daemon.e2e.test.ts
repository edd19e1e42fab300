/**
 * The whole path in real Chromium: the real daemon (startDaemon) follows an OpenClaw state
 * dir; a transcript line appended to a file shows in the dashboard; the daemon stops and a new
 * one starts on the same port and store, and the open page reconnects by itself and goes on.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { type Daemon, startDaemon } from '../../src/daemon/daemon.js';
import { silentLogger } from '../../src/infra/logger.js';
import { ensureUiBuilt, launchBrowser, SHOTS } from './browser.js';

const ID = '0b6c2a7e-3f1d-4c55-9e2a-7d1f00c0ffee';
let dir: string;
let file: string;
let browser: Browser;
let page: Page;
let daemon: Daemon | undefined;
let prev: string | null = null;
let n = 0;

function appendAssistant(text: string, tokens = 1200): void {
  const id = `e${++n}`;
  const line = {
    type: 'message',
    id,
    parentId: prev,
    timestamp: new Date().toISOString(),
    message: {
      role: 'assistant',
      content: [{ type: 'text', text }],
      provider: 'anthropic',
      model: 'claude-sonnet',
      usage: {
        input: tokens,
        output: 100,
        cacheRead: 0,
        cacheWrite: 0,
        totalTokens: tokens + 100,
        cost: { total: 0.004 },
      },
      stopReason: 'stop',
      timestamp: Date.now(),
    },
  };
  prev = id;
  fs.appendFileSync(file, `${JSON.stringify(line)}\n`);
}

/** port 'any': a free one (HEALTH_PORT=0 turns HTTP off, as in the original Live Status) */
function config(port: number | 'any') {
  return loadConfig({
    OPENCLAW_STATE_DIR: path.join(dir, 'openclaw'),
    CLAWPULSE_HOME: path.join(dir, 'home'),
    HEALTH_PORT: String(port),
    SOURCES: 'files',
    POLL_INTERVAL_MS: '200',
    LOG_LEVEL: 'silent',
  });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawpulse-e2e-daemon-'));
  const sessions = path.join(dir, 'openclaw', 'agents', 'main', 'sessions');
  fs.mkdirSync(sessions, { recursive: true });
  file = path.join(sessions, `${ID}.jsonl`);
  fs.writeFileSync(
    file,
    `${JSON.stringify({ type: 'session', version: 3, id: ID, timestamp: new Date().toISOString() })}\n`,
  );
  fs.writeFileSync(
    path.join(sessions, 'sessions.json'),
    JSON.stringify({
      'agent:main:main': { sessionId: ID, updatedAt: Date.now(), label: 'e2e daemon session' },
    }),
  );
  const uiDir = ensureUiBuilt();
  fs.mkdirSync(SHOTS, { recursive: true });
  daemon = await startDaemon(config('any'), { logger: silentLogger, uiDir });
  browser = await launchBrowser();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await daemon?.stop('test end');
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('dashboard on the real daemon (Chromium)', () => {
  it('shows a transcript line appended to a followed file, and survives a daemon restart', async () => {
    const port = daemon?.port as number;
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForSelector('[data-testid="conn"]:has-text("live")');
    appendAssistant('first words from the transcript file');
    await page.waitForSelector('[data-testid="feed"] >> text=first words from the transcript file', {
      timeout: 15_000,
    });
    await page.waitForSelector('li[data-key="agent:main:main"]');

    await daemon?.stop('restart');
    daemon = undefined;
    await page.waitForSelector('[data-testid="conn"]:has-text("reconnecting")');
    appendAssistant('written while the daemon was down');
    daemon = await startDaemon(config(port), { logger: silentLogger, uiDir: ensureUiBuilt() });
    expect(daemon.port).toBe(port);
    await page.waitForSelector('[data-testid="conn"]:has-text("live")', { timeout: 20_000 });
    await page.waitForSelector('[data-testid="feed"] >> text=written while the daemon was down', {
      timeout: 15_000,
    });
    appendAssistant('and after the restart');
    await page.waitForSelector('[data-testid="feed"] >> text=and after the restart', { timeout: 15_000 });
    const seqs = await page.$$eval('[data-testid="feed"] li[data-seq]', (els) =>
      els.map((e) => e.getAttribute('data-seq')),
    );
    expect(new Set(seqs).size).toBe(seqs.length);
    await page.screenshot({ path: path.join(SHOTS, 'daemon-after-restart.png') });
  }, 90_000);
});

/**
 * The real daemon (`clawpulse start`, the built CLI, in its own process).
 *
 * `npm run bench -- daemon [sizes]` (default 1000,10000,50000): a state dir of N recent
 * sessions (the recorded transcript, ~20 lines each, all inside RETAIN_FINISHED_S), the daemon
 * started on it, at each size:
 *
 * - catch-up: wall time and lines/s of the daemon's CPU (its start on an empty state dir left out);
 * - RSS once idle: sampled every second after the catch-up until it settled (finished sessions
 *   become briefs once their snapshot is saved, quiet transcripts keep only their offsets, then
 *   V8 gives the memory back): at least 150 s, every session a brief (/health `model`), then 20 s
 *   without a drop past 2 MB, at most 300 s;
 * - `/api/sessions` first page and the SSE snapshot, in bytes;
 * - dashboard first paint in Chromium: navigation start to the first session row in the DOM
 *   (the page's own clock), and how many rows the DOM holds (the list is virtualized).
 *
 * `npm run bench -- daemon follow`: 1,000 transcripts with a backlog of ~190 lines each, the
 * catch-up, RSS and CPU idle, then as many lines again appended live (the follow case).
 *
 * - RSS and CPU are read from /proc/<pid>; the daemon is never asked to collect garbage (no
 *   --expose-gc): what V8 gives back on its own is what is measured.
 * - Caught up: the store's event count (GET /health) stopped growing (checked every second, so
 *   the catch-up times are up to a second long).
 * - The CLI is built first when a source file is newer than dist/ (`npm run build`).
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../test/support/chromium.js';
import { benchSessionId, isSessionHeader, TRANSCRIPT_FIXTURE, withEntryId } from './support.js';

const SESSIONS = 1000;
const TURNS = 10;
/** seconds the daemon is watched after it caught up (V8 gave memory back 15-30 s after) */
const IDLE_SECONDS = 45;
/** the catch-up is given up after this long */
const CATCH_UP_LIMIT_S = 120;

const root = fileURLToPath(new URL('..', import.meta.url));

/** newest mtime under `dir` (files ending in `ext`) */
function newest(dir: string, ext: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith(ext)) t = Math.max(t, statSync(join(e.parentPath, e.name)).mtimeMs);
  }
  return t;
}

function buildIfStale(): void {
  const main = join(root, 'dist/cli/main.js');
  let built = 0;
  try {
    built = statSync(main).mtimeMs;
  } catch {
    // not built
  }
  if (built >= newest(join(root, 'src'), '.ts')) return;
  const r = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error('npm run build failed');
}

/** lines written so far (entry ids are numbered by it) */
let written = 0;

/**
 * TURNS more turns of the recorded transcript (fresh entry ids) appended to each of the 1,000
 * transcripts, the first of them with its header, and their sessions.json; the lines written.
 */
function writeTurns(stateDir: string): number {
  const sessions = join(stateDir, 'agents', 'main', 'sessions');
  mkdirSync(sessions, { recursive: true });
  const template = readFileSync(TRANSCRIPT_FIXTURE, 'utf8').trim().split('\n');
  const index: Record<string, unknown> = {};
  const before = written;
  for (let s = 0; s < SESSIONS; s++) {
    const sessionId = benchSessionId(s);
    const file = join(sessions, `${sessionId}.jsonl`);
    const first = !existsSync(file);
    const lines: string[] = [];
    for (let t = 0; t < TURNS; t++) {
      for (const line of template) {
        if ((t > 0 || !first) && isSessionHeader(line)) continue;
        lines.push(withEntryId(line, written++));
      }
    }
    appendFileSync(file, `${lines.join('\n')}\n`);
    index[`agent:main:bench:${s}`] = { sessionId, updatedAt: Date.now() };
  }
  if (before === 0) writeFileSync(join(sessions, 'sessions.json'), JSON.stringify(index));
  return written - before;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** RSS (MB) and CPU time (ms, user + system) of a process, from /proc */
function usage(pid: number): { rss: number; cpu: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) / 1024;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rss, cpu: (ticks * 1000) / 100 };
}

async function storedEvents(port: number): Promise<number | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    const h = (await res.json()) as { store?: { events?: number } };
    return h.store?.events;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Running {
  pid: number;
  port: number;
  stop(): Promise<void>;
}

/** `clawpulse start` on `dir`/openclaw, its state in `dir`/clawpulse; resolves once /health answers */
async function startDaemon(dir: string, env: Record<string, string> = {}): Promise<Running> {
  const port = await freePort();
  const proc = spawn(process.execPath, [join(root, 'bin/clawpulse.js'), 'start'], {
    env: {
      ...process.env,
      OPENCLAW_STATE_DIR: join(dir, 'openclaw'),
      CLAWPULSE_HOME: join(dir, 'clawpulse'),
      HEALTH_PORT: String(port),
      SOURCES: 'files',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((r) => proc.once('exit', r));
  const running: Running = {
    pid: proc.pid ?? 0,
    port,
    async stop() {
      proc.kill('SIGTERM');
      await exited;
    },
  };
  for (let i = 0; (await storedEvents(port)) === undefined; i++) {
    if (i > CATCH_UP_LIMIT_S * 20) {
      await running.stop();
      throw new Error('the daemon did not start');
    }
    await sleep(50);
  }
  return running;
}

interface CaughtUp {
  /** seconds since `t0` (up to a second late: it is checked every second) */
  wall: number;
  /** the daemon's CPU ms since it started */
  cpu: number;
  rss: number;
  events: number;
}

/** waits until the store's event count stops growing; `peak` gets every RSS read */
async function caughtUp(d: Running, t0: number, peak: { rss: number }): Promise<CaughtUp> {
  let last: number | undefined;
  let same = 0;
  for (;;) {
    const u = usage(d.pid);
    peak.rss = Math.max(peak.rss, u.rss);
    const events = await storedEvents(d.port);
    // unchanged over 3 reads (2 s): one second without a commit happened mid catch-up at 50k
    if (events !== undefined && events > 0 && events === last) {
      if (++same >= 2) return { wall: (performance.now() - t0) / 1000 - 2, cpu: u.cpu, rss: u.rss, events };
    } else same = 0;
    last = events;
    if (performance.now() - t0 > CATCH_UP_LIMIT_S * 1000) throw new Error('the daemon did not catch up');
    await sleep(1000);
  }
}

/** the follow case: 1,000 transcripts with a backlog, then as many lines again live */
async function followBench(): Promise<Record<string, number | string>> {
  const dir = mkdtempSync(join(tmpdir(), 'clawpulse-bench-daemon-'));
  let daemon: Running | undefined;
  try {
    // what starting costs, on an empty state dir
    mkdirSync(join(dir, 'empty', 'openclaw'), { recursive: true });
    daemon = await startDaemon(join(dir, 'empty'));
    const startCpu = usage(daemon.pid).cpu;
    await daemon.stop();

    const lines = writeTurns(join(dir, 'openclaw'));
    const t0 = performance.now();
    daemon = await startDaemon(dir);
    const { pid } = daemon;
    const peak = { rss: 0 };
    const backlog = await caughtUp(daemon, t0, peak);
    const rssBySecond: number[] = [];
    const cpuBySecond: number[] = [];
    let cpuBefore = usage(pid).cpu;
    for (let s = 1; s <= IDLE_SECONDS; s++) {
      await sleep(1000);
      const u = usage(pid);
      peak.rss = Math.max(peak.rss, u.rss);
      rssBySecond.push(Math.round(u.rss));
      cpuBySecond.push(u.cpu - cpuBefore);
      cpuBefore = u.cpu;
    }
    const idleCpu = cpuBySecond.reduce((a, b) => a + b, 0);
    const sorted = [...cpuBySecond].sort((a, b) => a - b);

    // live: as many lines again appended to the followed transcripts (inotify, a warm daemon)
    const cpu0 = usage(pid).cpu;
    const t1 = performance.now();
    const liveLines = writeTurns(join(dir, 'openclaw'));
    const live = await caughtUp(daemon, t1, peak);
    return {
      transcripts: SESSIONS,
      lines,
      'events stored': backlog.events,
      'start on an empty state dir: CPU s': startCpu / 1000,
      'catch-up wall s (start included)': backlog.wall,
      'catch-up CPU s (start included)': backlog.cpu / 1000,
      'catch-up lines/s (CPU, start excluded)': lines / ((backlog.cpu - startCpu) / 1000),
      'RSS MB when caught up': backlog.rss,
      [`RSS MB after ${IDLE_SECONDS} s idle`]: rssBySecond[rssBySecond.length - 1] ?? Number.NaN,
      'RSS MB each idle second': rssBySecond.join(' '),
      // the mean holds V8's one-off clean-up after the burst and the file source's safety scans
      // (every 15 s); the median is a plain idle second
      [`idle CPU ms per s, mean over ${IDLE_SECONDS} s`]: idleCpu / IDLE_SECONDS,
      'idle CPU ms per s, median second': sorted[Math.floor(sorted.length / 2)] ?? Number.NaN,
      'live: lines appended to the followed transcripts': liveLines,
      'live: events stored in all': live.events,
      'live: wall s until stored (writing included)': live.wall,
      'live: lines/s (CPU)': liveLines / ((live.cpu - cpu0) / 1000),
      'live: RSS MB when caught up': live.rss,
      'RSS MB peak': peak.rss,
    };
  } finally {
    await daemon?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- the window: N recent sessions ---------------------------------------------------------

const DEFAULT_SIZES = [1000, 10_000, 50_000];
/**
 * Idle is measured once every session is a brief (30 s quiet and saved, within 5-60 s), every
 * transcript rests (60 s without new bytes) and the dedupe sets went back (60 s unused): at
 * least this long after the catch-up
 */
const SETTLE_MIN_S = 150;
const SETTLE_QUIET_S = 20;
const SETTLE_MAX_S = 300;

/** the recorded transcript's times (ISO and epoch ms) moved by `deltaMs` */
function shiftTimes(line: string, deltaMs: number): string {
  return line
    .replace(
      /"timestamp":"([^"]+)"/g,
      (_m, iso: string) => `"timestamp":"${new Date(Date.parse(iso) + deltaMs).toISOString()}"`,
    )
    .replace(/"timestamp":(\d{13})/g, (_m, ms: string) => `"timestamp":${Number(ms) + deltaMs}`);
}

/**
 * N transcripts of one recorded turn each, their sessions ending between 5 and 65 minutes ago
 * (newest first), and their sessions.json; the lines written
 */
export function writeWindow(stateDir: string, n: number): number {
  const sessions = join(stateDir, 'agents', 'main', 'sessions');
  mkdirSync(sessions, { recursive: true });
  const template = readFileSync(TRANSCRIPT_FIXTURE, 'utf8').trim().split('\n');
  const start = Date.parse(/"timestamp":"([^"]+)"/.exec(template[0] ?? '')?.[1] ?? '');
  const index: Record<string, unknown> = {};
  const now = Date.now();
  let lines = 0;
  for (let s = 0; s < n; s++) {
    const sessionId = benchSessionId(s);
    const begin = now - 5 * 60_000 - 60_000 - Math.floor((s / n) * 3_600_000);
    const delta = begin - start;
    const out = template.map((line) => shiftTimes(withEntryId(line, written++), delta));
    writeFileSync(join(sessions, `${sessionId}.jsonl`), `${out.join('\n')}\n`);
    lines += out.length;
    index[`agent:main:bench:${s}`] = { sessionId, updatedAt: begin + 60_000 };
  }
  writeFileSync(join(sessions, 'sessions.json'), JSON.stringify(index));
  return lines;
}

/** RSS sampled every second until it settled; the last figure and how long it took */
async function settle(
  pid: number,
  port: number,
): Promise<{ rss: number; seconds: number; series: number[] }> {
  const series: number[] = [];
  let lastDropAt = 0;
  for (let s = 1; s <= SETTLE_MAX_S; s++) {
    await sleep(1000);
    const rss = usage(pid).rss;
    const low = Math.min(...series.slice(-SETTLE_QUIET_S));
    if (series.length && rss < low - 2) lastDropAt = s;
    series.push(Math.round(rss));
    if (s < SETTLE_MIN_S || s - lastDropAt < SETTLE_QUIET_S) continue;
    // not idle while sessions are still held whole
    if ((await modelOf(port))?.whole === 0) return { rss, seconds: s, series };
  }
  return { rss: series[series.length - 1] ?? Number.NaN, seconds: SETTLE_MAX_S, series };
}

/** /health's model row: sessions held whole and as briefs, heap used */
async function modelOf(
  port: number,
): Promise<{ whole: number; briefs: number; heapUsedMb: number } | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    return ((await res.json()) as { model?: { whole: number; briefs: number; heapUsedMb: number } }).model;
  } catch {
    return undefined;
  }
}

/** bytes of the SSE stream's first message (the snapshot) */
async function snapshotBytes(port: number): Promise<number> {
  const ac = new AbortController();
  const res = await fetch(`http://127.0.0.1:${port}/api/stream`, { signal: ac.signal });
  const reader = res.body?.getReader();
  let text = '';
  let bytes = 0;
  try {
    for (;;) {
      const r = await reader?.read();
      if (!r || r.done) break;
      bytes += r.value.byteLength;
      text += new TextDecoder().decode(r.value);
      const at = text.indexOf('event: snapshot');
      if (at >= 0 && text.indexOf('\n\n', at) >= 0) break;
    }
  } finally {
    ac.abort();
  }
  return bytes;
}

/** navigation start to the first session row in the DOM (the page's clock), and the rows it holds */
async function firstPaint(browser: Browser, port: number): Promise<{ ms: number; rows: number }> {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  try {
    const page = await ctx.newPage();
    await page.goto(`http://127.0.0.1:${port}/`, { waitUntil: 'commit' });
    const ms = await (
      await page.waitForFunction(
        () => (document.querySelector('li[data-key]') ? performance.now() : 0),
        null,
        {
          polling: 'raf',
          timeout: 60_000,
        },
      )
    ).jsonValue();
    const rows = await page.evaluate(() => document.querySelectorAll('li[data-key]').length);
    return { ms: Number(ms), rows };
  } finally {
    await ctx.close();
  }
}

async function windowAt(
  n: number,
  startCpu: number,
  browser: Browser,
): Promise<Record<string, number | string>> {
  const dir = mkdtempSync(join(tmpdir(), `clawpulse-bench-window-${n}-`));
  let daemon: Running | undefined;
  try {
    const lines = writeWindow(join(dir, 'openclaw'), n);
    const t0 = performance.now();
    daemon = await startDaemon(dir);
    const peak = { rss: 0 };
    const backlog = await caughtUp(daemon, t0, peak);
    const idle = await settle(daemon.pid, daemon.port);
    const model = await modelOf(daemon.port);
    const api = await fetch(`http://127.0.0.1:${daemon.port}/api/sessions`);
    const apiBytes = (await api.arrayBuffer()).byteLength;
    const sse = await snapshotBytes(daemon.port);
    const paint = await firstPaint(browser, daemon.port);
    const k = `${n / 1000}k`;
    return {
      [`${k}: lines`]: lines,
      [`${k}: catch-up wall s (start included)`]: backlog.wall,
      [`${k}: catch-up lines/s (CPU, start excluded)`]: Math.round(lines / ((backlog.cpu - startCpu) / 1000)),
      [`${k}: RSS MB when caught up`]: Math.round(backlog.rss),
      [`${k}: RSS MB idle (settled after s)`]: `${Math.round(idle.rss)} (${idle.seconds} s)`,
      [`${k}: RSS MB peak`]: Math.round(Math.max(peak.rss, ...idle.series)),
      [`${k}: sessions whole / as briefs, heap used MB (idle)`]: model
        ? `${model.whole} / ${model.briefs}, ${model.heapUsedMb}`
        : 'no answer',
      [`${k}: /api/sessions first page bytes`]: apiBytes,
      [`${k}: SSE snapshot bytes`]: sse,
      [`${k}: dashboard first paint ms`]: Math.round(paint.ms),
      [`${k}: session rows in the DOM`]: paint.rows,
    };
  } finally {
    await daemon?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<Record<string, number | string>> {
  buildIfStale();
  const arg = process.argv[4];
  if (arg === 'follow') return followBench();
  const sizes = arg ? arg.split(',').map((x) => Number(x.replace(/k$/, '000'))) : DEFAULT_SIZES;
  if (sizes.some((x) => !Number.isInteger(x) || x < 1))
    throw new Error(`sizes: a comma list of counts, not ${arg}`);
  // what starting costs, on an empty state dir
  const empty = mkdtempSync(join(tmpdir(), 'clawpulse-bench-empty-'));
  mkdirSync(join(empty, 'openclaw'), { recursive: true });
  let startCpu: number;
  try {
    const d = await startDaemon(empty);
    startCpu = usage(d.pid).cpu;
    await d.stop();
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
  const browser = await launchChromium();
  const out: Record<string, number | string> = { 'start on an empty state dir: CPU s': startCpu / 1000 };
  try {
    for (const n of sizes) Object.assign(out, await windowAt(n, startCpu, browser));
  } finally {
    await browser.close();
  }
  return out;
}

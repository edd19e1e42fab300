/**
 * The real daemon (`clawpulse start`, the built CLI, in its own process) on a state dir of 1,000
 * transcripts with a backlog of ~190 lines each: how long it takes to catch up, its RSS then and
 * once idle, and what it costs idle. This is the "RSS with 1,000 active sessions" a user sees;
 * the ingest bench measures the pipeline alone, inside the bench's process.
 *
 * - RSS and CPU are read from /proc/<pid> every second; the daemon is never asked to collect
 *   garbage (no --expose-gc): what V8 gives back on its own is what is measured.
 * - Caught up: the store's event count (GET /health) stopped growing (checked every second, so
 *   the catch-up times are up to a second long). Starting costs CPU of its own (loading the
 *   modules, opening the store): it is measured on an empty state dir and printed apart.
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
async function startDaemon(dir: string): Promise<Running> {
  const port = await freePort();
  const proc = spawn(process.execPath, [join(root, 'bin/clawpulse.js'), 'start'], {
    env: {
      ...process.env,
      OPENCLAW_STATE_DIR: join(dir, 'openclaw'),
      CLAWPULSE_HOME: join(dir, 'clawpulse'),
      HEALTH_PORT: String(port),
      SOURCES: 'files',
      LOG_LEVEL: 'warn',
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
  for (;;) {
    const u = usage(d.pid);
    peak.rss = Math.max(peak.rss, u.rss);
    const events = await storedEvents(d.port);
    if (events !== undefined && events > 0 && events === last)
      return { wall: (performance.now() - t0) / 1000 - 1, cpu: u.cpu, rss: u.rss, events };
    last = events;
    if (performance.now() - t0 > CATCH_UP_LIMIT_S * 1000) throw new Error('the daemon did not catch up');
    await sleep(1000);
  }
}

export async function run(): Promise<Record<string, number | string>> {
  buildIfStale();
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

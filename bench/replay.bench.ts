/**
 * `clawpulse replay --json` on a generated state dir of 1,008,000 transcript lines (1,000
 * transcripts of 53 turns of the recorded one, fresh entry ids, as the daemon bench makes
 * them), as a process: its lines/s and peak RSS, and the same lines read and JSON.parse'd by a
 * bare script in the same run (what reading alone costs; the ratio is the figure to watch on a
 * shared machine).
 *
 * - The CLI is bundled once with esbuild into .cache/ (its packages stay external), so neither
 *   tsx nor a stale dist/ is measured.
 * - Peak RSS is the kernel's high-water mark (VmHWM in /proc/<pid>/status), read every 5 ms
 *   while the process runs; CPU time is what the process reports at exit.
 * - `npm run bench -- replay`
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { benchSessionId, isSessionHeader, TRANSCRIPT_FIXTURE, withEntryId } from './support.js';

const SESSIONS = 1000;
/** 1 + 53 × 19 lines per transcript: 1,008,000 lines in all */
const TURNS = 53;
const root = fileURLToPath(new URL('..', import.meta.url));
const cache = join(root, '.cache', 'bench-replay');

/** the state dir: 1,000 transcripts and their sessions.json; the lines written */
function writeStateDir(stateDir: string): number {
  const sessions = join(stateDir, 'agents', 'main', 'sessions');
  mkdirSync(sessions, { recursive: true });
  const template = readFileSync(TRANSCRIPT_FIXTURE, 'utf8').trim().split('\n');
  const index: Record<string, unknown> = {};
  let written = 0;
  for (let s = 0; s < SESSIONS; s++) {
    const sessionId = benchSessionId(s);
    const lines: string[] = [];
    for (let t = 0; t < TURNS; t++) {
      for (const line of template) {
        if (t > 0 && isSessionHeader(line)) continue;
        lines.push(withEntryId(line, written++));
      }
    }
    writeFileSync(join(sessions, `${sessionId}.jsonl`), `${lines.join('\n')}\n`);
    index[`agent:main:bench:${s}`] = { sessionId, updatedAt: Date.now() };
  }
  writeFileSync(join(sessions, 'sessions.json'), JSON.stringify(index));
  return written;
}

/** reads every transcript and JSON.parses each line: the floor any replay stands on */
const BARE = `
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
const dir = process.argv[2];
let n = 0;
for (const f of readdirSync(dir).sort()) {
  if (!f.endsWith('.jsonl')) continue;
  for (const line of readFileSync(join(dir, f), 'utf8').split('\\n')) if (line) { JSON.parse(line); n++; }
}
process.stdout.write(String(n));
`;

/** prints the process's own CPU time at exit (stderr, last line) */
const AT_EXIT = `
process.on('exit', () => {
  const u = process.cpuUsage();
  process.stderr.write('\\nbench-cpu-ms ' + (u.user + u.system) / 1000 + '\\n');
});
`;

interface Measured {
  wallS: number;
  cpuS: number;
  peakMb: number;
  stdoutBytes: number;
  stdout: string;
}

function hwm(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

function measure(args: string[], keepStdout: boolean): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn(process.execPath, ['--import', join(cache, 'at-exit.mjs'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let peak = 0;
    const timer = setInterval(() => {
      peak = Math.max(peak, hwm(p.pid ?? 0));
    }, 5);
    const out: Buffer[] = [];
    let bytes = 0;
    let err = '';
    p.stdout.on('data', (b: Buffer) => {
      bytes += b.length;
      if (keepStdout) out.push(b);
    });
    p.stderr.on('data', (b: Buffer) => {
      err += b.toString();
      peak = Math.max(peak, hwm(p.pid ?? 0));
    });
    p.once('error', reject);
    p.once('close', (code) => {
      clearInterval(timer);
      const wallS = (performance.now() - t0) / 1000;
      const cpu = /bench-cpu-ms (\S+)/.exec(err);
      if (code !== 0 || !cpu) {
        reject(new Error(`${args.join(' ')} exited ${code}: ${err.slice(-500)}`));
        return;
      }
      resolve({
        wallS,
        cpuS: Number(cpu[1]) / 1000,
        peakMb: peak,
        stdoutBytes: bytes,
        stdout: Buffer.concat(out).toString(),
      });
    });
  });
}

export async function run(): Promise<Record<string, number | string>> {
  mkdirSync(cache, { recursive: true });
  await build({
    entryPoints: [join(root, 'src/cli/main.ts')],
    outfile: join(cache, 'main.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'error',
  });
  writeFileSync(join(cache, 'bare.mjs'), BARE);
  writeFileSync(join(cache, 'at-exit.mjs'), AT_EXIT);
  const dir = mkdtempSync(join(tmpdir(), 'clawpulse-bench-replay-'));
  try {
    const lines = writeStateDir(join(dir, 'openclaw'));
    const sessionsDir = join(dir, 'openclaw', 'agents', 'main', 'sessions');
    // one warm-up of each (page cache, V8 code cache), then the measured runs alternated
    await measure([join(cache, 'bare.mjs'), sessionsDir], false);
    const replays: Measured[] = [];
    const bares: Measured[] = [];
    for (let i = 0; i < 3; i++) {
      replays.push(
        await measure([join(cache, 'main.mjs'), 'replay', '--json', join(dir, 'openclaw')], i === 0),
      );
      bares.push(await measure([join(cache, 'bare.mjs'), sessionsDir], true));
    }
    const first = replays[0] as Measured;
    const sessions = (JSON.parse(first.stdout) as { sessions: unknown[] }).sessions.length;
    // every transcript also spawns the recorded sub-agent (one key, so one more session)
    if (sessions < SESSIONS) throw new Error(`replay printed ${sessions} sessions, not ${SESSIONS}`);
    if (Number((bares[0] as Measured).stdout) !== lines)
      throw new Error(`the bare read parsed ${(bares[0] as Measured).stdout} lines, not ${lines}`);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    const replayWall = median(replays.map((m) => m.wallS));
    const replayCpu = median(replays.map((m) => m.cpuS));
    const bareWall = median(bares.map((m) => m.wallS));
    const bareCpu = median(bares.map((m) => m.cpuS));
    return {
      transcripts: SESSIONS,
      lines,
      'replay --json: lines/s (wall, median of 3)': lines / replayWall,
      'replay --json: lines/s (CPU)': lines / replayCpu,
      'replay --json: peak RSS MB (max of 3)': Math.max(...replays.map((m) => m.peakMb)),
      'replay --json: output MB': first.stdoutBytes / 1024 / 1024,
      'bare read + JSON.parse: lines/s (wall)': lines / bareWall,
      'bare read + JSON.parse: lines/s (CPU)': lines / bareCpu,
      'bare read + JSON.parse: peak RSS MB': Math.max(...bares.map((m) => m.peakMb)),
      'replay wall time / bare wall time': replayWall / bareWall,
      'replay CPU time / bare CPU time': replayCpu / bareCpu,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

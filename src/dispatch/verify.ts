/**
 * `--verify-cmd`: a shell command run after a label's run completes (tests, a deploy check).
 * Its exit code and last output lines go into the ledger and `dispatch status`. Bounded: a
 * timeout ends it (SIGTERM, then SIGKILL), and only the tail of its output is kept.
 */
import { spawn } from 'node:child_process';
import type { VerifyRecord } from '../store/dispatch-ledger.js';

export const VERIFY_TIMEOUT_MS = 10 * 60_000;
const TAIL_LINES = 20;
const MAX_KEPT_BYTES = 64 * 1024;

export function runVerify(
  command: string,
  opts: { timeoutMs?: number; cwd?: string; env?: NodeJS.ProcessEnv; now?: () => number } = {},
): Promise<VerifyRecord> {
  const now = opts.now ?? Date.now;
  const t0 = now();
  return new Promise((resolve) => {
    let out = '';
    let timedOut = false;
    const child = spawn('sh', ['-c', command], {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (b: Buffer) => {
      out += b.toString('utf8');
      if (out.length > MAX_KEPT_BYTES) out = out.slice(-MAX_KEPT_BYTES);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 2000).unref();
    }, opts.timeoutMs ?? VERIFY_TIMEOUT_MS);
    const finish = (exitCode: number | null, spawnError?: string) => {
      clearTimeout(timer);
      const tail = out.split('\n').filter((l) => l.trim() !== '');
      if (spawnError) tail.push(spawnError);
      resolve({
        command,
        state: exitCode === 0 && !timedOut ? 'passed' : 'failed',
        exitCode,
        timedOut,
        tail: tail.slice(-TAIL_LINES),
        at: new Date(now()).toISOString(),
        durationMs: now() - t0,
      });
    };
    child.on('error', (err) => finish(null, `cannot run: ${err.message}`));
    child.on('close', (code) => finish(code));
  });
}

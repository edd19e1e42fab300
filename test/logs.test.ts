/**
 * `start --fork` logs to <home>/clawpulse.log; `clawpulse logs` shows it readably, --json as it
 * is, -f follows it (also across a rotation, which truncates the file in place).
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, truncateSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../src/test-support/temp-dir.js';
import { makeStateDir } from './support/state-dir.js';

const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;

function cli(args: string[], env: NodeJS.ProcessEnv) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const line = (msg: string, extra: Record<string, unknown> = {}) =>
  `${JSON.stringify({ level: 40, time: Date.now(), pid: 1, hostname: 'h', app: 'clawpulse', msg, ...extra })}\n`;

describe('clawpulse logs', () => {
  it('start --fork writes the log file; logs prints it readably or as JSON, and follows it', async () => {
    const { root, stateDir } = makeStateDir();
    const home = join(tempDir('clawpulse-logs-'), 'cp');
    const env = {
      HOME: root,
      OPENCLAW_STATE_DIR: stateDir,
      CLAWPULSE_HOME: home,
      SOURCES: 'files',
      LOG_LEVEL: 'info',
      HEALTH_PORT: String(await freePort()),
    };
    const file = join(home, 'clawpulse.log');
    const started = cli(['start', '--fork'], env);
    expect(started.out).toContain(`logs: ${file}`);
    try {
      expect(existsSync(file)).toBe(true);
      // the daemon's own lines, as JSON in the file
      await expect.poll(() => readFileSync(file, 'utf8'), { timeout: 15_000 }).toMatch(/"msg":/);
      const json = cli(['logs', '--json', '-n', '5'], env);
      expect(json.code).toBe(0);
      const rows = json.out.trim().split('\n');
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.length).toBeLessThanOrEqual(5);
      for (const r of rows) expect(JSON.parse(r)).toMatchObject({ app: 'clawpulse' });
      appendFileSync(
        file,
        line('Mattermost token rejected', {
          status: 401,
          err: { message: 'boom', stack: 'Error: boom\n    at x' },
        }),
      );
      const text = cli(['logs', '-n', '1'], env);
      expect(text.out).toMatch(
        /^\d\d:\d\d:\d\d WARN {2}Mattermost token rejected {2}status=401 err=boom\nError: boom\n {4}at x\n$/,
      );
    } finally {
      cli(['stop'], env);
    }

    // -f: new lines, and after a rotation (truncated in place) the lines written since
    appendFileSync(file, line('before the follower'));
    const follower = spawn(process.execPath, ['--import', 'tsx', MAIN, 'logs', '-f', '-n', '1'], {
      env: { ...process.env, ...env },
    });
    let seen = '';
    follower.stdout.on('data', (d) => {
      seen += String(d);
    });
    try {
      // the last line first: then it follows
      await expect.poll(() => seen, { timeout: 30_000 }).toContain('before the follower');
      appendFileSync(file, line('first followed line'));
      await expect.poll(() => seen, { timeout: 15_000 }).toContain('first followed line');
      truncateSync(file, 0);
      await new Promise((r) => setTimeout(r, 500));
      appendFileSync(file, line('after the rotation'));
      await expect.poll(() => seen, { timeout: 15_000 }).toContain('after the rotation');
      expect(seen).not.toContain('"msg"');
    } finally {
      follower.kill('SIGINT');
    }
  }, 120_000);

  it('says where the log would be when there is none', () => {
    const r = cli(['logs'], { CLAWPULSE_HOME: join(tempDir('clawpulse-logs-'), 'none') });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no log file at .*clawpulse\.log.*start --fork/);
  });
});

import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test-support/temp-dir.js';
import { AlreadyRunningError, claimPidFile, isAlive, readLivePid } from './pidfile.js';

const dir = tempDir('clawpulse-pid-');

describe('pid file', () => {
  it('claims, reports the live pid and releases', () => {
    const f = join(dir, 'a', 'p.pid');
    const release = claimPidFile(f);
    expect(readFileSync(f, 'utf8').trim()).toBe(String(process.pid));
    expect(readLivePid(f)).toBe(process.pid);
    release();
    expect(existsSync(f)).toBe(false);
  });

  it('refuses when another live process holds it', async () => {
    const f = join(dir, 'b.pid');
    const child = spawn(process.execPath, ['-e', 'setTimeout(()=>{}, 20000)'], { stdio: 'ignore' });
    try {
      writeFileSync(f, `${child.pid}\n`);
      expect(() => claimPidFile(f)).toThrow(AlreadyRunningError);
      expect(() => claimPidFile(f)).toThrow(/already running \(pid \d+/);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('takes over a stale file whose process is gone', () => {
    const f = join(dir, 'c.pid');
    writeFileSync(f, '999999999\n');
    expect(readLivePid(f)).toBeUndefined();
    const release = claimPidFile(f);
    expect(readLivePid(f)).toBe(process.pid);
    release();
  });

  it('treats garbage in the file as stale', () => {
    const f = join(dir, 'd.pid');
    writeFileSync(f, 'not a pid');
    expect(readLivePid(f)).toBeUndefined();
    claimPidFile(f)();
  });

  it('a process that exited but was not reaped yet (a zombie) is not running', async () => {
    // sh starts a short sleep, then becomes a long one that never reaps it
    const parent = spawn('sh', ['-c', 'sleep 0.1 & echo $!; exec sleep 5'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    try {
      const pid = await new Promise<number>((r) =>
        parent.stdout.once('data', (b: Buffer) => r(Number(String(b).trim()))),
      );
      expect(isAlive(pid)).toBe(true);
      await new Promise((r) => setTimeout(r, 500));
      expect(existsSync(`/proc/${pid}`)).toBe(true); // still listed, as a zombie
      expect(isAlive(pid)).toBe(false);
    } finally {
      parent.kill('SIGKILL');
    }
  });
});

/**
 * PID file: one daemon per PID_FILE. A stale file (its process is gone) is taken over;
 * a live one makes the second instance refuse to start.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export class AlreadyRunningError extends Error {
  constructor(
    public readonly pid: number,
    public readonly pidFile: string,
  ) {
    super(`clawpulse is already running (pid ${pid}, pid file ${pidFile}); stop it with \`clawpulse stop\``);
    this.name = 'AlreadyRunningError';
  }
}

export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/** a process that exited but was not reaped yet (Linux): it answers signal 0, yet it is gone */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

/** The pid in the file when that process is alive, else undefined. */
export function readLivePid(pidFile: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(pidFile, 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number.parseInt(text.trim(), 10);
  return isAlive(pid) ? pid : undefined;
}

/** Claims the pid file for `pid`; throws AlreadyRunningError when another live process holds it. */
export function claimPidFile(pidFile: string, pid = process.pid): () => void {
  const holder = readLivePid(pidFile);
  if (holder !== undefined && holder !== pid) throw new AlreadyRunningError(holder, pidFile);
  mkdirSync(dirname(pidFile), { recursive: true });
  // 'wx' after removing a stale file closes the race of two starts at once: only one create wins
  rmSync(pidFile, { force: true });
  try {
    writeFileSync(pidFile, `${pid}\n`, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      const other = readLivePid(pidFile);
      throw new AlreadyRunningError(other ?? -1, pidFile);
    }
    throw err;
  }
  return () => {
    if (readLivePid(pidFile) === pid || readLivePid(pidFile) === undefined) rmSync(pidFile, { force: true });
  };
}

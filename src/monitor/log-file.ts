/**
 * The uploader's log files, in the original's format so tools and habits built on them keep
 * working: `status_uploader.log` gets every line, `status_uploader_error.log` the errors too,
 * each line `YYYY-MM-DD HH:MM:SS - LEVEL - message` in local time (Python logging's asctime
 * without the milliseconds). A file above the size limit (10 MB) is renamed to
 * `<name>.YYYYMMDD_HHMMSS.log` before the next line, and only the last `keep` of those stay.
 *
 * Writing a log line never throws: a full disk must not stop uploads.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_MAX_LOG_BYTES } from './paths.js';

export type LogLevel = 'INFO' | 'WARNING' | 'ERROR';

export interface UploaderLogOptions {
  log: string;
  errorLog: string;
  /** rotate a file above this size (default 10 MB) */
  maxBytes?: number;
  /** rotated files kept per log (default 5) */
  keep?: number;
  /** wall-clock ms (the injected clock) */
  now?: () => number;
  /** also hand each formatted line here (the CLI prints them on stderr, as the original did) */
  echo?: (line: string) => void;
}

export interface UploaderLog {
  readonly file: string;
  readonly errorFile: string;
  info(message: string): void;
  warn(message: string): void;
  /** `message` goes to the log, `errorLine` (default the same) to the error log */
  error(message: string, errorLine?: string): void;
}

export function createUploaderLog(o: UploaderLogOptions): UploaderLog {
  const now = o.now ?? Date.now;
  const maxBytes = o.maxBytes ?? DEFAULT_MAX_LOG_BYTES;
  const keep = o.keep ?? 5;

  const write = (file: string, line: string) => {
    try {
      rotateIfNeeded(file, maxBytes, keep, now());
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.appendFileSync(file, `${line}\n`);
    } catch {
      // a log we cannot write is not a reason to stop uploading
    }
  };
  const line = (level: LogLevel, message: string) => `${formatLocalTime(now())} - ${level} - ${message}`;

  return {
    file: o.log,
    errorFile: o.errorLog,
    info(message) {
      const l = line('INFO', message);
      write(o.log, l);
      o.echo?.(l);
    },
    warn(message) {
      const l = line('WARNING', message);
      write(o.log, l);
      o.echo?.(l);
    },
    error(message, errorLine) {
      const l = line('ERROR', message);
      write(o.log, l);
      write(o.errorLog, errorLine === undefined ? l : line('ERROR', errorLine));
      o.echo?.(l);
    },
  };
}

/** `2026-03-29 10:30:01` in local time */
export function formatLocalTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** `20260329_183500` in local time */
function stamp(ms: number): string {
  return formatLocalTime(ms).replace(/-/g, '').replace(' ', '_').replace(/:/g, '');
}

/**
 * Renames `file` to `<stem>.<stamp>.log` when it is larger than maxBytes, then removes the
 * oldest rotated files beyond `keep`. Returns the new name, or undefined when nothing rotated.
 */
export function rotateIfNeeded(
  file: string,
  maxBytes: number,
  keep: number,
  now: number,
): string | undefined {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    return undefined;
  }
  if (size <= maxBytes) return undefined;
  const dir = path.dirname(file);
  const stem = path.basename(file).replace(/\.log$/, '');
  let target = path.join(dir, `${stem}.${stamp(now)}.log`);
  for (let n = 1; fs.existsSync(target); n++) target = path.join(dir, `${stem}.${stamp(now)}_${n}.log`);
  try {
    fs.renameSync(file, target);
  } catch {
    return undefined; // another process rotated it first
  }
  pruneRotated(dir, stem, keep);
  return target;
}

/** rotated files of `stem`, oldest first */
export function rotatedFiles(dir: string, stem: string): string[] {
  const re = new RegExp(
    `^${stem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d{8}_\\d{6})(?:_(\\d+))?\\.log$`,
  );
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((n) => ({ n, m: re.exec(n) }))
    .filter((x): x is { n: string; m: RegExpExecArray } => x.m !== null)
    .sort((a, b) => {
      const s = (a.m[1] as string).localeCompare(b.m[1] as string);
      return s || Number(a.m[2] ?? 0) - Number(b.m[2] ?? 0);
    })
    .map((x) => path.join(dir, x.n));
}

function pruneRotated(dir: string, stem: string, keep: number): void {
  const files = rotatedFiles(dir, stem);
  for (const f of files.slice(0, Math.max(0, files.length - keep))) fs.rmSync(f, { force: true });
}

/** the last `n` non-empty lines of a file ([] when it does not exist); reads at most the last 64 KiB */
export function lastLines(file: string, n: number): string[] {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return [];
  }
  try {
    const size = fs.fstatSync(fd).size;
    const len = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(len);
    fs.readSync(fd, buf, 0, len, size - len);
    const lines = buf.toString('utf8').split('\n');
    if (len < size) lines.shift(); // a partial first line
    return lines.filter((l) => l.trim()).slice(-n);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A log file that rotates itself: a pino destination that appends each line to `file`, and
 * once the file would pass `maxBytes` (10 MiB) copies it to `file.1` (shifting `.1`…`.4` to
 * `.2`…`.5`, dropping the oldest) and truncates it in place.
 *
 * Copy-and-truncate rather than rename: `clawpulse start --fork` also points the daemon's
 * stdout/stderr at this file (so a crash trace or a runtime warning lands next to the logs),
 * and those descriptors are append-mode: after the truncate every writer continues at the new
 * end of the same file. A rename would leave them writing into `file.1` forever.
 */
import fs from 'node:fs';

export const LOG_MAX_BYTES = 10 * 1024 * 1024;
export const LOG_KEEP = 5;

export interface RotatingLogOptions {
  /** rotate once the file would pass this size (default 10 MiB) */
  maxBytes?: number;
  /** rotated files kept: file.1 … file.keep (default 5) */
  keep?: number;
}

export interface RotatingLog {
  readonly file: string;
  /** appends (pino calls this once per line) */
  write(line: string): boolean;
  /** writes are synchronous; here for pino's logger.flush() */
  flush(): void;
  close(): void;
  /** times the file was rotated since open */
  rotations(): number;
}

export function openRotatingLog(file: string, o: RotatingLogOptions = {}): RotatingLog {
  const maxBytes = o.maxBytes ?? LOG_MAX_BYTES;
  const keep = Math.max(1, o.keep ?? LOG_KEEP);
  let fd = fs.openSync(file, 'a', 0o640);
  let size = fs.fstatSync(fd).size;
  let writes = 0;
  let rotated = 0;
  /** after a failed rotation, the size to reach before trying again (not on every line) */
  let retryAt = 0;

  function rotate(): void {
    for (let i = keep - 1; i >= 1; i--) {
      try {
        fs.renameSync(`${file}.${i}`, `${file}.${i + 1}`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    fs.copyFileSync(file, `${file}.1`);
    fs.ftruncateSync(fd, 0);
    size = 0;
    rotated++;
  }

  return {
    file,
    write(line: string): boolean {
      const bytes = Buffer.byteLength(line);
      // other writers (stderr) share the file: look at its real size now and then
      if (++writes % 100 === 0 || size + bytes > maxBytes) size = fs.fstatSync(fd).size;
      if (size > 0 && size + bytes > maxBytes && size >= retryAt) {
        try {
          rotate();
          retryAt = 0;
        } catch (err) {
          // a failed rotation must not lose the line or stop the daemon: keep appending
          retryAt = size + Math.ceil(maxBytes / 10);
          process.stderr.write(`clawpulse: log rotation of ${file} failed: ${(err as Error).message}\n`);
        }
      }
      fs.writeSync(fd, line);
      size += bytes;
      return true;
    },
    flush() {},
    close() {
      if (fd < 0) return;
      fs.closeSync(fd);
      fd = -1;
    },
    rotations: () => rotated,
  };
}

/** the log file and its rotated copies that exist, newest first */
export function logFiles(file: string, keep = LOG_KEEP): string[] {
  const all = [file];
  for (let i = 1; i <= keep; i++) all.push(`${file}.${i}`);
  return all.filter((f) => fs.existsSync(f));
}

/**
 * `clawpulse logs [-f] [--json] [-n N]`: the daemon's log file (`<home>/clawpulse.log`, written
 * by `clawpulse start --fork`), its last N lines as the human lines a terminal shows
 * (src/infra/log-format.ts: time, level, message, the fields that matter, error stacks), or its
 * JSON lines as they are (--json). -f keeps following it, also across a rotation (the file is
 * truncated in place).
 */
import fs from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { Config } from '../config/config.js';
import { formatLogLine } from '../infra/log-format.js';

export interface LogsOptions {
  follow?: boolean;
  json?: boolean;
  lines?: number;
  file?: string;
  /** colours (default: stdout is a TTY and NO_COLOR is unset) */
  color?: boolean;
}

export function logFilePath(config: Readonly<Config>): string {
  return join(config.home, 'clawpulse.log');
}

/** the last `n` lines of a file, reading at most the last 4 MiB */
function tailLines(file: string, n: number): { lines: string[]; end: number } {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const len = Math.min(size, 4 * 1024 * 1024);
    const buf = Buffer.alloc(len);
    fs.readSync(fd, buf, 0, len, size - len);
    let lines = buf.toString('utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    if (len < size) lines = lines.slice(1); // the first one is probably cut
    return { lines: n > 0 ? lines.slice(-n) : [], end: size };
  } finally {
    fs.closeSync(fd);
  }
}

export async function showLogs(config: Readonly<Config>, o: LogsOptions): Promise<number> {
  // `clawpulse logs | head`: the reader left, so are we (not an EPIPE crash)
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const file = o.file ?? logFilePath(config);
  const color = o.color ?? (Boolean(process.stdout.isTTY) && !process.env.NO_COLOR);
  // --json: the JSON lines only (the file also holds what the daemon printed itself, such as
  // its dashboard line, and a runtime's crash trace: those show in the readable view)
  const out = (line: string) => {
    if (o.json) {
      if (line.startsWith('{')) process.stdout.write(`${line}\n`);
    } else process.stdout.write(`${formatLogLine(line, { color, stacks: true })}\n`);
  };
  if (!fs.existsSync(file)) {
    process.stderr.write(
      `clawpulse: no log file at ${file}. \`clawpulse start --fork\` writes it; a daemon in the foreground logs to stderr, under systemd to the journal (journalctl -u clawpulse, or --user-unit clawpulse).\n`,
    );
    if (!o.follow) return 1;
  }
  let pos = 0;
  if (fs.existsSync(file)) {
    const { lines, end } = tailLines(file, o.lines ?? 100);
    for (const l of lines) out(l);
    pos = end;
  }
  if (!o.follow) return 0;
  await followFile(file, pos, out);
  return 0;
}

/** prints lines appended after `pos` until SIGINT/SIGTERM; a shrunk file (rotated) is read from 0 */
async function followFile(file: string, start: number, out: (line: string) => void): Promise<void> {
  let pos = start;
  let partial = '';
  let decoder = new StringDecoder('utf8');
  let stopped = false;
  const stop = () => {
    stopped = true;
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  while (!stopped) {
    let size = -1;
    try {
      size = fs.statSync(file).size;
    } catch {
      // not there (yet): wait for it
    }
    if (size >= 0 && size < pos) {
      pos = 0;
      partial = '';
      decoder = new StringDecoder('utf8');
    }
    if (size > pos) {
      const fd = fs.openSync(file, 'r');
      try {
        const buf = Buffer.alloc(Math.min(size - pos, 1024 * 1024));
        const n = fs.readSync(fd, buf, 0, buf.length, pos);
        pos += n;
        const text = partial + decoder.write(buf.subarray(0, n));
        const lines = text.split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) out(l);
      } finally {
        fs.closeSync(fd);
      }
      continue;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * What `start --fork` tells its user: read from this run's lines of the log file (the child
 * writes its stdout, stderr and JSON logs there; earlier runs' lines are before `offset`) and
 * from the child's /health once it answers.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';

/** the log's size now: the next run's lines start here */
export function logOffset(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** the lines written since `offset` (a file that shrank was rotated: all of it is new) */
export function linesSince(file: string, offset: number, maxBytes = 1 << 20): string[] {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return [];
  }
  try {
    const size = statSync(file).size;
    const from = size < offset ? 0 : offset;
    const start = Math.max(from, size - maxBytes);
    const buf = Buffer.alloc(size - start);
    const n = readSync(fd, buf, 0, buf.length, start);
    return buf
      .subarray(0, n)
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim());
  } finally {
    closeSync(fd);
  }
}

interface LogRecord {
  level?: number;
  msg?: string;
  err?: { message?: string };
}

function parse(line: string): LogRecord | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as LogRecord;
  } catch {
    return undefined;
  }
}

/**
 * The one reason a child that died gave: its own `clawpulse: …` line (what `fail` prints), else
 * its last error or fatal log line (message and error), else its last line.
 */
export function fatalReason(lines: readonly string[]): string | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i] as string;
    // the lines a healthy start prints are not reasons
    if (l.startsWith('clawpulse: ') && !/^clawpulse: (dashboard|running without HTTP)/.test(l))
      return l.slice('clawpulse: '.length);
  }
  for (let i = lines.length - 1; i >= 0; i--) {
    const r = parse(lines[i] as string);
    if (r && (r.level ?? 0) >= 50) {
      const err = r.err?.message;
      return err && r.msg && !r.msg.includes(err) ? `${r.msg}: ${err}` : (r.msg ?? err);
    }
  }
  const last = lines.at(-1);
  return last && !parse(last) ? last : undefined;
}

/** the dashboard URL the child printed (`clawpulse: dashboard http://…/`) */
export function dashboardUrl(lines: readonly string[]): string | undefined {
  for (const l of lines) {
    const m = /^clawpulse: dashboard (https?:\/\/\S+)/.exec(l);
    if (m) return m[1];
  }
  return undefined;
}

export interface SourceRow {
  id: string;
  state: string;
  detail?: string;
}

/** `sources up: files (following 3 transcripts)` / `sources down: gateway (no gateway at …)` */
export function describeSources(sources: readonly SourceRow[]): string[] {
  const up = sources.filter((s) => s.state === 'live' || s.state === 'standby');
  const starting = sources.filter((s) => s.state === 'starting');
  const down = sources.filter((s) => !up.includes(s) && !starting.includes(s));
  const list = (xs: readonly SourceRow[]) =>
    xs.map((s) => (s.detail ? `${s.id} (${s.detail})` : s.id)).join('; ');
  const out: string[] = [];
  if (up.length) out.push(`  sources up: ${list(up)}`);
  if (starting.length) out.push(`  sources still starting: ${list(starting)}`);
  if (down.length) out.push(`  sources down: ${list(down)}`);
  return out;
}

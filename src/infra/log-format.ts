/**
 * Human log lines for a terminal: pino writes its JSON line to this destination, which prints
 *
 *   14:03:07 INFO  clawpulse running: dashboard http://127.0.0.1:9090/  sources=files,gateway
 *   14:03:08 WARN  no gateway at ws://127.0.0.1:18789; …  gateway=gateway
 *
 * time, level, message and the few fields that matter: short scalars, an error's message (its
 * stack at debug level), never big objects (a config dump stays in the JSON format). Writes are
 * synchronous and never throw: a terminal that went away (EPIPE, EIO) must not stop shutdown.
 */
import { writeSync } from 'node:fs';

const LEVELS: Record<number, { name: string; sgr: string }> = {
  10: { name: 'TRACE', sgr: '90' },
  20: { name: 'DEBUG', sgr: '90' },
  30: { name: 'INFO', sgr: '36' },
  40: { name: 'WARN', sgr: '33' },
  50: { name: 'ERROR', sgr: '31' },
  60: { name: 'FATAL', sgr: '1;31' },
};

/** fields pino or the app adds to every line: not worth a terminal column */
const SKIP = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'app', 'v']);
const MAX_VALUE = 120;

export interface PrettyOptions {
  color: boolean;
  /** show error stacks (LOG_LEVEL debug or trace) */
  stacks?: boolean;
}

const paint = (text: string, sgr: string, on: boolean) => (on ? `\x1b[${sgr}m${text}\x1b[0m` : text);

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function clock(ms: number): string {
  const d = new Date(ms);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

function scalar(v: unknown): string | undefined {
  if (typeof v === 'string') {
    const one = v.replace(/\s+/g, ' ').trim();
    if (!one) return undefined;
    const cut = one.length > MAX_VALUE ? `${one.slice(0, MAX_VALUE - 3)}...` : one;
    return /[\s=]/.test(cut) ? JSON.stringify(cut) : cut;
  }
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number')) {
    const s = v.join(',');
    return s.length <= MAX_VALUE ? s : undefined;
  }
  return undefined;
}

/** one pino JSON line as a human line (no newline); a line that is not JSON comes back as it is */
export function formatLogLine(json: string, o: PrettyOptions): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.trimEnd();
  }
  if (!rec || typeof rec !== 'object') return json.trimEnd();
  const level = LEVELS[Number(rec.level)] ?? { name: String(rec.level ?? 'LOG').toUpperCase(), sgr: '0' };
  const time = typeof rec.time === 'number' ? clock(rec.time) : '--:--:--';
  const msg = typeof rec.msg === 'string' ? rec.msg : '';
  const fields: string[] = [];
  let stack: string | undefined;
  for (const [k, v] of Object.entries(rec)) {
    if (SKIP.has(k) || v === undefined || v === null) continue;
    if ((k === 'err' || k === 'error') && typeof v === 'object') {
      const e = v as { message?: unknown; code?: unknown; stack?: unknown };
      const m = typeof e.message === 'string' ? e.message : undefined;
      const code = typeof e.code === 'string' && m && !m.includes(e.code) ? `${e.code}: ` : '';
      if (m) fields.push(`${k}=${scalar(`${code}${m}`) ?? '""'}`);
      if (o.stacks && typeof e.stack === 'string') stack = e.stack;
      continue;
    }
    const s = scalar(v);
    if (s !== undefined) fields.push(`${k}=${s}`);
  }
  const head = `${paint(time, '90', o.color)} ${paint(level.name.padEnd(5), level.sgr, o.color)} ${msg}`;
  const tail = fields.length ? `  ${paint(fields.join(' '), '90', o.color)}` : '';
  return stack ? `${head}${tail}\n${paint(stack, '90', o.color)}` : `${head}${tail}`;
}

/** writes to a file descriptor, swallowing every error (a closed terminal or pipe must not throw) */
export function safeFdWriter(fd: number): (text: string) => void {
  let broken = false;
  return (text) => {
    if (broken) return;
    try {
      writeSync(fd, text);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // the reader is gone for good: stop trying; a full non-blocking pipe drops this line only
      if (code !== 'EAGAIN') broken = true;
    }
  };
}

/** a pino destination that prints human lines */
export function prettyDestination(
  write: (text: string) => void,
  o: PrettyOptions,
): { write(line: string): void; flushSync(): void } {
  return {
    write(chunk: string) {
      // pino hands one line per call; split anyway in case a caller batches
      let out = '';
      for (const line of chunk.split('\n')) if (line) out += `${formatLogLine(line, o)}\n`;
      if (out) write(out);
    },
    flushSync() {},
  };
}

export type LogFormat = 'auto' | 'json' | 'pretty';

/**
 * pretty on a terminal: `auto` means human lines when both stdout and stderr are TTYs (logs go
 * to stderr; with stdout piped or redirected the user is collecting output, so JSON)
 */
export function resolveLogFormat(
  format: LogFormat,
  tty: { stdout: boolean; stderr: boolean },
): 'json' | 'pretty' {
  if (format !== 'auto') return format;
  return tty.stdout && tty.stderr ? 'pretty' : 'json';
}

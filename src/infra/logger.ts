/**
 * Structured logging (pino). Secrets never reach a log line: known secret fields are
 * redacted wherever they appear, and config objects are logged through `redactConfig`.
 */
import { type Logger, pino } from 'pino';
import { type LogFormat, prettyDestination, resolveLogFormat, safeFdWriter } from './log-format.js';

export type { Logger } from 'pino';

export const REDACT_PATHS = [
  'token',
  'mmToken',
  'pluginSecret',
  'dashboardToken',
  'gatewayToken',
  'otlpToken',
  'authorization',
  'headers.authorization',
  '*.token',
  '*.mmToken',
  '*.pluginSecret',
  '*.dashboardToken',
  '*.gatewayToken',
  '*.otlpToken',
  '*.authorization',
  '*.headers.authorization',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    { level, base: { app: 'clawpulse' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    destination ?? jsonToStderr(),
  );
}

/**
 * JSON lines to stderr, written synchronously and never throwing. Not pino.destination: its
 * exit flush retries a write that failed with EPIPE forever, so a daemon whose stderr was piped
 * into a process that died (`clawpulse up 2>&1 | tee log`, Ctrl-C) never exited.
 */
function jsonToStderr(): pino.DestinationStream {
  const write = safeFdWriter(2);
  return { write };
}

/**
 * The logger of a foreground command (`start`, `up`, `demo`): human lines on a terminal, JSON
 * otherwise (LOG_FORMAT: auto, json, pretty; see log-format.ts). Logs go to stderr either way.
 * With `hold`, human lines wait until `release()`: the dashboard URL is the first line a user
 * sees, printed once the port is bound.
 */
export function createProcessLogger(
  level: string,
  format: LogFormat = 'auto',
  o: { hold?: boolean } = {},
): { logger: Logger; format: 'json' | 'pretty'; release(): void } {
  const chosen = resolveLogFormat(format, {
    stdout: Boolean(process.stdout.isTTY),
    stderr: Boolean(process.stderr.isTTY),
  });
  if (chosen === 'json') return { logger: createLogger(level), format: chosen, release() {} };
  const write = safeFdWriter(2);
  let held: string[] | undefined = o.hold ? [] : undefined;
  const dest = prettyDestination(
    (text) => {
      if (!held) write(text);
      else if (held.length < 1000) held.push(text);
    },
    {
      color: Boolean(process.stderr.isTTY) && !process.env.NO_COLOR,
      stacks: level === 'debug' || level === 'trace',
    },
  );
  return {
    logger: createLogger(level, dest),
    format: chosen,
    release() {
      const lines = held ?? [];
      held = undefined;
      for (const t of lines) write(t);
    },
  };
}

/** A logger that drops everything; for tests and for CLI commands that print their own output. */
export const silentLogger: Logger = pino({ level: 'silent' });

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

/** JSON lines to stderr, asynchronously; a stderr that went away (EPIPE) is ignored, never thrown */
function jsonToStderr(): pino.DestinationStream {
  const dest = pino.destination({ dest: 2, sync: false });
  dest.on('error', () => {});
  return dest;
}

/**
 * The logger of a foreground command (`start`, `up`, `demo`): human lines on a terminal, JSON
 * otherwise (LOG_FORMAT: auto, json, pretty; see log-format.ts). Logs go to stderr either way.
 */
export function createProcessLogger(level: string, format: LogFormat = 'auto'): Logger {
  const chosen = resolveLogFormat(format, {
    stdout: Boolean(process.stdout.isTTY),
    stderr: Boolean(process.stderr.isTTY),
  });
  if (chosen === 'json') return createLogger(level);
  return createLogger(
    level,
    prettyDestination(safeFdWriter(2), {
      color: Boolean(process.stderr.isTTY) && !process.env.NO_COLOR,
      stacks: level === 'debug' || level === 'trace',
    }),
  );
}

/** A logger that drops everything; for tests and for CLI commands that print their own output. */
export const silentLogger: Logger = pino({ level: 'silent' });

/**
 * Structured logging (pino). Secrets never reach a log line: known secret fields are
 * redacted wherever they appear, and config objects are logged through `redactConfig`.
 */
import { type Logger, pino } from 'pino';

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
    destination ?? pino.destination({ dest: 2, sync: false }),
  );
}

/** A logger that drops everything; for tests and for CLI commands that print their own output. */
export const silentLogger: Logger = pino({ level: 'silent' });

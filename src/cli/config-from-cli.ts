/**
 * CLI options are a thin layer over the environment: each option sets its variable, then the
 * one config loader validates everything. A bad value exits 2 with every problem listed.
 */
import { type Config, ConfigError, loadConfig } from '../config/config.js';

export interface CommonOptions {
  stateDir?: string;
  port?: string;
  db?: string;
  home?: string;
}

export function configFromCli(opts: CommonOptions, extra: NodeJS.ProcessEnv = {}): Readonly<Config> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  if (opts.stateDir) env.OPENCLAW_STATE_DIR = opts.stateDir;
  if (opts.port !== undefined) env.HEALTH_PORT = portOption(opts.port);
  // --db names the store for this command (a SQLite file or a postgres:// URL), over
  // CLAWPULSE_STORE and CLAWPULSE_DB
  if (opts.db) env.CLAWPULSE_STORE = opts.db;
  if (opts.home) env.CLAWPULSE_HOME = opts.home;
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`clawpulse: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/**
 * `--port`: 1-65535, or 0 for any free port (HEALTH_PORT=any; HEALTH_PORT=0 itself turns the
 * HTTP server off). A bad value names the flag, not the variable it sets.
 */
export function portOption(raw: string): string {
  const v = raw.trim();
  if (!/^\d{1,5}$/.test(v) || Number(v) > 65_535)
    fail(`--port ${JSON.stringify(raw)}: expected a port from 1 to 65535, or 0 for any free port`, 2);
  return Number(v) === 0 ? 'any' : String(Number(v));
}

/** Prints a one-line error and exits; for failures the user can act on (no stack trace). */
export function fail(message: string, code = 1): never {
  process.stderr.write(`clawpulse: ${message}\n`);
  process.exit(code);
}

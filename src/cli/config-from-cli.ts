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
  if (opts.port !== undefined) env.HEALTH_PORT = opts.port;
  if (opts.db) env.CLAWPULSE_DB = opts.db;
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

/** Prints a one-line error and exits; for failures the user can act on (no stack trace). */
export function fail(message: string, code = 1): never {
  process.stderr.write(`clawpulse: ${message}\n`);
  process.exit(code);
}

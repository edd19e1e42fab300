/**
 * `clawpulse doctor [--json]`: checks what clawpulse needs, in the order a setup goes wrong:
 * the configuration, Node, the OpenClaw state dir, the gateway, Mattermost, the HTTP outputs
 * set by URL (Loki, the dispatch webhook, the OTLP collector), the HTTP port, the store. Each problem comes with its fix. Exit 0 when nothing failed (warnings allowed), 1 else.
 */

import { type Config, ConfigError, loadConfig } from '../../config/config.js';
import { portOption } from '../config-from-cli.js';
import { checkCostFiles } from './cost-files.js';
import { checkGateway } from './gateway.js';
import { checkNamedGateways } from './gateways.js';
import { checkNode, checkPort, checkStateDir, checkStore } from './local.js';
import { checkMattermost } from './mattermost.js';
import { checkOutputs } from './outputs.js';
import { checkPgStore } from './pg-store.js';
import { type CheckResult, fail, formatReport, ok } from './report.js';

export interface DoctorOptions {
  json?: boolean;
  /** per network check (gateway, Mattermost), default 5 s */
  timeoutMs?: number;
  color?: boolean;
}

export async function collectChecks(env: NodeJS.ProcessEnv, o: DoctorOptions = {}): Promise<CheckResult[]> {
  let config: Readonly<Config>;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return [
      fail(
        'configuration',
        err.problems.map((p) => `${p.name}: expected ${p.expected}`).join('; '),
        'fix these variables (see the Configuration table in the README)',
      ),
      checkNode(),
    ];
  }
  const timeoutMs = o.timeoutMs ?? 5000;
  const [gateway, named, mattermost, outputs, port, pgStore] = await Promise.all([
    checkGateway(config, timeoutMs),
    checkNamedGateways(config, timeoutMs),
    checkMattermost(config, timeoutMs),
    checkOutputs(config, timeoutMs),
    checkPort(config),
    checkPgStore(config, timeoutMs),
  ]);
  return [
    ok('configuration', `valid; clawpulse home ${config.home}`),
    checkNode(),
    checkStateDir(config),
    gateway,
    ...named,
    ...mattermost,
    ...outputs,
    port,
    ...checkCostFiles(config),
    // the SQLite file (its folder writable, disk space), or the shared PostgreSQL store
    ...(config.store.engine === 'postgres' ? pgStore : [checkStore(config)]),
  ];
}

export async function runDoctor(env: NodeJS.ProcessEnv, o: DoctorOptions = {}): Promise<number> {
  const results = await collectChecks(env, o);
  const failed = results.some((r) => r.status === 'fail');
  if (o.json) process.stdout.write(`${JSON.stringify({ ok: !failed, checks: results }, null, 2)}\n`);
  else
    process.stdout.write(
      formatReport(results, o.color ?? (Boolean(process.stdout.isTTY) && !process.env.NO_COLOR)),
    );
  return failed ? 1 : 0;
}

/** the environment with the common CLI options applied (as configFromCli does, without exiting) */
export function envWithOptions(
  env: NodeJS.ProcessEnv,
  o: { stateDir?: string; port?: string; db?: string },
): NodeJS.ProcessEnv {
  const out = { ...env };
  if (o.stateDir) out.OPENCLAW_STATE_DIR = o.stateDir;
  if (o.port !== undefined) out.HEALTH_PORT = portOption(o.port);
  if (o.db) out.CLAWPULSE_STORE = o.db;
  return out;
}

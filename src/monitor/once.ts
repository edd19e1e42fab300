/**
 * One upload now, for `clawpulse monitor` (OpenClaw cron), `monitor test` and `monitor login`:
 * the same settings, agent ids, log files and retries as the loop, with a short retry budget
 * (3 tries, 1 s then 2 s apart) so a cron run ends quickly.
 */
import type { Clock } from '../infra/clock.js';
import { type AgentIds, AgentsError, readAgentIds } from './agents.js';
import { CredentialsError, type MonitorSettings } from './credentials.js';
import type { AgentFilter } from './liveness.js';
import { createUploaderLog, type UploaderLog } from './log-file.js';
import { monitorPaths } from './paths.js';
import { type MonitorEnv, readSettings } from './runtime.js';
import { createUploader, type UploaderOptions, type UploadOutcome } from './uploader.js';

export type OnceResult =
  | { kind: 'no-token'; settings: MonitorSettings }
  | { kind: 'bad-config'; message: string }
  | { kind: 'no-agents'; agents: AgentIds; settings: MonitorSettings }
  | { kind: 'uploaded'; outcome: UploadOutcome; agents: AgentIds; settings: MonitorSettings };

export interface OnceOptions extends MonitorEnv {
  clock: Clock;
  echo?: (line: string) => void;
  /** `--only-live` */
  filter?: AgentFilter;
  /** use this token (login validates the one it was given) */
  token?: string;
  /** before the ids are uploaded (`monitor test` prints them) */
  onAgents?(ids: string[], agents: AgentIds): void;
  uploader?: Partial<Omit<UploaderOptions, 'clock' | 'log'>>;
  maxAttempts?: number;
  log?: UploaderLog;
}

export async function uploadNow(o: OnceOptions): Promise<OnceResult> {
  const paths = monitorPaths(o.stateDir);
  const log =
    o.log ??
    createUploaderLog({ log: paths.log, errorLog: paths.errorLog, now: () => o.clock.now(), echo: o.echo });
  let settings: MonitorSettings;
  let agents: AgentIds;
  try {
    settings = readSettings(o, paths);
    if (o.token) settings = { ...settings, token: o.token, tokenOrigin: 'the command line' };
    if (!settings.token) return { kind: 'no-token', settings };
    agents = readAgentIds(o.stateDir);
  } catch (err) {
    if (err instanceof CredentialsError || err instanceof AgentsError) {
      log.error(`Reading the configuration failed: ${err.message}`);
      return { kind: 'bad-config', message: err.message };
    }
    throw err;
  }
  const ids = o.filter ? await o.filter(agents.ids, settings.intervalMinutes * 60_000) : agents.ids;
  o.onAgents?.(ids, agents);
  if (!ids.length) {
    log.info('No agents, skipping this upload');
    return { kind: 'no-agents', agents, settings };
  }
  const uploader = createUploader({
    clock: o.clock,
    log,
    baseDelayMs: 1000,
    maxDelayMs: 2000,
    ...o.uploader,
  });
  // the system clock's timers do not hold the process: without this a CLI run ends in a retry's wait
  const hold = setInterval(() => undefined, 1 << 30);
  try {
    const outcome = await uploader.upload(
      { url: settings.url, token: settings.token, agentIds: ids },
      { maxAttempts: o.maxAttempts ?? 3 },
    );
    return { kind: 'uploaded', outcome, agents, settings };
  } finally {
    clearInterval(hold);
    await uploader.close();
  }
}

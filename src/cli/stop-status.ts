/** `clawpulse stop` and `clawpulse status`: both find the running daemon (or demo) the same way. */
import type { Config } from '../config/config.js';
import { isAlive } from '../infra/pidfile.js';
import { type DaemonLink, findDaemon, getJson } from './daemon-link.js';

/** Exit codes as `status`: 0 stopped, 3 nothing was running, 1 it did not stop in time. */
export async function stopDaemon(config: Readonly<Config>, timeoutMs = 20_000): Promise<number> {
  const link = findDaemon(config);
  if (!link) {
    process.stderr.write(`clawpulse: not running (no live pid in ${config.pidFile}); nothing to stop\n`);
    return 3;
  }
  const { pid } = link;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) {
      process.stdout.write(`clawpulse${link.kind === 'demo' ? ' demo' : ''} stopped (pid ${pid})\n`);
      return 0;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  process.stderr.write(
    `clawpulse: pid ${pid} did not stop within ${timeoutMs / 1000} s; it is still shutting down or hung\n`,
  );
  return 1;
}

interface HealthLike {
  status: string;
  uptimeMs: number;
  sources: Array<{ id: string; state: string; lagMs: number; detail?: string; inputs?: number }>;
  sinks: Array<{
    id: string;
    breaker: string;
    lastError?: string;
    detail?: { reason?: string; state?: string };
  }>;
  sessions: Record<string, number>;
  store: { path: string; events: number; engine?: string; host?: string };
  /** `clawpulse serve`: the hosts writing into the shared store */
  fleet?: {
    hosts: Array<{ host: string; stale: boolean; lastSeq: number; status?: string; stoppedAt?: number }>;
  };
}

async function readHealth(
  link: DaemonLink,
  config: Readonly<Config>,
): Promise<{ health?: HealthLike; healthError?: string }> {
  if (!link.url) return { healthError: 'it runs without HTTP (HEALTH_PORT=0)' };
  try {
    return { health: (await getJson<HealthLike>(link, config, '/health', 3000)).body };
  } catch (err) {
    return { healthError: (err as Error).message };
  }
}

/**
 * Exit code follows the LSB init convention: 0 running, 3 not running; and 4 running but not
 * healthy (a source down, a sink failing: /health says degraded or down).
 */
export async function printStatus(config: Readonly<Config>, json: boolean): Promise<number> {
  const link = findDaemon(config);
  const { health, healthError } = link ? await readHealth(link, config) : {};
  const code = !link ? 3 : health && health.status !== 'ok' ? 4 : 0;
  if (json) {
    process.stdout.write(
      `${JSON.stringify(
        {
          running: Boolean(link),
          pid: link?.pid,
          kind: link?.kind,
          url: link?.url,
          health,
          healthError,
        },
        null,
        2,
      )}\n`,
    );
    return code;
  }
  if (!link) {
    process.stdout.write(`clawpulse is not running (pid file ${config.pidFile})\n`);
    return 3;
  }
  // serve's /health lists the fleet's hosts: say which process answered
  const what =
    link.kind === 'demo'
      ? 'the clawpulse demo is running'
      : health?.fleet
        ? 'clawpulse serve is running'
        : 'clawpulse is running';
  const lines = [`${what} (pid ${link.pid})${link.url ? `: dashboard ${link.url}/` : ''}`];
  if (!health) lines.push(`  health: no answer (${healthError})`);
  else {
    lines.push(`  status: ${health.status}, up ${Math.round(health.uptimeMs / 1000)} s`);
    for (const s of health.sources) {
      const lag = s.lagMs > 0 ? `, ${Math.round(s.lagMs)} ms behind` : '';
      lines.push(`  source ${s.id}: ${s.state}${lag}${s.detail ? ` (${s.detail})` : ''}`);
    }
    for (const s of health.sinks) {
      const why = s.detail?.reason ?? s.lastError;
      lines.push(`  sink ${s.id}: breaker ${s.breaker}${why ? ` (${why})` : ''}`);
    }
    const counts = Object.entries(health.sessions)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ');
    lines.push(`  sessions: ${counts || 'none yet'}`);
    const shared =
      health.store.engine === 'postgres' ? ` (PostgreSQL, host ${health.store.host ?? '?'})` : '';
    lines.push(`  store: ${health.store.events} events in ${health.store.path}${shared}`);
    for (const h of health.fleet?.hosts ?? []) {
      const state = h.stoppedAt ? 'stopped' : h.stale ? 'stale (no heartbeat)' : (h.status ?? 'ok');
      lines.push(`  host ${h.host}: ${state}, ${h.lastSeq} events`);
    }
    if (code === 4) lines.push(`  not healthy (${health.status}): exit 4`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return code;
}

/** `clawpulse stop` and `clawpulse status`. */
import type { Config } from '../config/config.js';
import { isAlive, readLivePid } from '../infra/pidfile.js';
import { hostForUrl } from './start.js';

export async function stopDaemon(config: Readonly<Config>, timeoutMs = 20_000): Promise<number> {
  const pid = readLivePid(config.pidFile);
  if (!pid) {
    process.stdout.write(`clawpulse is not running (no live pid in ${config.pidFile})\n`);
    return 0;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) {
      process.stdout.write(`clawpulse stopped (pid ${pid})\n`);
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
  sinks: Array<{ id: string; breaker: string; lastError?: string }>;
  sessions: Record<string, number>;
  store: { path: string; events: number };
}

/** Exit code follows the LSB init convention: 0 running, 3 not running. */
export async function printStatus(config: Readonly<Config>, json: boolean): Promise<number> {
  const pid = readLivePid(config.pidFile);
  let health: HealthLike | undefined;
  let healthError: string | undefined;
  if (pid) {
    try {
      const res = await fetch(`http://${hostForUrl(config.http.host)}:${config.http.port}/health`, {
        headers: config.http.dashboardToken ? { authorization: `Bearer ${config.http.dashboardToken}` } : {},
        signal: AbortSignal.timeout(3000),
      });
      health = (await res.json()) as HealthLike;
    } catch (err) {
      healthError = (err as Error).message;
    }
  }
  if (json) {
    process.stdout.write(`${JSON.stringify({ running: Boolean(pid), pid, health, healthError }, null, 2)}\n`);
    return pid ? 0 : 3;
  }
  if (!pid) {
    process.stdout.write(`clawpulse is not running (pid file ${config.pidFile})\n`);
    return 3;
  }
  const lines = [`clawpulse is running (pid ${pid})`];
  if (!health) lines.push(`  health: no answer on port ${config.http.port} (${healthError})`);
  else {
    lines.push(`  status: ${health.status}, up ${Math.round(health.uptimeMs / 1000)} s`);
    for (const s of health.sources) {
      const lag = s.lagMs > 0 ? `, ${Math.round(s.lagMs)} ms behind` : '';
      lines.push(`  source ${s.id}: ${s.state}${lag}${s.detail ? ` (${s.detail})` : ''}`);
    }
    for (const s of health.sinks)
      lines.push(`  sink ${s.id}: breaker ${s.breaker}${s.lastError ? ` (${s.lastError})` : ''}`);
    const counts = Object.entries(health.sessions)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ');
    lines.push(`  sessions: ${counts || 'none yet'}`);
    lines.push(`  store: ${health.store.events} events in ${health.store.path}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

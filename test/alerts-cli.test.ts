/**
 * `clawpulse alerts` as a user runs it: with no daemon, a real process reading the store file;
 * with a daemon, the daemon's /api/alerts (found by its PID and run file).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatAlerts, listAlerts } from '../src/cli/alerts.js';
import { writeRunInfo } from '../src/cli/daemon-link.js';
import { loadConfig } from '../src/config/config.js';
import { type Daemon, startDaemon } from '../src/daemon/daemon.js';
import { silentLogger } from '../src/infra/logger.js';
import { alertOf } from '../src/store/alert-store.contract.js';
import { createSqliteStore } from '../src/store/sqlite-store.js';
import { tempDir } from '../src/test-support/temp-dir.js';

const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;
const T0 = Date.parse('2026-12-07T10:00:00.000Z');

function cli(args: string[], env: NodeJS.ProcessEnv) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function seededHome(): string {
  const home = tempDir('clawpulse-alerts-cli-');
  mkdirSync(home, { recursive: true });
  const store = createSqliteStore(join(home, 'clawpulse.sqlite'));
  const alerts = store.alerts();
  alerts.record(
    alertOf({
      rule: 'budget',
      severity: 'critical',
      sessionKey: 'agent:main:main',
      message: 'agent:main:main spend $5.20 is 104 % of its budget $5.00 (budget reached)',
      value: 5.2,
      threshold: 5,
      unit: 'usd',
      action: 'aborted the run',
      firedAt: T0,
    }),
  );
  const old = alertOf({ rule: 'stuck', sessionKey: 'agent:main:old', firedAt: T0 - 3600_000 });
  alerts.record(old);
  alerts.resolve(old.id, T0 - 1800_000, 'agent:main:old is no longer stuck');
  store.close();
  return home;
}

describe('clawpulse alerts', () => {
  it('without a daemon reads the store: firing by default, --all adds the resolved, --json the API body', () => {
    const home = seededHome();
    const env = { CLAWPULSE_HOME: home, HOME: home };
    const firing = cli(['alerts'], env);
    expect(firing.code).toBe(0);
    expect(firing.err).toContain('no daemon running: reading the store');
    const lines = firing.out.trim().split('\n');
    expect(lines[0]).toMatch(/^STATE\s+SEVERITY\s+RULE\s+SESSION\s+VALUE\s+SINCE\s+MESSAGE$/);
    expect(lines[1]).toMatch(
      /^FIRING\s+critical\s+budget\s+agent:main:main\s+\$5\.20 \/ \$5\.00\s+\S+ ago\s+agent:main:main spend .* \[aborted the run\]$/,
    );
    expect(lines.at(-1)).toBe('1 firing');
    expect(firing.out).not.toContain('agent:main:old');

    const all = cli(['alerts', '--all'], env);
    expect(all.out).toMatch(
      /^RESOLVED\s+warning\s+stuck\s+agent:main:old\s+.*resolved \S+ ago\s+agent:main:old is no longer stuck$/m,
    );
    expect(all.out.trim().split('\n').at(-1)).toBe('1 firing, 1 resolved');

    const json = JSON.parse(cli(['alerts', '--json', '--all'], env).out) as {
      source: string;
      counts: { firing: number };
      alerts: Array<{ state: string; action?: string }>;
    };
    expect(json.source).toBe('store');
    expect(json.counts.firing).toBe(1);
    expect(json.alerts.map((a) => a.state)).toEqual(['firing', 'resolved']);
    expect(json.alerts[0]?.action).toBe('aborted the run');
  });

  it('with no store yet says so and exits 0', () => {
    const home = tempDir('clawpulse-alerts-none-');
    const r = cli(['alerts'], { CLAWPULSE_HOME: home, HOME: home });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^no store yet at .*clawpulse\.sqlite \(start clawpulse first\)$/m);
  });

  describe('with a daemon running', () => {
    let daemon: Daemon | undefined;
    afterEach(async () => {
      await daemon?.stop('test');
      daemon = undefined;
      vi.restoreAllMocks();
    });

    it("asks the daemon's API", async () => {
      const home = seededHome();
      const config = loadConfig({
        HOME: home,
        CLAWPULSE_HOME: home,
        OPENCLAW_STATE_DIR: join(home, 'openclaw'),
        SOURCES: 'files',
        HEALTH_PORT: 'any',
        LOG_LEVEL: 'silent',
      });
      mkdirSync(config.sources.stateDir, { recursive: true });
      daemon = await startDaemon(config, { logger: silentLogger, tickMs: 50 });
      writeFileSync(config.pidFile, `${process.pid}\n`);
      writeRunInfo(config.pidFile, {
        pid: process.pid,
        url: `http://127.0.0.1:${daemon.port}`,
        kind: 'daemon',
      });
      const out: string[] = [];
      vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
        out.push(String(s));
        return true;
      });
      expect(await listAlerts(config, { json: true, all: true })).toBe(0);
      const body = JSON.parse(out.join('')) as {
        source: string;
        alerts: Array<{ key: string; state: string }>;
      };
      expect(body.source).toBe('daemon');
      // the daemon took up the stored firing alert (its session is not in the model: resolved at start)
      expect(body.alerts.map((a) => a.key).sort()).toEqual([
        'budget:agent:main:main',
        'stuck:agent:main:old',
      ]);
    });
  });

  it('formats an empty list', () => {
    const counts = { firing: 0, resolved: 2, firingByRule: {} as never };
    expect(formatAlerts({ now: T0, counts, alerts: [] }, false)).toBe(
      'no alerts firing (2 resolved: --all)\n',
    );
    expect(formatAlerts({ now: T0, counts, alerts: [] }, true)).toBe('no alerts stored\n');
  });
});

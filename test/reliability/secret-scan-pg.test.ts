/**
 * No PostgreSQL password anywhere: a real daemon on the shared store, CLAWPULSE_STORE=
 * postgres://clawpulse:<random password>@127.0.0.1:<port>/fleet, on a cluster that checks the
 * password (scram-sha-256 for that role, test/support/postgres.ts with its own pg_hba.conf), at
 * debug level. Then /health, /metrics, `clawpulse status --json`, `clawpulse doctor --json` (with
 * the right password, and with a wrong one, whose error is shown), a `dispatch list` and every
 * log line and file under its home are searched for the password, whole, in pieces and
 * URL-encoded.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../src/test-support/temp-dir.js';
import { startPostgres } from '../support/postgres.js';
import { freePort, sleep } from '../support/reliability-kit.js';
import { makeStateDir } from '../support/state-dir.js';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

const cli = (args: string[], env: NodeJS.ProcessEnv): Promise<string> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', MAIN, ...args],
      { env, encoding: 'utf8', timeout: 60_000 },
      (_e, out, err) => resolve(`${out}\n${err}`),
    );
  });

describe('secret scan: the PostgreSQL password', () => {
  it('never appears in a log line, answer, CLI output or file', async () => {
    const password = `pgpass-${randomBytes(12).toString('hex')}`;
    const wrong = `pgwrong-${randomBytes(12).toString('hex')}`;
    // the postgres superuser keeps trust (the test kit's own connections); clawpulse must log in
    const hbaDir = tempDir('clawpulse-hba-');
    chmodSync(hbaDir, 0o755);
    const hba = join(hbaDir, 'pg_hba.conf');
    writeFileSync(
      hba,
      'local all postgres trust\nhost all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n',
    );
    chmodSync(hba, 0o644);
    const cluster = await startPostgres({ hba_file: hba });
    let proc: ChildProcess | undefined;
    const outputs: Array<{ where: string; text: string }> = [];
    let logs = '';
    const { root, stateDir } = makeStateDir();
    const home = join(root, 'clawpulse');
    try {
      const admin = new pg.Client({ connectionString: cluster.url });
      await admin.connect();
      await admin.query(`CREATE ROLE clawpulse LOGIN PASSWORD '${password}'`);
      await admin.query('CREATE DATABASE fleet OWNER clawpulse');
      await admin.end();
      const storeUrl = `postgres://clawpulse:${password}@127.0.0.1:${cluster.port}/fleet`;
      const port = await freePort();
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        OPENCLAW_STATE_DIR: stateDir,
        CLAWPULSE_HOME: home,
        CLAWPULSE_STORE: storeUrl,
        CLAWPULSE_HOST: 'scan-host',
        HEALTH_PORT: String(port),
        SOURCES: 'files',
        LOG_LEVEL: 'debug',
        LOG_FORMAT: 'json',
        POLL_INTERVAL_MS: '100',
      };
      proc = spawn(process.execPath, ['--import', 'tsx', MAIN, 'start'], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      proc.stdout?.on('data', (d: Buffer) => {
        logs += d.toString();
      });
      proc.stderr?.on('data', (d: Buffer) => {
        logs += d.toString();
      });
      const get = async (path: string) => {
        const res = await fetch(`http://127.0.0.1:${port}${path}`);
        const text = await res.text();
        outputs.push({ where: `GET ${path} (${res.status})`, text });
        return text;
      };
      let events = 0;
      for (let i = 0; i < 600 && events === 0; i++) {
        if (proc.exitCode !== null) throw new Error(`the daemon exited:\n${logs.slice(-3000)}`);
        try {
          events = (JSON.parse(await get('/health')) as { store: { events: number } }).store.events;
        } catch {
          // not listening yet
        }
        await sleep(50);
      }
      expect(events).toBeGreaterThan(0);
      const health = JSON.parse(await get('/health')) as { store: { engine?: string; path: string } };
      expect(health.store.engine).toBe('postgres');
      expect(health.store.path).toMatch(/^postgres:\/\/clawpulse(:\[set\])?@127\.0\.0\.1:/);
      await get('/metrics');
      await get('/api/sessions');
      outputs.push({ where: 'status --json', text: await cli(['status', '--json'], env) });
      const doctor = await cli(['doctor', '--json'], env);
      outputs.push({ where: 'doctor --json', text: doctor });
      expect(doctor).toContain('store (PostgreSQL)');
      outputs.push({ where: 'dispatch list', text: await cli(['dispatch', 'list'], env) });
      const refused = await cli(['doctor', '--json'], {
        ...env,
        CLAWPULSE_STORE: `postgres://clawpulse:${wrong}@127.0.0.1:${cluster.port}/fleet`,
      });
      outputs.push({ where: 'doctor --json (wrong password)', text: refused });
      expect(refused).toMatch(/password authentication failed/);
      // the same URL, unparsable for the config (no database): the error names the variable only
      outputs.push({
        where: 'status (invalid URL)',
        text: await cli(['status'], {
          ...env,
          CLAWPULSE_STORE: `postgres://clawpulse:${password}@127.0.0.1:1`,
        }),
      });
    } finally {
      if (proc && proc.exitCode === null) {
        const exited = new Promise((r) => proc?.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      cluster.stop();
    }
    outputs.push({ where: 'daemon log', text: logs });
    for (const f of files(home)) outputs.push({ where: f, text: readFileSync(f).toString('latin1') });

    const needles: Array<{ name: string; value: string }> = [];
    for (const [name, value] of [
      ['password', password],
      ['wrong password', wrong],
    ] as const) {
      needles.push({ name, value }, { name: `${name} (URL-encoded)`, value: encodeURIComponent(value) });
      const random = value.slice(value.indexOf('-') + 1);
      for (let i = 0; i + 10 <= random.length; i += 5)
        needles.push({ name: `${name} (characters ${i}-${i + 10})`, value: random.slice(i, i + 10) });
    }
    const leaks: string[] = [];
    for (const o of outputs)
      for (const n of needles) if (o.text.includes(n.value)) leaks.push(`${n.name} in ${o.where}`);
    console.log(
      `[reliability] secret-scan-pg: ${needles.length} needles, ${outputs.length} outputs (${logs.split('\n').length} log lines): ${leaks.length} leaks`,
    );
    expect(logs.split('\n').filter(Boolean).length).toBeGreaterThan(5);
    expect(leaks).toEqual([]);
  }, 120_000);
});

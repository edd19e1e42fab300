/**
 * `clawpulse monitor …` and `clawpulse skills install` as a user runs them: real processes
 * (node + tsx), a temp HOME and state dir, and a fake monitor platform on 127.0.0.1.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAlive } from '../src/infra/pidfile.js';
import { tempDir } from '../src/test-support/temp-dir.js';
import { deadUrl, waitFor } from './support/http-receiver.js';
import { type FakePlatform, startFakePlatform } from './support/monitor-platform.js';

const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;

interface Run {
  code: number | null;
  out: string;
  err: string;
}

/** started uploaders and daemons, stopped by pid if a test left them running */
const pids = new Set<number>();
afterAll(() => {
  for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
});

function cli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    const base = { ...process.env };
    for (const k of Object.keys(base))
      if (k.startsWith('MONITOR_') || k === 'OPENCLAW_MONITOR_URL') delete base[k];
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      env: { ...base, LOG_LEVEL: 'silent', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, out, err });
    });
  });
}

interface Home {
  root: string;
  stateDir: string;
  env: NodeJS.ProcessEnv;
  credentials: string;
  log: string;
  errorLog: string;
  pidFile: string;
}

function makeHome(): Home {
  const root = tempDir('clawpulse-moncli-');
  const stateDir = path.join(root, '.openclaw');
  fs.mkdirSync(stateDir, { recursive: true });
  fs.writeFileSync(
    path.join(stateDir, 'openclaw.json'),
    '// JSON5, as OpenClaw writes it\n{ agents: { list: [ { id: "main" }, { id: "coding" }, ] } }\n',
  );
  return {
    root,
    stateDir,
    env: { HOME: root, OPENCLAW_STATE_DIR: stateDir, CLAWPULSE_HOME: path.join(root, '.clawpulse') },
    credentials: path.join(stateDir, 'credentials', 'openclaw-status-monitor.json'),
    log: path.join(stateDir, 'logs', 'status_uploader.log'),
    errorLog: path.join(stateDir, 'logs', 'status_uploader_error.log'),
    pidFile: path.join(stateDir, 'logs', 'status_uploader.pid'),
  };
}

const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '');

function saveCredentials(h: Home, data: Record<string, unknown>): void {
  fs.mkdirSync(path.dirname(h.credentials), { recursive: true });
  fs.writeFileSync(h.credentials, JSON.stringify(data));
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

let platform: FakePlatform;
beforeEach(async () => {
  platform = await startFakePlatform({ tokens: ['good-token'], unknownTokenStatus: 403 });
});
afterEach(async () => {
  await platform.close();
});

describe('clawpulse monitor', () => {
  it('without a token: the steps to get one, exit 2', async () => {
    const h = makeHome();
    const r = await cli(['monitor'], h.env);
    expect(r.code).toBe(2);
    expect(r.err).toContain('No monitor platform token found');
    expect(r.err).toContain('https://openclaw-agent-monitor.vercel.app');
    expect(r.err).toContain('Settings page and generate an Agent Token');
    expect(r.err).toContain('clawpulse monitor login <TOKEN>');
    expect(platform.requests).toHaveLength(0);
    const start = await cli(['monitor', 'start', '--fork'], h.env);
    expect(start.code).toBe(2);
    expect(start.err).toContain('clawpulse monitor login <TOKEN>');
  });

  it('login saves the token with mode 0600 and validates it with one upload; a refused token is not kept', async () => {
    const h = makeHome();
    const bad = await cli(['monitor', 'login', 'wrong-token', '--url', platform.url], h.env);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('Token validation failed: the monitor platform answered 403');
    expect(bad.err).toContain('Click Generate to create a new Token');
    expect(bad.err).toContain('The token was not saved.');
    expect(fs.existsSync(h.credentials)).toBe(false);
    expect(read(h.errorLog)).toMatch(/ - ERROR - HTTP 403: Forbidden\n/);

    const good = await cli(['monitor', 'login', 'good-token', '--url', `${platform.url}/`], h.env);
    expect(good.err).not.toContain('ERROR');
    expect(good.code).toBe(0);
    expect(good.out).toContain(`Token saved to ${h.credentials} (mode 0600)`);
    expect(good.out).toContain(`Token validated: upload success for ['main', 'coding'] at ${platform.url}`);
    expect(fs.statSync(h.credentials).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(read(h.credentials));
    expect(saved).toEqual({
      agentToken: 'good-token',
      createdAt: expect.any(String),
      monitorUrl: platform.url,
    });
    expect(Number.isNaN(Date.parse(saved.createdAt))).toBe(false);
    expect(platform.uploads).toEqual([
      { token: 'good-token', ids: ['main', 'coding'], at: expect.any(Number) },
    ]);

    // a later refused login leaves the working token in place
    const again = await cli(['monitor', 'login', 'other-bad'], h.env);
    expect(again.code).toBe(1);
    expect(JSON.parse(read(h.credentials)).agentToken).toBe('good-token');
  });

  it('one upload for cron, and test prints the ids and the result', async () => {
    const h = makeHome();
    saveCredentials(h, { agentToken: 'good-token', monitorUrl: platform.url });
    const once = await cli(['monitor'], h.env);
    expect(once.code).toBe(0);
    expect(once.err).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d - INFO - Upload success: \['main', 'coding'\]$/m,
    );
    expect(read(h.log)).toMatch(/ - INFO - Upload success: \['main', 'coding'\]\n$/);
    const t = await cli(['monitor', 'test'], h.env);
    expect(t.code).toBe(0);
    expect(t.out).toContain("All agents: ['main', 'coding'] (agents.list in");
    expect(t.out).toContain('Upload result: success');
    expect(platform.uploads).toHaveLength(2);
    // MONITOR_PLATFORM_TOKEN wins over the file
    const env = await cli(['monitor'], { ...h.env, MONITOR_PLATFORM_TOKEN: 'bad-env-token' });
    expect(env.code).toBe(1);
    expect(env.err).toContain('Token validation failed');
  });

  it('--only-live uploads only agents with a recent session event while the gateway does not answer', async () => {
    const h = makeHome();
    saveCredentials(h, { agentToken: 'good-token', monitorUrl: platform.url });
    const env = { ...h.env, OPENCLAW_GATEWAY_URL: (await deadUrl()).replace('http', 'ws') };
    const sessions = path.join(h.stateDir, 'agents', 'coding', 'sessions');
    fs.mkdirSync(sessions, { recursive: true });
    fs.writeFileSync(path.join(sessions, 'sessions.json'), '{}');
    const t = await cli(['monitor', 'test', '--only-live'], env);
    expect(t.code).toBe(0);
    expect(t.out).toContain("All agents: ['main', 'coding']");
    expect(t.out).toContain("Live agents: ['coding']");
    expect(platform.uploads.map((u) => u.ids)).toEqual([['coding']]);
    // MONITOR_ONLY_LIVE=1 does the same; nothing live: nothing uploaded, exit 0
    fs.rmSync(path.join(h.stateDir, 'agents'), { recursive: true });
    const none = await cli(['monitor'], { ...env, MONITOR_ONLY_LIVE: '1' });
    expect(none.code).toBe(0);
    expect(none.out).toContain('No agents');
    expect(platform.uploads).toHaveLength(1);
  }, 60_000);

  it('platform down: what failed and where, exit 1, the error log', async () => {
    const h = makeHome();
    const url = await deadUrl();
    saveCredentials(h, { agentToken: 'good-token', monitorUrl: url });
    const r = await cli(['monitor'], h.env);
    expect(r.code).toBe(1);
    expect(r.err).toContain('Upload failed: could not reach the monitor platform');
    expect(r.err).toContain(`${url}/api/upload`);
    expect(r.err).toContain('(3 attempts)');
    expect(read(h.errorLog)).toMatch(/ - ERROR - Network: .*ECONNREFUSED/);
    // a 5xx names the status
    saveCredentials(h, { agentToken: 'good-token', monitorUrl: platform.url });
    platform.failNext(500, 500, 500);
    const five = await cli(['monitor', 'test'], h.env);
    expect(five.code).toBe(1);
    expect(five.out).toContain('Upload result: failed');
    expect(five.err).toContain(`Upload failed: ${platform.url}/api/upload answered HTTP 500`);
  }, 60_000);

  it('bad usage exits 2', async () => {
    const h = makeHome();
    for (const args of [
      ['monitor', 'set-interval', '0'],
      ['monitor', 'set-interval', 'ten'],
      ['monitor', 'start', '--interval', '2.5'],
      ['monitor', 'bogus'],
      ['monitor', 'login'],
      ['monitor', 'login', 'tok', '--url', 'ftp://x'],
    ]) {
      const r = await cli(args, h.env);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.err).not.toBe('');
    }
    fs.writeFileSync(path.join(h.stateDir, 'openclaw.json'), '{ agents: ');
    saveCredentials(h, { agentToken: 'good-token', monitorUrl: platform.url });
    const badConfig = await cli(['monitor'], h.env);
    expect(badConfig.code).toBe(2);
    expect(badConfig.err).toContain('openclaw.json is not valid JSON5');
  }, 60_000);

  it('start --fork → status → set-interval reaches the running uploader → restart → stop', async () => {
    const h = makeHome();
    saveCredentials(h, { agentToken: 'good-token', monitorUrl: platform.url });
    const started = await cli(['monitor', 'start', '--fork', '--interval', '30'], h.env);
    expect(started.err).toBe('');
    expect(started.code).toBe(0);
    const pid = Number(/Status uploader started \(pid (\d+)\)/.exec(started.out)?.[1]);
    pids.add(pid);
    expect(started.out).toContain('interval: 30 minutes');
    expect(read(h.pidFile).trim()).toBe(String(pid));
    await waitFor(() => platform.uploads.length === 1, 'the first upload', 15_000);
    expect(read(h.log)).toContain(`INFO - Status uploader started, PID: ${pid}`);
    expect(read(h.log)).toContain('INFO - Upload interval: 1800 seconds (30 minutes)');

    const status = await cli(['monitor', 'status'], h.env);
    expect(status.code).toBe(0);
    expect(status.out).toContain(`Status uploader is running, PID: ${pid}`);
    expect(status.out).toContain('Sync interval: 30 minutes');
    expect(status.out).toContain(`Token: from ${h.credentials}`);
    expect(status.out).toContain(`Log file: ${h.log}`);
    expect(status.out).toMatch(/Recent log:\n(.*\n)*.* - INFO - Upload success: \['main', 'coding'\]/);
    expect(status.out).toMatch(/Recent errors \(.*\):\n {2}none/);

    const again = await cli(['monitor', 'start', '--fork'], h.env);
    expect(again.code).toBe(0);
    expect(again.out).toContain(`Status uploader is already running (pid ${pid})`);

    const set = await cli(['monitor', 'set-interval', '1'], h.env);
    expect(set.code).toBe(0);
    expect(set.out).toContain('Sync interval set to 1 minute');
    expect(set.out).toContain(`The running uploader (pid ${pid}) uses it from now on`);
    await waitFor(
      () => read(h.log).includes('Sync interval changed: 30 minutes -> 1 minute'),
      'the change',
      10_000,
    );
    // a few seconds (hand-edited, as the file allows) show the uploads coming at the new pace
    const t0 = Date.now();
    const data = JSON.parse(read(h.credentials));
    fs.writeFileSync(h.credentials, JSON.stringify({ ...data, syncIntervalMinutes: 0.05 }));
    await waitFor(() => platform.uploads.length >= 3, 'two uploads 3 s apart', 20_000);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(isAlive(pid)).toBe(true);

    const restarted = await cli(['monitor', 'restart'], h.env);
    expect(restarted.code).toBe(0);
    const pid2 = Number(/Status uploader restarted, PID: (\d+)/.exec(restarted.out)?.[1]);
    pids.add(pid2);
    expect(pid2).not.toBe(pid);
    expect(isAlive(pid)).toBe(false);
    expect(read(h.log)).toContain('INFO - Received stop signal, exiting...');

    const stopped = await cli(['monitor', 'stop'], h.env);
    expect(stopped.code).toBe(0);
    expect(stopped.out).toContain(`Status uploader stopped (pid ${pid2})`);
    expect(fs.existsSync(h.pidFile)).toBe(false);
    const after = await cli(['monitor', 'status'], h.env);
    expect(after.code).toBe(3);
    expect(after.out).toContain('Status uploader is not running');
    const stopAgain = await cli(['monitor', 'stop'], h.env);
    expect(stopAgain.code).toBe(0);
    expect(stopAgain.out).toContain('Status uploader is not running');
  }, 120_000);

  it('a stale PID file (its process is gone) does not block a start', async () => {
    const h = makeHome();
    saveCredentials(h, { agentToken: 'good-token', monitorUrl: platform.url });
    const gone = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => gone.on('exit', r));
    fs.mkdirSync(path.dirname(h.pidFile), { recursive: true });
    fs.writeFileSync(h.pidFile, `${gone.pid}\n`);
    const status = await cli(['monitor', 'status'], h.env);
    expect(status.code).toBe(3);
    expect(status.out).toContain('Status uploader is not running');
    fs.writeFileSync(h.pidFile, `${gone.pid}\n`);
    const started = await cli(['monitor', 'start', '--fork'], h.env);
    expect(started.code).toBe(0);
    const pid = Number(/Status uploader started \(pid (\d+)\)/.exec(started.out)?.[1]);
    pids.add(pid);
    expect(read(h.pidFile).trim()).toBe(String(pid));
    expect((await cli(['monitor', 'stop'], h.env)).code).toBe(0);
  }, 60_000);

  it('inside the daemon: clawpulse start uploads when a token is saved; monitor status reports it', async () => {
    const h = makeHome();
    saveCredentials(h, { agentToken: 'good-token', monitorUrl: platform.url });
    const env = { ...h.env, SOURCES: 'files', HEALTH_PORT: String(await freePort()) };
    const started = await cli(['start', '--fork'], env);
    expect(started.code).toBe(0);
    const daemon = Number(/clawpulse started \(pid (\d+)\)/.exec(started.out)?.[1]);
    pids.add(daemon);
    try {
      await waitFor(() => platform.uploads.length === 1, 'the daemon to upload', 20_000);
      expect(platform.uploads[0]?.ids).toEqual(['main', 'coding']);
      const status = await cli(['monitor', 'status'], env);
      expect(status.code).toBe(0);
      expect(status.out).toContain(
        `Status uploader is running, PID: ${daemon} (inside the clawpulse daemon)`,
      );
      expect(status.out).toContain('Upload success');
      const start = await cli(['monitor', 'start', '--fork'], env);
      expect(start.code).toBe(0);
      expect(start.out).toContain(`The clawpulse daemon (pid ${daemon}) uploads to the monitor platform`);
      const stop = await cli(['monitor', 'stop'], env);
      expect(stop.code).toBe(1);
      expect(stop.err).toContain('uploads run inside the clawpulse daemon');
      const set = await cli(['monitor', 'set-interval', '2'], env);
      expect(set.out).toContain(`The running uploader (pid ${daemon}) uses it from now on`);
      await waitFor(
        () => read(h.log).includes('Sync interval changed: 5 minutes -> 2 minutes'),
        'the change',
        10_000,
      );
    } finally {
      expect((await cli(['stop'], env)).code).toBe(0);
    }
    expect(fs.existsSync(h.pidFile)).toBe(false);
    // MONITOR_PLATFORM=off keeps the daemon out of it
    const off = await cli(['start', '--fork'], { ...env, MONITOR_PLATFORM: 'off' });
    pids.add(Number(/pid (\d+)/.exec(off.out)?.[1]));
    try {
      await new Promise((r) => setTimeout(r, 1000));
      expect((await cli(['monitor', 'status'], env)).code).toBe(3);
    } finally {
      await cli(['stop'], env);
    }
  }, 120_000);
});

describe('clawpulse skills install', () => {
  it("copies both skills into the state dir's skills/, idempotent, never over an edit without --force", async () => {
    const h = makeHome();
    const first = await cli(['skills', 'install'], h.env);
    expect(first.code).toBe(0);
    expect(first.out).toContain(
      `openclaw-status-monitor: installed (${h.stateDir}/skills/openclaw-status-monitor/SKILL.md)`,
    );
    expect(first.out).toContain(`clawpulse: installed (${h.stateDir}/skills/clawpulse/SKILL.md)`);
    const second = await cli(['skills', 'install'], h.env);
    expect(second.code).toBe(0);
    expect(second.out).toContain('openclaw-status-monitor: up to date');
    const file = path.join(h.stateDir, 'skills', 'clawpulse', 'SKILL.md');
    fs.appendFileSync(file, '\nmine\n');
    const kept = await cli(['skills', 'install'], h.env);
    expect(kept.code).toBe(1);
    expect(kept.out).toContain('clawpulse: kept: it was edited');
    expect(read(file)).toContain('mine');
    const forced = await cli(['skills', 'install', '--force'], h.env);
    expect(forced.code).toBe(0);
    expect(forced.out).toContain('clawpulse: replaced (--force)');
    expect(read(file)).not.toContain('mine');
  }, 60_000);
});

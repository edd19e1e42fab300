/**
 * `clawpulse doctor` against the fake gateway and the fake Mattermost: a good setup passes, and
 * each broken part is named with its fix (exit 1).
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectChecks } from '../src/cli/doctor/doctor.js';
import { checkNode } from '../src/cli/doctor/local.js';
import { type CheckResult, formatReport } from '../src/cli/doctor/report.js';
import { type FakeGateway, startFakeGateway } from '../src/ingest/gateway/fake-gateway.helper.js';
import { PLUGIN_ID } from '../src/sinks/mattermost/plugin-mode.js';
import { type FakeMattermost, startFakeMattermost } from '../src/test-support/fake-mattermost/server.js';
import { tempDir } from '../src/test-support/temp-dir.js';
import { deadUrl, startReceiver } from './support/http-receiver.js';
import { makeStateDir } from './support/state-dir.js';

const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;
const TOKEN = 'gw-token-0123456789';
const SCOPES = ['operator.read', 'operator.write', 'operator.admin'];

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const byName = (checks: CheckResult[], name: string) => {
  const c = checks.find((x) => x.name === name);
  if (!c) throw new Error(`no check named ${name}: ${checks.map((x) => x.name).join(', ')}`);
  return c;
};

describe('clawpulse doctor', () => {
  let gw: FakeGateway;
  let narrowGw: FakeGateway;
  let mm: FakeMattermost;
  let channel: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    gw = await startFakeGateway({
      token: TOKEN,
      hello: {
        type: 'hello-ok',
        server: { version: '2026.9.6' },
        auth: { role: 'operator', scopes: SCOPES },
      },
    });
    narrowGw = await startFakeGateway({
      token: TOKEN,
      hello: {
        type: 'hello-ok',
        server: { version: '2026.9.6' },
        auth: { role: 'operator', scopes: ['operator.read'] },
      },
    });
    mm = await startFakeMattermost({ maxPostSize: 4000, webappPlugins: [PLUGIN_ID] });
    channel = mm.addChannel();
    const { stateDir } = makeStateDir();
    writeFileSync(
      join(stateDir, 'openclaw.json'),
      `{ gateway: { auth: { token: "${TOKEN}" } }, meta: { lastTouchedVersion: "2026.7.35" } }`,
    );
    env = {
      PATH: process.env.PATH,
      HOME: tempDir('clawpulse-doctor-home-'),
      OPENCLAW_STATE_DIR: stateDir,
      OPENCLAW_GATEWAY_URL: gw.url,
      CLAWPULSE_HOME: join(tempDir('clawpulse-doctor-'), 'cp'),
      HEALTH_PORT: String(await freePort()),
      MM_URL: mm.url,
      MM_TOKEN: mm.token,
      DEFAULT_CHANNEL: channel,
      LOG_LEVEL: 'silent',
    };
  });
  afterAll(async () => {
    await Promise.all([gw?.close(), narrowGw?.close(), mm?.close()]);
  });

  it('passes a good setup and says what it found', async () => {
    const checks = await collectChecks(env, { timeoutMs: 3000 });
    expect(checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(byName(checks, 'OpenClaw state').detail).toMatch(
      /JSONL transcripts in 1 agent: OpenClaw 2026\.7\.1 or earlier.*last written by OpenClaw 2026\.7\.35/,
    );
    expect(byName(checks, 'gateway')).toMatchObject({ status: 'ok' });
    expect(byName(checks, 'gateway').detail).toMatch(
      /OpenClaw 2026\.9\.6, protocol \d.*token from gateway\.auth\.token in .*openclaw\.json.*operator\.admin/,
    );
    expect(byName(checks, 'Mattermost')).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(/token accepted \(bot @clawpulse-bot\)/),
    });
    expect(byName(checks, 'Mattermost channel')).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining(`may post in ${channel}`),
    });
    expect(byName(checks, 'Mattermost plugin')).toMatchObject({
      status: 'ok',
      detail: `${PLUGIN_ID} installed and enabled`,
    });
    expect(byName(checks, 'Mattermost MaxPostSize').detail).toMatch(
      /4000 characters: boxes are cut there \(MAX_MESSAGE_CHARS is 15000\)/,
    );
    expect(byName(checks, 'HTTP port')).toMatchObject({ status: 'ok' });
    expect(byName(checks, 'store')).toMatchObject({ status: 'ok' });
    // the probe that checked the channel posted nothing
    expect(mm.livePosts()).toEqual([]);
    expect(formatReport(checks, false)).toMatch(/no problems found\n$/);
  });

  it('names each broken part with its fix', async () => {
    const busy: Server = await new Promise((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => resolve(s));
    });
    const busyPort = (busy.address() as { port: number }).port;
    try {
      const checks = await collectChecks(
        {
          ...env,
          OPENCLAW_GATEWAY_TOKEN: 'wrong-token',
          MM_TOKEN: 'wrong-mm-token',
          HEALTH_PORT: String(busyPort),
          SOURCES: 'gateway',
        },
        { timeoutMs: 3000 },
      );
      const gateway = byName(checks, 'gateway');
      expect(gateway).toMatchObject({
        status: 'fail',
        fix: expect.stringContaining('OPENCLAW_GATEWAY_TOKEN'),
      });
      expect(gateway.detail).toContain('OPENCLAW_GATEWAY_TOKEN');
      expect(gateway.detail).not.toContain('wrong-token');
      expect(byName(checks, 'Mattermost')).toMatchObject({
        status: 'fail',
        fix: expect.stringContaining('MM_TOKEN'),
      });
      expect(byName(checks, 'HTTP port')).toMatchObject({
        status: 'fail',
        fix: expect.stringContaining('HEALTH_PORT'),
      });
      const text = formatReport(checks, false);
      expect(text).toMatch(/FAIL {2}gateway/);
      expect(text).toMatch(/fix: set MM_TOKEN/);
      expect(text).toMatch(/3 problems, 0 warnings\n$/);
    } finally {
      await new Promise((r) => busy.close(r));
    }
  });

  it('finds a bot that may not post, a missing plugin, missing scopes, no state dir and no gateway', async () => {
    const closedPort = await freePort();
    const other = await startFakeMattermost({ token: mm.token });
    try {
      let checks = await collectChecks(
        {
          ...env,
          MM_URL: other.url,
          OPENCLAW_STATE_DIR: join(tempDir('clawpulse-doctor-'), 'nothing-here'),
          OPENCLAW_GATEWAY_TOKEN: TOKEN,
          OPENCLAW_GATEWAY_URL: narrowGw.url,
        },
        { timeoutMs: 3000 },
      );
      expect(byName(checks, 'Mattermost channel')).toMatchObject({
        status: 'fail',
        detail: expect.stringMatching(/may not post in .*cannot see it/),
        fix: expect.stringContaining('/invite @clawpulse-bot'),
      });
      expect(byName(checks, 'Mattermost plugin')).toMatchObject({
        status: 'warn',
        fix: expect.stringContaining('com.clawpulse.livestatus.tar.gz'),
      });
      expect(byName(checks, 'OpenClaw state')).toMatchObject({
        status: 'fail',
        fix: expect.stringContaining('OPENCLAW_STATE_DIR'),
      });
      expect(byName(checks, 'gateway')).toMatchObject({
        status: 'fail',
        detail: expect.stringContaining('scopes not granted: operator.write, operator.admin'),
      });
      // SOURCES=auto: a gateway that is down is a warning (SQLite and files still work) ...
      checks = await collectChecks(
        { ...env, OPENCLAW_GATEWAY_URL: `ws://127.0.0.1:${closedPort}` },
        { timeoutMs: 3000 },
      );
      expect(byName(checks, 'gateway')).toMatchObject({
        status: 'warn',
        fix: expect.stringContaining('openclaw gateway'),
      });
      // ... and a problem when it is the source asked for
      checks = await collectChecks(
        { ...env, SOURCES: 'gateway', OPENCLAW_GATEWAY_URL: `ws://127.0.0.1:${closedPort}` },
        { timeoutMs: 3000 },
      );
      expect(byName(checks, 'gateway')).toMatchObject({
        status: 'fail',
        detail: expect.stringContaining('not reachable'),
      });
    } finally {
      await other.close();
    }
  });

  it('checks the outputs set by URL: one that answers, and one where nothing listens', async () => {
    const hook = await startReceiver();
    try {
      const dead = await deadUrl();
      const checks = await collectChecks(
        {
          ...env,
          DISPATCH_WEBHOOK_URL: hook.url,
          LOKI_PUSH_URL: `http://user:secret-pw@${new URL(dead).host}/loki/api/v1/push`,
        },
        { timeoutMs: 3000 },
      );
      expect(byName(checks, 'dispatch webhook')).toMatchObject({ status: 'ok' });
      const loki = byName(checks, 'Loki');
      expect(loki).toMatchObject({ status: 'fail', fix: expect.stringContaining('LOKI_PUSH_URL') });
      expect(loki.detail).toContain('ECONNREFUSED');
      expect(loki.detail).not.toContain('secret-pw');
      // not configured: not checked
      expect(checks.some((c) => c.name.startsWith('OTLP'))).toBe(false);
    } finally {
      await hook.close();
    }
  });

  it('reports a bad configuration and an old Node', async () => {
    const checks = await collectChecks({ ...env, THROTTLE_MS: 'soon' });
    expect(byName(checks, 'configuration')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('THROTTLE_MS'),
    });
    expect(checkNode('18.20.1')).toMatchObject({ status: 'fail', fix: expect.stringContaining('Node 24') });
    expect(checkNode('24.16.0')).toMatchObject({ status: 'ok', detail: '24.16.0' });
  });

  it('exits 1 on a problem and 0 without, as a command', async () => {
    // async: the fakes live in this process and must keep answering while the command runs
    const run = (extra: NodeJS.ProcessEnv, args: string[] = []) =>
      new Promise<{ status: number | null; stdout: string }>((resolve) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', MAIN, 'doctor', ...args],
          { encoding: 'utf8', env: { ...env, ...extra }, timeout: 60_000 },
          (err, stdout) => resolve({ status: err ? ((err as { code?: number }).code ?? null) : 0, stdout }),
        );
      });
    const good = await run({}, ['--json']);
    expect(JSON.parse(good.stdout)).toMatchObject({ ok: true });
    expect(good.status).toBe(0);
    const bad = await run({ MM_TOKEN: 'nope' });
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/FAIL {2}Mattermost/);
    expect(bad.stdout).toMatch(/1 problem, /);
  }, 90_000);
});

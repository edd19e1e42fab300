/**
 * OPENCLAW_GATEWAYS in the real daemon: two fake gateways (real WebSocket servers, each with its
 * own token) play a run on the same session key with the same run id. The daemon keeps them as
 * two sessions, each with its gateway; /health has a source per gateway; a steer reaches the
 * session's own gateway with the OpenClaw key; `clawpulse sessions --gateway` filters; one
 * gateway going away leaves the other live and followed.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.js';
import { type Daemon, startDaemon } from '../src/daemon/daemon.js';
import { silentLogger } from '../src/infra/logger.js';
import {
  type FakeConn,
  type FakeGateway,
  startFakeGateway,
} from '../src/ingest/gateway/fake-gateway.helper.js';
import type { StatusLine } from '../src/model/session.js';
import { tempDir } from '../src/test-support/temp-dir.js';

const run = promisify(execFile);
const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;
const KEY = 'agent:main:main';
const text = (l: StatusLine) => ('text' in l ? l.text : '');

let daemon: Daemon | undefined;
const gateways: FakeGateway[] = [];
afterEach(async () => {
  await daemon?.stop('test');
  for (const g of gateways.splice(0)) await g.close();
  daemon = undefined;
});

/** the frames OpenClaw sends for one run: lifecycle start, the reply, lifecycle end */
function playRun(c: FakeConn, runId: string, reply: string, ts = Date.now()): void {
  const agent = (seq: number, stream: string, data: Record<string, unknown>) =>
    c.send({
      type: 'event',
      event: 'agent',
      payload: { runId, sessionKey: KEY, agentId: 'main', stream, data, seq, ts: ts + seq },
    });
  agent(1, 'lifecycle', { phase: 'start', startedAt: ts });
  agent(2, 'assistant', { text: reply, delta: reply });
  agent(3, 'lifecycle', { phase: 'end', startedAt: ts, endedAt: ts + 3 });
}

/** a gateway that plays one run on KEY once the daemon subscribed, and records its chat.send */
async function gatewayWith(token: string, reply: string, ts: number) {
  const sends: Array<Record<string, unknown>> = [];
  const g = await startFakeGateway({
    token,
    // the same run id on both gateways: only the scope keeps the two runs apart
    onLive: (c) => setTimeout(() => playRun(c, 'run-1', reply, ts), 20),
    methods: {
      'chat.send': (p, _c, r) => {
        sends.push(p as Record<string, unknown>);
        r.ok({ runId: 'steer-1', status: 'started' });
      },
    },
  });
  gateways.push(g);
  return { g, sends };
}

describe('several gateways from one clawpulse', () => {
  it('same key on two gateways = two sessions; per-gateway health; steer routed; a dead gateway leaves the other', async () => {
    const ts = Date.now() - 10_000;
    const a = await gatewayWith('token-a', 'hello from a', ts);
    const b = await gatewayWith('token-b', 'hello from b', ts);
    const root = tempDir('clawpulse-gateways-');
    const home = join(root, 'clawpulse');
    mkdirSync(home, { recursive: true });
    mkdirSync(join(root, 'openclaw'));
    const env = {
      HOME: root,
      OPENCLAW_STATE_DIR: join(root, 'openclaw'),
      CLAWPULSE_HOME: home,
      SOURCES: 'gateway',
      OPENCLAW_GATEWAYS: `alpha=${a.g.url},beta.2=${b.g.url}`,
      OPENCLAW_GATEWAY_TOKEN_ALPHA: 'token-a',
      OPENCLAW_GATEWAY_TOKEN_BETA_2: 'token-b',
      HEALTH_PORT: 'any',
      LOG_LEVEL: 'silent',
    };
    daemon = await startDaemon(loadConfig(env), { logger: silentLogger, tickMs: 50 });
    const d = daemon;
    const state = (id: string) => d.health().sources.find((s) => s.id === id)?.state;
    await expect
      .poll(() => [state('gateway:alpha'), state('gateway:beta.2')], { timeout: 10_000 })
      .toEqual(['live', 'live']);
    // the local default gateway (nothing set it, nothing listens) waits without degrading the daemon
    expect(state('gateway')).toBe('standby');
    expect(a.g.conns[0]?.connectParams?.auth).toMatchObject({ token: 'token-a' });
    expect(b.g.conns[0]?.connectParams?.auth).toMatchObject({ token: 'token-b' });

    const session = (k: string) => d.pipeline.tracker.get(k);
    await expect
      .poll(() => [session(`alpha|${KEY}`)?.status, session(`beta.2|${KEY}`)?.status])
      .not.toContain(undefined);
    await expect.poll(() => session(`beta.2|${KEY}`)?.lines.map(text)).toContain('hello from b');
    expect(session(`alpha|${KEY}`)).toMatchObject({ gateway: 'alpha', agentId: 'main' });
    expect(session(`beta.2|${KEY}`)).toMatchObject({ gateway: 'beta.2', agentId: 'main' });
    expect(session(`alpha|${KEY}`)?.lines.map(text)).toContain('hello from a');
    expect(session(`alpha|${KEY}`)?.lines.map(text)).not.toContain('hello from b');
    expect(session(KEY)).toBeUndefined();

    // /health: one row per gateway, named
    const health = (await (await fetch(`http://127.0.0.1:${d.port}/health`)).json()) as {
      status: string;
      sources: Array<{ id: string; state: string; inputs?: number }>;
    };
    expect(
      health.sources
        .map((s) => s.id)
        .filter((id) => id.startsWith('gateway'))
        .sort(),
    ).toEqual(['gateway', 'gateway:alpha', 'gateway:beta.2']);
    expect(health.status).not.toBe('down');

    // steer: to beta.2 only, with the OpenClaw key
    const base = `http://127.0.0.1:${d.port}/api/sessions/${encodeURIComponent(`beta.2|${KEY}`)}`;
    const steer = await fetch(`${base}/steer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'also add a test' }),
    });
    expect(steer.status).toBe(200);
    expect(b.sends).toEqual([expect.objectContaining({ sessionKey: KEY, message: 'also add a test' })]);
    expect(a.sends).toEqual([]);
    // a scope no gateway is followed for is refused, not sent to the default gateway
    const other = await fetch(
      `http://127.0.0.1:${d.port}/api/sessions/${encodeURIComponent(`gamma|${KEY}`)}/steer`,
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"message":"x"}' },
    );
    expect(other.status).toBe(409);
    expect(((await other.json()) as { error: string }).error).toMatch(/gamma.*OPENCLAW_GATEWAYS/);

    // the CLI lists the gateway and filters by it (through the daemon's API)
    writeFileSync(join(home, 'clawpulse.pid'), String(process.pid));
    const cliEnv = { ...process.env, ...env, HEALTH_PORT: String(d.port) };
    const list = await run(process.execPath, ['--import', 'tsx', MAIN, 'sessions', '--gateway', 'beta.2'], {
      env: cliEnv,
    });
    const rows = list.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^STATUS\s+GATEWAY\s+SESSION/);
    expect(rows.slice(1)).toHaveLength(1);
    expect(rows[1]).toMatch(/\bbeta\.2\s+beta\.2\|agent:main:main\b/);

    // alpha goes away: its source is down, beta.2 stays live and followed
    await a.g.close();
    await expect.poll(() => state('gateway:alpha'), { timeout: 10_000 }).toBe('down');
    expect(state('gateway:beta.2')).toBe('live');
    const live = b.g.conns.find((c) => c.live);
    if (!live) throw new Error('no live connection on beta.2');
    playRun(live, 'run-2', 'still here', Date.now());
    await expect.poll(() => session(`beta.2|${KEY}`)?.lines.map(text)).toContain('still here');
  }, 60_000);
});

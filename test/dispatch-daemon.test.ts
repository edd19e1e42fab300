/**
 * Dispatch through the real daemon: the CLI (a real process) enqueues a label against the fake
 * gateway, the daemon follows the run over the gateway connection it shares with the gateway
 * source, marks the label done, delivers the reply once through `send`, tells a webhook, and
 * steers and aborts through the HTTP API. /health and /metrics count it.
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
import { openLedgerFile } from '../src/store/sqlite-ledger.js';
import { tempDir } from '../src/test-support/temp-dir.js';
import { type Receiver, startReceiver } from './support/http-receiver.js';

const run = promisify(execFile);
const TOKEN = 'dispatch-test-token';
const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;

let daemon: Daemon | undefined;
let gateway: FakeGateway | undefined;
let hook: Receiver | undefined;
afterEach(async () => {
  await daemon?.stop('test');
  await gateway?.close();
  await hook?.close();
  daemon = gateway = hook = undefined;
});

/** the frames OpenClaw sends for one run: lifecycle start, the reply, lifecycle end */
function playRun(c: FakeConn, sessionKey: string, runId: string, reply: string): void {
  const ts = Date.now();
  const agent = (seq: number, stream: string, data: Record<string, unknown>) =>
    c.send({
      type: 'event',
      event: 'agent',
      payload: { runId, sessionKey, agentId: 'main', stream, data, seq, ts: ts + seq },
    });
  agent(1, 'lifecycle', { phase: 'start', startedAt: ts });
  agent(2, 'assistant', { text: reply, delta: reply });
  c.send({
    type: 'event',
    event: 'chat',
    payload: {
      runId,
      sessionKey,
      agentId: 'main',
      seq: 3,
      state: 'final',
      stopReason: 'stop',
      message: { role: 'assistant', content: [{ type: 'text', text: reply }], timestamp: ts + 3 },
    },
  });
  agent(4, 'lifecycle', { phase: 'end', startedAt: ts, endedAt: ts + 4 });
}

describe('dispatch in the daemon', () => {
  it('enqueue (CLI) → run followed live → done, delivered once, webhook told; steer and abort over HTTP', async () => {
    const root = tempDir('clawpulse-dispatch-daemon-');
    const home = join(root, 'clawpulse');
    mkdirSync(home, { recursive: true });
    hook = await startReceiver();
    const sends: Array<Record<string, unknown>> = [];
    const chatSends: Array<Record<string, unknown>> = [];
    gateway = await startFakeGateway({
      token: TOKEN,
      methods: {
        'sessions.patch': (_p, _c, reply) => reply.ok({ ok: true }),
        // enqueue starts the run with chat.send (a steer has queueMode "steer")
        'chat.send': (p, c, reply) => {
          chatSends.push(p as Record<string, unknown>);
          const runId = String(p.idempotencyKey);
          reply.ok({ runId, status: 'started' });
          if (p.queueMode === 'steer') return;
          // the daemon's own connection is the live one that subscribed
          const live = gateway?.conns.find((x) => x.live && x !== c) ?? c;
          setTimeout(() => playRun(live, String(p.sessionKey), runId, 'the answer is 42'), 50);
        },
        'sessions.abort': (_p, _c, reply) => reply.ok({ ok: true, aborted: true }),
        send: (p, _c, reply) => {
          sends.push(p as Record<string, unknown>);
          reply.ok({ ok: true, messageId: 'm1' });
        },
      },
    });
    const env = {
      HOME: root,
      OPENCLAW_STATE_DIR: join(root, 'openclaw'),
      CLAWPULSE_HOME: home,
      SOURCES: 'gateway',
      OPENCLAW_GATEWAY_URL: gateway.url,
      OPENCLAW_GATEWAY_TOKEN: TOKEN,
      HEALTH_PORT: 'any',
      LOG_LEVEL: 'silent',
      DISPATCH_WEBHOOK_URL: hook.url,
      DISPATCH_HOST: 'ci-host',
    };
    daemon = await startDaemon(loadConfig(env), { logger: silentLogger, tickMs: 50 });
    const d = daemon;
    await expect
      .poll(() => d.health().sources.find((s) => s.id === 'gateway')?.state, { timeout: 10_000 })
      .toBe('live');
    // what `clawpulse start` does: the pid file the CLI looks for, with the port it answers on
    writeFileSync(join(home, 'clawpulse.pid'), String(process.pid));

    const cliEnv = { ...process.env, ...env, HEALTH_PORT: String(d.port) };
    const { stdout } = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        MAIN,
        'dispatch',
        'enqueue',
        '--label',
        'ticket-42',
        '--message',
        'fix it',
        '--deliver-to',
        '777',
        '--json',
      ],
      { env: cliEnv },
    );
    const out = JSON.parse(stdout) as { ok: boolean; sessionKey: string; runId: string };
    expect(out.ok).toBe(true);
    expect(out.sessionKey).toMatch(/^agent:main:subagent:/);

    await expect.poll(() => sends.length, { timeout: 10_000 }).toBe(1);
    expect(sends[0]).toMatchObject({
      to: '777',
      channel: 'telegram',
      message: '[ticket-42] the answer is 42',
    });
    const { ledger, close } = openLedgerFile(d.store.stats().path);
    expect(ledger.get('ticket-42')).toMatchObject({
      status: 'done',
      runId: out.runId,
      delivery: { state: 'sent' },
    });
    close();
    expect(d.pipeline.tracker.get(out.sessionKey)?.label).toBe('ticket-42');
    await expect
      .poll(() => hook?.requests.map((r) => JSON.parse(r.body.toString()).event), { timeout: 10_000 })
      .toEqual(['dispatch.started', 'dispatch.finished', 'dispatch.delivered']);
    expect(JSON.parse(hook.requests[1]?.body.toString() ?? '{}')).toMatchObject({
      label: 'ticket-42',
      host: 'ci-host',
      sessionKey: out.sessionKey,
    });

    // the dispatch status of a finished label comes from the daemon's model
    const status = await run(
      process.execPath,
      ['--import', 'tsx', MAIN, 'dispatch', 'status', '--label', 'ticket-42', '--json'],
      { env: cliEnv },
    );
    expect(JSON.parse(status.stdout)).toMatchObject({ status: 'done', live: { from: 'daemon' } });

    // steer and abort over the API
    const base = `http://127.0.0.1:${d.port}/api/sessions/${encodeURIComponent(out.sessionKey)}`;
    const steer = await fetch(`${base}/steer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'also add a test' }),
    });
    expect(steer.status).toBe(200);
    expect(chatSends.at(-1)).toMatchObject({
      sessionKey: out.sessionKey,
      message: 'also add a test',
      queueMode: 'steer',
    });
    const abort = await fetch(`${base}/abort`, { method: 'POST' });
    expect(await abort.json()).toMatchObject({ ok: true, method: 'sessions.abort', aborted: true });

    const health = (await (await fetch(`http://127.0.0.1:${d.port}/health`)).json()) as {
      dispatch: { deliveries: number };
      sinks: Array<{ id: string }>;
    };
    expect(health.dispatch.deliveries).toBe(1);
    expect(health.sinks.map((s) => s.id)).toContain('webhook');
    const metrics = await (await fetch(`http://127.0.0.1:${d.port}/metrics`)).text();
    expect(metrics).toMatch(/^clawpulse_dispatch_deliveries_total 1$/m);
    expect(metrics).toMatch(/clawpulse_lifecycle_events_total\{[^}]*outcome="sent"[^}]*\} 3/);
  }, 60_000);
});

/**
 * OPENCLAW_GATEWAYS against the real OpenClaw 2026.9.6: two gateways on two ports (each its own
 * HOME, state dir and token), one clawpulse daemon (in-process, SOURCES=gateway, the state dir it
 * would read empty) following both by name. The same session key runs on both, a different
 * scenario on each so the attribution is checked by what happened, not by what we named:
 * gateway `alpha` runs `[conf:tool]` (an exec call, two model calls), gateway `beta` runs
 * `[conf:reply]` (a text answer, one model call). The daemon must hold two sessions, each with
 * its gateway, its own tools, text and tokens; /health a live source per gateway.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { type Daemon, startDaemon } from '../../src/daemon/daemon.js';
import { createLogger } from '../../src/infra/logger.js';
import type { SessionState, StatusLine } from '../../src/model/session.js';
import { type FakeModel, FIXED_USAGE, startFakeModel } from './fake-model.js';
import { ensureInstalled } from './install.js';
import {
  cleanupOutsideTemp,
  createOpenclawEnv,
  type GatewayHandle,
  type OpenclawEnv,
  runAgent,
  startGateway,
} from './run-openclaw.js';

const VERSION = '2026.9.6';
const KEY = 'agent:main:conf-fleet';
const text = (l: StatusLine) => ('text' in l ? l.text : '');

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe(`OPENCLAW_GATEWAYS: two OpenClaw ${VERSION} gateways, one clawpulse`, () => {
  let root: string;
  let fake: FakeModel | undefined;
  const ocs: Record<'alpha' | 'beta', OpenclawEnv | undefined> = { alpha: undefined, beta: undefined };
  const gateways: GatewayHandle[] = [];
  let daemon: Daemon | undefined;
  let tmpOpenclawExisted = false;
  let failed = false;

  beforeEach((ctx) => {
    ctx.onTestFailed(() => {
      failed = true;
    });
  });

  beforeAll(async () => {
    const installed = await ensureInstalled(() => {});
    root = fs.mkdtempSync(
      path.join(process.env.CLAWPULSE_CONFORMANCE_TMP ?? os.tmpdir(), 'clawpulse-fleet-'),
    );
    console.log(`[gateways] run dir ${root}`);
    fake = await startFakeModel({ logFile: path.join(root, 'model-requests.jsonl') });
    tmpOpenclawExisted = fs.existsSync('/tmp/openclaw');
    for (const name of ['alpha', 'beta'] as const) {
      ocs[name] = await createOpenclawEnv({
        version: VERSION,
        installed,
        modelBaseUrl: fake.baseUrl,
        root: path.join(root, name),
      });
    }
    const [a, b] = [ocs.alpha, ocs.beta] as OpenclawEnv[];
    if (!a || !b) throw new Error('no OpenClaw env');
    const t0 = Date.now();
    gateways.push(...(await Promise.all([startGateway(a), startGateway(b)])));
    console.log(`[gateways] both gateways up in ${Date.now() - t0} ms (ports ${a.port}, ${b.port})`);

    const home = path.join(root, 'clawpulse');
    const emptyState = path.join(root, 'no-local-openclaw');
    fs.mkdirSync(home, { recursive: true });
    fs.mkdirSync(emptyState, { recursive: true });
    const env: NodeJS.ProcessEnv = {
      HOME: root,
      CLAWPULSE_HOME: home,
      OPENCLAW_STATE_DIR: emptyState,
      SOURCES: 'gateway',
      OPENCLAW_GATEWAYS: `alpha=${a.gatewayUrl},beta=${b.gatewayUrl}`,
      OPENCLAW_GATEWAY_TOKEN_ALPHA: a.token,
      OPENCLAW_GATEWAY_TOKEN_BETA: b.token,
      HEALTH_PORT: 'any',
    };
    const logger = createLogger(
      process.env.CLAWPULSE_CONFORMANCE_LOG_LEVEL ?? 'debug',
      pino.destination({ dest: path.join(root, 'clawpulse-daemon.log'), sync: true }),
    );
    daemon = await startDaemon(loadConfig(env), { logger, tickMs: 250 });
    const d = daemon;
    await until(
      'both named gateway sources to be live',
      () =>
        ['gateway:alpha', 'gateway:beta'].every(
          (id) => d.health().sources.find((s) => s.id === id)?.state === 'live',
        ),
      60_000,
    );
  }, 400_000);

  afterAll(async () => {
    await daemon?.stop('test');
    for (const g of gateways) await g.stop();
    await fake?.close();
    for (const oc of Object.values(ocs)) if (oc) cleanupOutsideTemp(oc, tmpOpenclawExisted);
    if (!root) return;
    if (failed || process.env.CLAWPULSE_CONFORMANCE_KEEP === '1')
      console.log(`[gateways] artifacts kept in ${root}`);
    else fs.rmSync(root, { recursive: true, force: true });
  }, 60_000);

  it('the same session key on each gateway: two sessions, each attributed to its gateway', async () => {
    const d = daemon as Daemon;
    const [a, b] = [ocs.alpha, ocs.beta] as OpenclawEnv[];
    if (!a || !b) throw new Error('no OpenClaw env');
    const [ra, rb] = await Promise.all([
      runAgent(a, {
        message: '[conf:tool] on the first gateway',
        sessionKey: KEY,
        timeoutSec: 150,
        name: 'alpha',
      }),
      runAgent(b, {
        message: '[conf:reply] on the second gateway',
        sessionKey: KEY,
        timeoutSec: 150,
        name: 'beta',
      }),
    ]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);

    const session = (k: string): SessionState | undefined => d.pipeline.tracker.get(k);
    const alpha = await until('alpha|… finished with its answer', () => {
      const s = session(`alpha|${KEY}`);
      return s && !s.runOpen && s.lines.some((l) => text(l).startsWith('Done with tool')) && s;
    });
    const beta = await until('beta|… finished with its answer', () => {
      const s = session(`beta|${KEY}`);
      return s && !s.runOpen && s.lines.some((l) => text(l).startsWith('Conformance reply')) && s;
    });

    // attributed by what ran where: the exec call and its text on alpha, the reply on beta
    expect(alpha.gateway).toBe('alpha');
    expect(beta.gateway).toBe('beta');
    expect(alpha.tools.map((t) => t.name)).toContain('exec');
    expect(beta.tools).toEqual([]);
    expect(alpha.lines.map(text).join('\n')).not.toContain('Conformance reply');
    expect(beta.lines.map(text).join('\n')).not.toContain('Done with tool');
    // tokens as the fake model counted them per conversation: two calls on alpha, one on beta
    const calls = (scenario: string) =>
      (fake as FakeModel).requests().filter((r) => r.scenario === scenario && r.decision.kind !== 'error')
        .length;
    expect(calls('tool')).toBe(2);
    expect(calls('reply')).toBe(1);
    expect(alpha.tokens.input).toBe(2 * FIXED_USAGE.prompt_tokens);
    expect(beta.tokens.input).toBe(FIXED_USAGE.prompt_tokens);

    // nothing under the plain key, and every session of the model is on one of the two gateways
    expect(session(KEY)).toBeUndefined();
    for (const s of d.pipeline.tracker.all()) {
      expect(['alpha', 'beta']).toContain(s.gateway);
      expect(s.key.startsWith(`${s.gateway}|agent:`)).toBe(true);
    }
    // stored as two sessions too (the history the dashboard and `sessions` read)
    const stored = (k: string) => d.store.readSession(k).map((x) => x.event);
    expect(stored(`alpha|${KEY}`).every((e) => e.gateway === 'alpha')).toBe(true);
    expect(stored(`beta|${KEY}`).every((e) => e.gateway === 'beta')).toBe(true);
    expect(stored(`alpha|${KEY}`).some((e) => e.type === 'tool.call')).toBe(true);
    expect(stored(`beta|${KEY}`).some((e) => e.type === 'tool.call')).toBe(false);

    // one /health row per gateway, both live; the local default gateway (not set) is standby
    const health = (await (await fetch(`http://127.0.0.1:${d.port}/health`)).json()) as {
      sources: Array<{ id: string; state: string; detail?: string }>;
    };
    const row = (id: string) => health.sources.find((s) => s.id === id);
    expect(row('gateway:alpha')?.state).toBe('live');
    expect(row('gateway:beta')?.state).toBe('live');
    expect(row('gateway:alpha')?.detail).toContain(VERSION);
    expect(row('gateway')?.state).toBe('standby');
  }, 300_000);

  it('a steer through the API reaches the session on its own gateway, with the OpenClaw key', async () => {
    const d = daemon as Daemon;
    const model = fake as FakeModel;
    const steerText = `steer for the second gateway ${Date.now()}`;
    const before = d.pipeline.tracker.get(`alpha|${KEY}`)?.lines.length;
    const res = await fetch(
      `http://127.0.0.1:${d.port}/api/sessions/${encodeURIComponent(`beta|${KEY}`)}/steer`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message: steerText }),
      },
    );
    expect(res.status, await res.clone().text()).toBe(200);
    // the model sees it in beta's conversation (the one that began with the reply scenario)
    const req = await until('the steer to reach the model', () =>
      model.requests().find((r) => r.lastUserText.includes(steerText)),
    );
    expect(req.firstUserText).toContain('on the second gateway');
    // and the daemon shows the turn on beta's session only
    await until('the steered turn on beta|…', () =>
      d.pipeline.tracker.get(`beta|${KEY}`)?.lines.some((l) => text(l) === 'Noted.'),
    );
    expect(d.pipeline.tracker.get(`alpha|${KEY}`)?.lines.length).toBe(before);
  }, 120_000);
});

/**
 * `clawpulse dispatch` as scripts run it: real processes (node + tsx) against the fake gateway
 * WebSocket server, a temp store and OpenClaw state dir, no daemon. Exit codes, the --json
 * objects and the human text. Argument checks that never open anything run in-process.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runDispatch } from '../src/cli/dispatch.js';
import { type FakeGateway, startFakeGateway } from '../src/ingest/gateway/fake-gateway.helper.js';
import { tempDir } from '../src/test-support/temp-dir.js';

const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;
const DISPATCH_MAIN = new URL('../src/cli/dispatch-main.ts', import.meta.url).pathname;
const TOKEN = 'test-token-1';

interface Run {
  code: number | null;
  out: string;
  err: string;
}

/** a process of ours, async: the fake gateway answers from this process's event loop */
function spawn(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', script, ...args],
      { env, encoding: 'utf8', timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, out: stdout, err: stderr });
      },
    );
  });
}

/** `base` with `over` applied (undefined removes a variable) */
function withEnv(base: NodeJS.ProcessEnv, over: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** this process's environment without what would point the CLI at a real setup */
function cleanEnv(over: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(OPENCLAW_|CLAWPULSE_|DISPATCH_|LOKI_|PID_FILE|DASHBOARD_TOKEN|HEALTH_PORT)/.test(k)) env[k] = v;
  return withEnv(env, over);
}

let gw: FakeGateway;
let env: NodeJS.ProcessEnv;
let stateDir: string;
let runNo = 0;
const cli = (args: string[], over: Record<string, string | undefined> = {}) =>
  spawn(MAIN, ['dispatch', ...args], withEnv(env, over));

/** what the fake gateway was asked (all connections) */
const asked = (method: string) =>
  gw.conns.flatMap((c) => c.requests).filter((r) => r.method === method) as Array<{
    method: string;
    params: Record<string, unknown>;
  }>;

beforeAll(async () => {
  gw = await startFakeGateway({
    token: TOKEN,
    methods: {
      'sessions.patch': (p, _c, reply) => reply.ok({ ok: true, key: p.key }),
      agent: (p, _c, reply) =>
        reply.ok({ runId: `run-${++runNo}`, sessionKey: p.sessionKey, status: 'accepted' }),
    },
  });
  const root = tempDir('clawpulse-dispatch-cli-');
  stateDir = join(root, 'openclaw');
  mkdirSync(stateDir, { recursive: true });
  env = cleanEnv({
    LOG_LEVEL: 'silent',
    CLAWPULSE_HOME: join(root, 'home'),
    CLAWPULSE_DB: join(root, 'home', 'clawpulse.sqlite'),
    PID_FILE: join(root, 'home', 'clawpulse.pid'),
    OPENCLAW_STATE_DIR: stateDir,
    OPENCLAW_GATEWAY_URL: gw.url,
    OPENCLAW_GATEWAY_TOKEN: TOKEN,
  });
});

afterAll(async () => {
  await gw?.close();
});

// one ledger for the file: later tests see what earlier ones enqueued
describe('clawpulse dispatch (processes)', () => {
  it('enqueue --json prints one JSON object with the label, session key and run id', async () => {
    const r = await cli(['enqueue', '--label', 't1', '--message', 'hi', '--no-monitor', '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const v = JSON.parse(r.out) as Record<string, unknown>;
    expect(v).toMatchObject({ ok: true, label: 't1', mode: 'fresh', agent: 'main', status: 'accepted' });
    expect(v.sessionKey).toMatch(/^agent:main:subagent:[0-9a-f-]{36}$/);
    expect(v.runId).toMatch(/^run-\d+$/);
    const agent = asked('agent').find((a) => a.params.sessionKey === v.sessionKey);
    expect(agent?.params).toMatchObject({ deliver: false, timeout: 300 });
    expect(asked('sessions.patch')).toHaveLength(0);
  });

  it('enqueue prints human text by default; --deliver-to passes without a daemon only with --no-monitor', async () => {
    const refused = await cli(['enqueue', '--label', 't2', '--message', 'hi', '--deliver-to', '12345']);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/no clawpulse daemon is running/);
    expect(refused.err).toContain('--no-monitor');
    expect(refused.out).toBe('');

    const r = await cli([
      'enqueue',
      '--label',
      't2',
      '--message',
      'hi',
      '--deliver-to',
      '12345',
      '--no-monitor',
      '--model',
      'fake/m',
      '--thinking',
      'high',
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /^dispatched t2 \(fresh\)\n {2}session agent:main:subagent:\S+\n {2}run {5}run-\d+\n/,
    );
    expect(asked('sessions.patch').at(-1)?.params).toMatchObject({ model: 'fake/m', thinkingLevel: 'high' });
  });

  it('exits 2 on a missing --label and on --mode bogus, calling nothing', async () => {
    const before = gw.conns.length;
    const [noLabel, bogus] = await Promise.all([
      cli(['enqueue', '--message', 'hi']),
      cli(['enqueue', '--label', 'x', '--message', 'hi', '--mode', 'bogus']),
    ]);
    expect(noLabel.code).toBe(2);
    expect(noLabel.err).toContain('--label');
    expect(bogus.code).toBe(2);
    expect(bogus.err).toContain('bogus');
    expect(gw.conns.length).toBe(before);
  });

  it('import labels.json, then list --json prints the labels.json shape (and clawpulse-dispatch the same)', async () => {
    const file = join(tempDir('clawpulse-labels-'), 'labels.json');
    writeFileSync(
      file,
      JSON.stringify({
        'old-ticket': {
          sessionKey: 'agent:main:subagent:old',
          runId: 'r-old',
          agent: 'main',
          mode: 'fresh',
          model: null,
          thinking: null,
          spawnedAt: '2025-01-01T09:00:00.000Z',
          status: 'done',
          summary: 'did it',
          error: null,
          updatedAt: '2025-01-01T10:00:00.000Z',
        },
        t1: {
          sessionKey: 'agent:main:subagent:not-mine',
          status: 'done',
          updatedAt: '2025-01-01T10:00:00.000Z',
        },
      }),
    );
    const imported = await cli(['import', file]);
    expect(imported.code).toBe(0);
    expect(imported.out).toContain('imported 1 labels');

    const [viaMain, viaBin] = await Promise.all([
      cli(['list', '--json']),
      spawn(DISPATCH_MAIN, ['list', '--json'], env),
    ]);
    expect(viaMain.code).toBe(0);
    const labels = JSON.parse(viaMain.out) as Record<
      string,
      { sessionKey: string; status: string; summary: string }
    >;
    // most recent first: t2 and t1 from this run, then the imported one; t1 kept its own session
    expect(Object.keys(labels)).toEqual(['t2', 't1', 'old-ticket']);
    expect(labels['old-ticket']).toMatchObject({
      sessionKey: 'agent:main:subagent:old',
      status: 'done',
      summary: 'did it',
    });
    expect(labels.t1?.sessionKey).toMatch(/^agent:main:subagent:[0-9a-f-]{36}$/);
    expect(labels.t2).toMatchObject({ status: 'running', deliverTo: '12345', monitor: false });
    expect(viaBin).toEqual(viaMain);
  });

  it('stuck prints nothing and exits 0 when none is stuck; status of an unknown label exits 1', async () => {
    const [stuck, status] = await Promise.all([cli(['stuck']), cli(['status', '--label', 'nope'])]);
    expect(stuck).toEqual({ code: 0, out: '', err: '' });
    expect(status.code).toBe(1);
    expect(status.err).toContain('no label "nope"');
  });

  it('a wrong gateway token is a clear error naming where the token came from (exit 1)', async () => {
    writeFileSync(join(stateDir, 'openclaw.json'), '{ gateway: { auth: { token: "stale-token" } } }');
    const r = await cli(['enqueue', '--label', 'tok', '--message', 'hi', '--no-monitor'], {
      OPENCLAW_GATEWAY_TOKEN: undefined,
    });
    expect(r.code).toBe(1);
    expect(r.err).toContain(gw.url);
    expect(r.err).toContain(`gateway.auth.token in ${join(stateDir, 'openclaw.json')}`);
    expect(r.err).not.toContain('stale-token');
    expect(r.err).not.toMatch(/\n\s+at /); // a message, not a stack trace
  });
});

describe('clawpulse dispatch arguments (in-process)', () => {
  async function run(argv: string[]) {
    const err: string[] = [];
    const out: string[] = [];
    const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
      err.push(String(s));
      return true;
    });
    const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      out.push(String(s));
      return true;
    });
    try {
      const code = await runDispatch(argv);
      return { code, err: err.join(''), out: out.join('') };
    } finally {
      e.mockRestore();
      o.mockRestore();
    }
  }

  it('a bad number is a bad argument with a message, not a silent exit 2', async () => {
    for (const argv of [
      ['enqueue', '--label', 'x', '--message', 'y', '--timeout', 'soon'],
      ['stuck', '--threshold-min', '-3'],
      ['list', '--limit', '1.5'],
    ]) {
      const r = await run(argv);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/whole number/);
    }
  });

  it('no command or an unknown one exits 2 with the usage, as the original; --help exits 0', async () => {
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.err + none.out).toContain('enqueue');
    expect((await run(['bogus'])).code).toBe(2);
    expect((await run(['--help'])).code).toBe(0);
    expect((await run(['done', '--label', 'x'])).code).toBe(2);
    expect((await run(['list', '--status', 'finished'])).code).toBe(2);
  });
});

/**
 * Dispatch against the real OpenClaw 2026.9.6 gateway and the scripted fake model (installed
 * once into .cache/conformance, as the conformance suite does):
 *
 *   enqueue → run started   clawpulse's `enqueue` (ledger writes, patch-free chat.send) until
 *                           the model gets the run's first request, against a bare `chat.send`
 *                           on an already open connection in the same run (the floor: what
 *                           OpenClaw itself takes), and `clawpulse dispatch enqueue` as a CLI
 *                           process (Node + tsx start-up included)
 *   steer → model sees it   a steer into a run whose model answer is held: the gateway's
 *                           accept, and after the held answer is let go, the model's next
 *                           request carrying the steer (OpenClaw injects it at the run's next
 *                           model call), against the same for a bare chat.send steer
 * Medians of ROUNDS, and their ratios to the bare calls.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { enqueue } from '../src/dispatch/enqueue.js';
import { steerSession } from '../src/dispatch/gateway-ops.js';
import { createGatewayConnection, type GatewayConnection } from '../src/gateway/connection.js';
import { silentLogger } from '../src/infra/logger.js';
import { openLedgerFile } from '../src/store/sqlite-ledger.js';
import { type FakeModel, startFakeModel } from '../test/conformance/fake-model.js';
import { ensureInstalled } from '../test/conformance/install.js';
import { cleanupOutsideTemp, createOpenclawEnv, startGateway } from '../test/conformance/run-openclaw.js';

const execFileP = promisify(execFile);
const ROUNDS = Number(process.env.DISPATCH_BENCH_ROUNDS) || 5;
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

async function until<T>(fn: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** when the model first got a request whose conversation holds `needle` (epoch ms) */
const firstRequest = (fake: FakeModel, needle: string) => () =>
  fake.requests().find((q) => q.userTexts.some((t) => t.includes(needle)))?.t;

export async function run(): Promise<Record<string, number | string>> {
  const installed = await ensureInstalled(() => {});
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'clawpulse-bench-dispatch-'));
  const tmpOpenclawExisted = fs.existsSync('/tmp/openclaw');
  const fake = await startFakeModel({ logFile: path.join(root, 'model-requests.jsonl'), slowHoldMs: 60_000 });
  const oc = await createOpenclawEnv({ version: '2026.9.6', installed, modelBaseUrl: fake.baseUrl, root });
  const gateway = await startGateway(oc);
  const conn: GatewayConnection = createGatewayConnection({
    url: oc.gatewayUrl,
    token: oc.token,
    logger: silentLogger,
    reconnect: false,
  });
  conn.start();
  const db = path.join(root, 'clawpulse', 'clawpulse.sqlite');
  fs.mkdirSync(path.dirname(db), { recursive: true });
  const { ledger, close } = openLedgerFile(db);
  const figures = { bare: [] as number[], enqueue: [] as number[], cli: [] as number[] };
  const steer = {
    bareAccept: [] as number[],
    accept: [] as number[],
    bareSees: [] as number[],
    sees: [] as number[],
  };
  try {
    await conn.ready(30_000);
    // one untimed warm-up turn: the gateway loads its agent runtime on the first
    await conn.request('chat.send', {
      sessionKey: 'agent:main:bench-warm',
      message: '[conf:reply] warm',
      idempotencyKey: randomUUID(),
    });
    await until(firstRequest(fake, 'warm'));
    for (let i = 0; i < ROUNDS; i++) {
      const tag = `b${i}-${randomUUID().slice(0, 8)}`;
      // the floor: a bare chat.send on an open connection
      let t0 = Date.now();
      await conn.request('chat.send', {
        sessionKey: `agent:main:subagent:${randomUUID()}`,
        message: `[Subagent Task]: [conf:reply] bare-${tag}`,
        idempotencyKey: randomUUID(),
        deliver: false,
      });
      figures.bare.push((await until(firstRequest(fake, `bare-${tag}`))) - t0);
      // clawpulse's enqueue on the same connection
      t0 = Date.now();
      await enqueue(
        {
          label: `bench-${tag}`,
          message: `[conf:reply] enq-${tag}`,
          mode: 'fresh',
          agent: 'main',
          timeoutSeconds: 300,
          deliverChannel: 'telegram',
          deliveryMode: 'none',
          monitor: false,
        },
        { gateway: conn, ledger },
      );
      figures.enqueue.push((await until(firstRequest(fake, `enq-${tag}`))) - t0);
      // the CLI as a script calls it
      t0 = Date.now();
      await execFileP(
        process.execPath,
        [
          '--import',
          'tsx',
          MAIN,
          'dispatch',
          'enqueue',
          '--label',
          `cli-${tag}`,
          '--message',
          `[conf:reply] cli-${tag}`,
          '--no-monitor',
          '--json',
        ],
        {
          env: {
            ...process.env,
            OPENCLAW_GATEWAY_URL: oc.gatewayUrl,
            OPENCLAW_GATEWAY_TOKEN: oc.token,
            CLAWPULSE_DB: db,
            CLAWPULSE_HOME: path.dirname(db),
            LOG_LEVEL: 'silent',
          },
        },
      );
      figures.cli.push((await until(firstRequest(fake, `cli-${tag}`))) - t0);
    }
    for (let i = 0; i < ROUNDS; i++) {
      for (const how of ['bare', 'clawpulse'] as const) {
        const tag = `s${i}-${how}-${randomUUID().slice(0, 8)}`;
        const key = `agent:main:subagent:${randomUUID()}`;
        await conn.request('chat.send', {
          sessionKey: key,
          message: `[Subagent Task]: [conf:slow] ${tag}`,
          idempotencyKey: randomUUID(),
          deliver: false,
        });
        await until(() => (fake.held() > 0 ? true : undefined));
        const text = `STEER-${tag}`;
        const t0 = Date.now();
        if (how === 'bare')
          await conn.request('chat.send', {
            sessionKey: key,
            message: text,
            queueMode: 'steer',
            idempotencyKey: randomUUID(),
          });
        else await steerSession(conn, key, text);
        (how === 'bare' ? steer.bareAccept : steer.accept).push(Date.now() - t0);
        const r0 = Date.now();
        fake.release();
        (how === 'bare' ? steer.bareSees : steer.sees).push((await until(firstRequest(fake, text))) - r0);
      }
    }
  } finally {
    await conn.stop();
    close();
    await gateway.stop();
    await fake.close();
    cleanupOutsideTemp(oc, tmpOpenclawExisted);
    fs.rmSync(root, { recursive: true, force: true });
  }
  const m = (xs: number[]) => Math.round(median(xs));
  return {
    rounds: ROUNDS,
    'enqueue → run started, bare chat.send (ms)': m(figures.bare),
    'enqueue → run started, clawpulse enqueue (ms)': m(figures.enqueue),
    'enqueue / bare chat.send': median(figures.enqueue) / median(figures.bare),
    'enqueue → run started, CLI process (ms)': m(figures.cli),
    'steer → gateway accepted, bare chat.send (ms)': m(steer.bareAccept),
    'steer → gateway accepted, clawpulse (ms)': m(steer.accept),
    'steer accept / bare': median(steer.accept) / median(steer.bareAccept),
    'held answer released → model sees steer, bare (ms)': m(steer.bareSees),
    'held answer released → model sees steer, clawpulse (ms)': m(steer.sees),
    'steer seen / bare': median(steer.sees) / median(steer.bareSees),
  };
}

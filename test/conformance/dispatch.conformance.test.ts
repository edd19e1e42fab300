/**
 * `clawpulse dispatch` against the real OpenClaw 2026.9.6 gateway and the scripted fake model.
 *
 * One gateway and one clawpulse daemon (in-process, `startDaemon`, SOURCES=auto) serve every
 * scenario; the dispatch commands run as real CLI processes (`node --import tsx src/cli/main.ts
 * dispatch …`) on the daemon's store, as a user's script would. What each scenario asserts
 * comes from what really happened: the fake model's request log, the ledger, the daemon's model
 * and its lifecycle webhook. The 529 scenario starts first and runs beside the others (OpenClaw
 * spends ~80 s retrying an overloaded model itself before the run fails for clawpulse to retry).
 *
 * Timings go to the console and to `dispatch-report.json` in the run's dir (kept when a test
 * failed, or with CLAWPULSE_CONFORMANCE_KEEP=1).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { type Daemon, startDaemon } from '../../src/daemon/daemon.js';
import { enqueue as enqueueLabel } from '../../src/dispatch/enqueue.js';
import { CLOCK_SKEW_MS } from '../../src/dispatch/verdict.js';
import { createGatewayConnection } from '../../src/gateway/connection.js';
import { createLogger, silentLogger } from '../../src/infra/logger.js';
import type { SessionState } from '../../src/model/session.js';
import type { LabelEntry } from '../../src/store/dispatch-ledger.js';
import { type Receiver, startReceiver } from '../support/http-receiver.js';
import { type FakeModel, type LoggedRequest, RETRY_MARK, startFakeModel } from './fake-model.js';
import { ensureInstalled, type OpenclawVersion } from './install.js';
import {
  cleanupOutsideTemp,
  createOpenclawEnv,
  type GatewayHandle,
  type OpenclawEnv,
  runAgent,
  startGateway,
} from './run-openclaw.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(REPO, 'src/cli/main.ts');
const NONCE = `${process.pid}-${Date.now().toString(36)}`;
/** how long after the gateway accepted a steer the held model answer is let go */
const STEER_SETTLE_MS = 1000;

type J = Record<string, any>;

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  json?: J;
}

/** when the daemon's model first showed a session, and its run open (test-side timestamps) */
interface Seen {
  firstAt: number;
  runOpenAt?: number;
}

interface RunSeen {
  runId: string;
  startedAt?: number;
  endedAt?: number;
  outcome?: string;
}

/** polls until fn() is truthy and returns it */
async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** a gateway connection of the test's own (probes that call the gateway directly) */
async function openConnection(oc: OpenclawEnv) {
  const conn = createGatewayConnection({
    url: oc.gatewayUrl,
    token: oc.token,
    logger: silentLogger,
    reconnect: false,
    name: 'conformance',
  });
  conn.start();
  await conn.ready(15_000);
  return conn;
}

/** one OpenClaw version's gateway, the fake model and a clawpulse daemon, for a describe */
interface Stack {
  readonly version: OpenclawVersion;
  readonly root: string;
  readonly fake: FakeModel;
  readonly oc: OpenclawEnv;
  readonly daemon: Daemon;
  readonly hook: Receiver;
  readonly report: J;
  readonly seen: Map<string, Seen>;
  cli(args: string[]): Promise<CliRun>;
  enqueue(label: string, message: string, ...extra: string[]): Promise<CliRun>;
  entry(label: string): LabelEntry | undefined;
  ledger(): ReturnType<Daemon['store']['ledger']>;
  requestsWith(needle: string): LoggedRequest[];
  runsOf(key: string): RunSeen[];
  fromLedger(e: LabelEntry, modelAt: number): Record<string, number | null>;
  timing(name: string, value: unknown): void;
  settled(label: string, runId?: string): Promise<LabelEntry>;
}

/**
 * Registers the describe's hooks: before all, the fake model, a gateway of `version` and a
 * clawpulse daemon on it; after all, everything stopped by PID and the run's dir removed
 * (kept when a test failed, or with CLAWPULSE_CONFORMANCE_KEEP=1).
 */
function useDispatchStack(version: OpenclawVersion): Stack {
  const VERSION = version;
  let root: string;
  let fake: FakeModel | undefined;
  let oc: OpenclawEnv | undefined;
  let gateway: GatewayHandle | undefined;
  let daemon: Daemon | undefined;
  let hook: Receiver | undefined;
  let cliEnv: NodeJS.ProcessEnv;
  let tmpOpenclawExisted = false;
  let failed = false;
  const seen = new Map<string, Seen>();
  const report: J = { version: VERSION, timings: {} as Record<string, unknown> };
  const cliChildren = new Set<ChildProcess>();

  const ledger = () => {
    if (!daemon) throw new Error('no daemon');
    return daemon.store.ledger();
  };
  const entry = (label: string): LabelEntry | undefined => ledger().get(label);
  const requestsWith = (needle: string): LoggedRequest[] =>
    need(fake, 'the fake model')
      .requests()
      .filter((r) => r.userTexts.some((t) => t.includes(needle)));
  /** the runs the daemon stored for a session: id, start, end, outcome */
  const runsOf = (key: string) => {
    const runs = new Map<string, RunSeen>();
    for (const { event: e } of daemon?.store.readSession(key) ?? []) {
      if (e.type !== 'agent.started' && e.type !== 'agent.finished') continue;
      const r = runs.get(e.runId) ?? { runId: e.runId };
      runs.set(e.runId, r);
      if (e.type === 'agent.started') r.startedAt = e.ts;
      else {
        r.endedAt = e.ts;
        r.outcome = e.outcome;
      }
    }
    return [...runs.values()];
  };
  /**
   * From the moment the enqueue wrote the label (its `spawnedAt`, i.e. without the CLI
   * process's own start-up) to the run's agent.started as the daemon stored it, to the model
   * call, and to the run's end.
   */
  const fromLedger = (e: LabelEntry, modelAt: number) => {
    const spawned = Date.parse(e.spawnedAt);
    const run = runsOf(e.sessionKey).find((x) => x.runId === e.runId);
    return {
      spawnedToRunStartedMs: run?.startedAt !== undefined ? run.startedAt - spawned : null,
      spawnedToModelMs: modelAt - spawned,
      spawnedToRunEndedMs: run?.endedAt !== undefined ? run.endedAt - spawned : null,
    };
  };
  const timing = (name: string, value: unknown) => {
    report.timings[name] = value;
    console.log(`[dispatch ${VERSION}] ${name}: ${JSON.stringify(value)}`);
  };

  /** a dispatch command as a real process, bounded (killed by its PID after 90 s) */
  function cli(args: string[]): Promise<CliRun> {
    const t0 = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'dispatch', ...args], {
      cwd: REPO,
      env: cliEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cliChildren.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
    });
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
    });
    const killer = setTimeout(() => {
      if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
    }, 90_000);
    return new Promise((resolve) =>
      child.once('close', (code) => {
        clearTimeout(killer);
        cliChildren.delete(child);
        let json: J | undefined;
        if (args.includes('--json')) {
          try {
            json = JSON.parse(stdout) as J;
          } catch {
            json = undefined;
          }
        }
        const run = { code, stdout, stderr, ms: Date.now() - t0, json };
        fs.appendFileSync(
          path.join(root, 'cli.jsonl'),
          `${JSON.stringify({ args, code, ms: run.ms, stdout, stderr })}\n`,
        );
        resolve(run);
      }),
    );
  }

  const enqueue = (label: string, message: string, ...extra: string[]) =>
    cli(['enqueue', '--label', label, '--message', message, '--no-monitor', '--json', ...extra]);

  const settled = (label: string, runId?: string): Promise<LabelEntry> =>
    until(`label ${label} to settle`, () => {
      const e = entry(label);
      return e && e.status !== 'running' && (!runId || e.runId === runId) && e.retryDueAt === undefined
        ? e
        : undefined;
    });

  beforeEach((ctx) => {
    ctx.onTestFailed(() => {
      failed = true;
    });
  });

  beforeAll(async () => {
    const installed = await ensureInstalled(() => {});
    root = fs.mkdtempSync(
      path.join(process.env.CLAWPULSE_CONFORMANCE_TMP ?? os.tmpdir(), 'clawpulse-dispatch-'),
    );
    fake = await startFakeModel({
      logFile: path.join(root, 'model-requests.jsonl'),
      overloadFailures: 1,
      slowHoldMs: 30_000,
    });
    oc = await createOpenclawEnv({ version: VERSION, installed, modelBaseUrl: fake.baseUrl, root });
    console.log(`[dispatch ${VERSION}] run dir ${root}`);
    tmpOpenclawExisted = fs.existsSync('/tmp/openclaw');
    gateway = await startGateway(oc);
    timing('gatewayStartMs', gateway.startMs);
    hook = await startReceiver();
    const home = path.join(root, 'clawpulse');
    fs.mkdirSync(home, { recursive: true });
    const env: NodeJS.ProcessEnv = {
      HOME: oc.home,
      OPENCLAW_STATE_DIR: oc.stateDir,
      OPENCLAW_GATEWAY_URL: oc.gatewayUrl,
      OPENCLAW_GATEWAY_TOKEN: oc.token,
      CLAWPULSE_HOME: home,
      SOURCES: 'auto',
      HEALTH_PORT: 'any',
      LOG_LEVEL: 'info',
      DISPATCH_RETRY_BACKOFF_S: '1',
      DISPATCH_WEBHOOK_URL: hook.url,
      DISPATCH_HOST: 'conformance',
    };
    const t0 = Date.now();
    const logger = createLogger(
      process.env.CLAWPULSE_CONFORMANCE_LOG_LEVEL ?? 'debug',
      pino.destination({ dest: path.join(root, 'clawpulse-daemon.log'), sync: true }),
    );
    daemon = await startDaemon(loadConfig(env), { logger, tickMs: 250 });
    const d = daemon;
    d.pipeline.subscribe((u) => {
      const at = Date.now();
      for (const s of u.changed as SessionState[]) {
        let v = seen.get(s.key);
        if (!v) {
          v = { firstAt: at };
          seen.set(s.key, v);
        }
        if (s.runOpen && v.runOpenAt === undefined) v.runOpenAt = at;
      }
    });
    await until(
      'the gateway source to be live',
      () => d.health().sources.find((s) => s.id === 'gateway')?.state === 'live',
      30_000,
    );
    timing('daemonLiveMs', Date.now() - t0);
    // what `clawpulse start` leaves for the CLI to find: the pid file, and the port it answers on
    fs.writeFileSync(path.join(home, 'clawpulse.pid'), String(process.pid));
    cliEnv = { ...process.env, ...env, HEALTH_PORT: String(d.port), LOG_LEVEL: 'silent' };
  }, 300_000);

  afterAll(async () => {
    for (const c of cliChildren) if (c.exitCode === null && c.pid) process.kill(c.pid, 'SIGKILL');
    fake?.release();
    await daemon?.stop('test');
    if (gateway) {
      const st = await gateway.stop();
      report.gatewayStop = st;
    }
    await fake?.close();
    await hook?.close();
    if (oc) cleanupOutsideTemp(oc, tmpOpenclawExisted);
    if (!root) return;
    fs.writeFileSync(path.join(root, 'dispatch-report.json'), `${JSON.stringify(report, null, 2)}\n`);
    if (failed || process.env.CLAWPULSE_CONFORMANCE_KEEP === '1')
      console.log(`[dispatch ${VERSION}] artifacts kept in ${root}`);
    else fs.rmSync(root, { recursive: true, force: true });
  }, 60_000);

  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`${what} did not start`);
    return v;
  };
  return {
    version,
    get root() {
      return root;
    },
    get fake() {
      return need(fake, 'the fake model');
    },
    get oc() {
      return need(oc, 'the OpenClaw env');
    },
    get daemon() {
      return need(daemon, 'the daemon');
    },
    get hook() {
      return need(hook, 'the webhook receiver');
    },
    report,
    seen,
    cli,
    enqueue,
    entry,
    ledger,
    requestsWith,
    runsOf,
    fromLedger,
    timing,
    settled,
  };
}

describe('clawpulse dispatch against OpenClaw 2026.9.6 (real gateway, fake model)', () => {
  const st = useDispatchStack('2026.9.6');
  /** the 529 scenario: enqueued first, checked last */
  let busy: Promise<{ enqueue: CliRun; t0: number }>;
  beforeAll(() => {
    // it runs beside the others from the start (OpenClaw's own retries take ~80 s)
    const t0 = Date.now();
    busy = st.enqueue('c-529', `[conf:busy] c-529 ${NONCE}`).then((r) => ({ enqueue: r, t0 }));
  });

  it('enqueue (CLI) → the run happens → the daemon marks the label done → result prints the reply', async () => {
    const token = `c-basic-1-${NONCE}`;
    const t0 = Date.now();
    const r = await st.enqueue('c-basic', `[conf:reply] ${token}`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ ok: true, label: 'c-basic', mode: 'fresh', status: 'accepted' });
    const key = r.json?.sessionKey as string;
    expect(key).toMatch(/^agent:main:subagent:[0-9a-f-]{36}$/);
    const modelAt = (await until('the model call', () => st.requestsWith(token)[0])).t;
    const done = await st.settled('c-basic', r.json?.runId);
    const doneAt = Date.now();
    expect(done).toMatchObject({ status: 'done', sessionKey: key, runId: r.json?.runId, error: null });
    const runOpenAt = st.seen.get(key)?.runOpenAt;
    st.timing('basic', {
      enqueueCliMs: r.ms,
      enqueueToModelMs: modelAt - t0,
      enqueueToRunStartedMs: runOpenAt ? runOpenAt - t0 : null,
      enqueueToDoneMs: doneAt - t0,
      ...st.fromLedger(done, modelAt),
    });

    // the reply the model gave, exactly
    const answers = st.requestsWith(token).filter((q) => q.decision.kind === 'text');
    const reply = answers.at(-1)?.decision as { kind: 'text'; text: string };
    expect(reply.text).toMatch(/^Conformance reply r\d+: 1 user message\(s\) in this session\.$/);
    const res = await st.cli(['result', '--label', 'c-basic']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe(`${reply.text}\n`);
    const resJson = await st.cli(['result', '--label', 'c-basic', '--json']);
    expect(resJson.json).toMatchObject({ status: 'done', lastReply: reply.text, sessionKey: key });
    st.report.basic = { key, reply: reply.text, from: resJson.json?.from };
  }, 120_000);

  it('--mode reuse sends into the same session (the model sees the first turn) and the label ends done again', async () => {
    const first = st.entry('c-basic');
    expect(first?.status).toBe('done');
    const token = `c-basic-2-${NONCE}`;
    const t0 = Date.now();
    const r = await st.enqueue('c-basic', `[conf:reply] ${token}`, '--mode', 'reuse');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ ok: true, mode: 'reuse', sessionKey: first?.sessionKey });
    expect(r.json?.runId).not.toBe(first?.runId);
    const req = await until('the second turn at the model', () => st.requestsWith(token)[0]);
    // the earlier turn is in the request history
    expect(req.firstUserText).toContain(`c-basic-1-${NONCE}`);
    expect(req.realUsers).toBe(2);
    const done = await st.settled('c-basic', r.json?.runId);
    expect(done).toMatchObject({ status: 'done', mode: 'reuse', sessionKey: first?.sessionKey });
    const reply = (st
      .requestsWith(token)
      .filter((q) => q.decision.kind === 'text')
      .at(-1)?.decision ?? {}) as {
      text?: string;
    };
    expect(reply.text).toMatch(/: 2 user message\(s\) in this session\.$/);
    const doneAt = Date.now();

    // Again at once, as a script that waits for done and goes on would: the turn that just
    // ended must not be taken for the new one (it ended inside the verdict's 2 s clock-skew
    // allowance). A CLI process needs 1-2 s here to start, which makes the gap a coin toss
    // (it was 1.5 s when this found the bug, 2.02 s in another run), so this turn is
    // enqueued in-process, through the same enqueue() on a gateway connection opened ahead.
    const conn = await openConnection(st.oc);
    const token3 = `c-basic-3-${NONCE}`;
    let r3: Awaited<ReturnType<typeof enqueueLabel>>;
    let t3: number;
    try {
      await st.settled('c-basic', r.json?.runId);
      t3 = Date.now();
      r3 = await enqueueLabel(
        {
          label: 'c-basic',
          message: `[conf:reply] ${token3}`,
          mode: 'reuse',
          agent: 'main',
          timeoutSeconds: 300,
          deliverChannel: 'telegram',
          deliveryMode: 'announce',
          monitor: false,
        },
        { gateway: conn, ledger: st.ledger() },
      );
    } finally {
      await conn.stop();
    }
    expect(r3.sessionKey).toBe(first?.sessionKey);
    const gapMs = Date.parse(st.entry('c-basic')?.spawnedAt ?? '') - Date.parse(done.endedAt ?? '');
    expect(gapMs).toBeLessThan(CLOCK_SKEW_MS);
    const req3 = await until('the third turn at the model', () => st.requestsWith(token3)[0]);
    const done3 = await st.settled('c-basic', r3.runId);
    expect(done3.status).toBe('done');
    // it ended with its own run, not the one before
    expect(Date.parse(done3.endedAt ?? '')).toBeGreaterThanOrEqual(req3.t);
    const reply3 = (st
      .requestsWith(token3)
      .filter((q) => q.decision.kind === 'text')
      .at(-1)?.decision ?? {}) as {
      text?: string;
    };
    expect(reply3.text).toMatch(/: 3 user message\(s\) in this session\.$/);
    const res = await st.cli(['result', '--label', 'c-basic']);
    expect(res.stdout).toBe(`${reply3.text}\n`);
    st.timing('reuse', {
      enqueueToModelMs: req.t - t0,
      ...st.fromLedger(done, req.t),
      enqueueToDoneMs: doneAt - t0,
      immediateReuseGapAfterEndMs: gapMs,
      immediateReuseEnqueueToModelMs: req3.t - t3,
      immediateReuse: st.fromLedger(done3, req3.t),
      immediateReuseToDoneMs: Date.now() - t3,
    });
  }, 120_000);

  it('steer during a slow run is injected into that run and the model sees it', async () => {
    const token = `c-steer-${NONCE}`;
    const steerText = `STEER-TOKEN-${NONCE}: also mention the steer`;
    const t0 = Date.now();
    const r = await st.enqueue('c-steer', `[conf:slow] ${token}`);
    expect(r.code, r.stderr).toBe(0);
    const key = r.json?.sessionKey as string;
    const held = await until('the slow model call to be held', () =>
      st.requestsWith(token).find((q) => q.turnScenario === 'slow' && !q.hold),
    );
    await until('the daemon to see the run open', () => st.seen.get(key)?.runOpenAt);
    const s0 = Date.now();
    const sr = await st.cli(['steer', '--label', 'c-steer', '--message', steerText, '--json']);
    const steerCliMs = Date.now() - s0;
    expect(sr.code, sr.stderr).toBe(0);
    expect(sr.json).toMatchObject({ ok: true, label: 'c-steer', sessionKey: key });
    const mode = sr.json?.mode as string;
    // the held answer goes out a moment after the gateway took the steer; the run goes on
    await new Promise((r) => setTimeout(r, STEER_SETTLE_MS));
    const r0 = Date.now();
    expect(st.fake.release()).toBe(1);
    const sawIt = await until('the model to see the steer', () => st.requestsWith(steerText)[0], 30_000);
    expect(held.hold?.end).toBe('released');
    // it is the same conversation: the slow task is its first message
    expect(sawIt.firstUserText).toContain(token);
    const done = await st.settled('c-steer', r.json?.runId);
    const runs = st.runsOf(key);
    // which run the model saw the steer in: the label's own (injected) or a later one (follow-up)
    const inRun = runs.find(
      (x) => (x.startedAt ?? 0) <= sawIt.t && sawIt.t <= (x.endedAt ?? Number.POSITIVE_INFINITY),
    );
    const injected = inRun?.runId === r.json?.runId;
    const result = await st.cli(['result', '--label', 'c-steer']);
    st.timing('steer', {
      mode,
      enqueueToModelMs: held.t - t0,
      steerCliMs,
      steerToModelSeesItMs: sawIt.t - s0,
      releaseToModelSeesItMs: sawIt.t - r0,
      labelAfter: done.status,
      injectedIntoTheActiveRun: injected,
    });
    st.report.steer = {
      mode,
      reply: sr.json,
      injected,
      result: result.stdout,
      runs,
      steerRequestAt: sawIt.t,
      steerSeenAs: sawIt.userTexts.find((t) => t.includes(steerText)),
      requestsAfter: st.requestsWith(token).length,
      runIdAfter: done.runId,
    };
    // clawpulse sent queueMode "steer" and says so; the gateway accepted it alike either way
    expect(mode).toBe('steer');
    expect(done.status).toBe('done');
    // OpenClaw 2026.9.6 injects a steer only into a run that chat.send started (its agent
    // runner's `runActiveReplySteer`); into a run started by `agent` it becomes the next turn.
    // enqueue starts runs with chat.send for that reason: the model sees the steer inside the
    // label's own run, before the run ends.
    expect(injected, 'the steer became a later turn: did enqueue start the run with agent?').toBe(true);
    expect(sawIt.t).toBeLessThanOrEqual(runs.find((x) => x.runId === r.json?.runId)?.endedAt ?? 0);
  }, 120_000);

  it('abort (POST /api/sessions/<key>/abort) ends a slow run: label error "aborted", model interrupted', async () => {
    const token = `c-abort-${NONCE}`;
    const r = await st.enqueue('c-abort', `[conf:slow] ${token}`);
    expect(r.code, r.stderr).toBe(0);
    const key = r.json?.sessionKey as string;
    const held = await until('the slow model call to be held', () =>
      st.requestsWith(token).find((q) => q.turnScenario === 'slow' && !q.hold),
    );
    await until('the daemon to see the run open', () => st.seen.get(key)?.runOpenAt);
    const a0 = Date.now();
    const res = await fetch(
      `http://127.0.0.1:${st.daemon.port}/api/sessions/${encodeURIComponent(key)}/abort`,
      {
        method: 'POST',
      },
    );
    const body = (await res.json()) as J;
    const abortHttpMs = Date.now() - a0;
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ ok: true, method: 'sessions.abort', aborted: true });
    const e = await st.settled('c-abort');
    const settledMs = Date.now() - a0;
    expect(e.status).toBe('error');
    expect(e.error).toMatch(/abort/i);
    const s = st.daemon.pipeline.tracker.get(key);
    expect(s?.runOpen).toBe(false);
    expect(s?.lastOutcome).toBe('aborted');
    expect(s?.status).toBe('interrupted');
    // OpenClaw hung up on the model
    await until('the held call to end', () => held.hold, 10_000);
    st.timing('abort', {
      abortHttpMs,
      abortToLabelErrorMs: settledMs,
      modelCall: held.hold,
      runIdSent: body.runId ?? null,
      error: e.error,
      modelStatus: s?.status,
    });
    expect(held.hold?.end).toBe('closed');
    expect(
      st.requestsWith(token).filter((q) => q.decision.kind === 'text' && q.hold?.end !== 'closed'),
    ).toEqual([]);
  }, 120_000);

  it('sync imports a session made by `openclaw agent`', async () => {
    const key = 'agent:main:conf-sync';
    const run = await runAgent(st.oc, {
      message: `[conf:reply] sync-${NONCE}`,
      sessionKey: key,
      timeoutSec: 60,
      name: 'sync',
    });
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    const dispatched = ['c-basic', 'c-steer', 'c-abort'].map((l) => st.entry(l)?.sessionKey);
    const s = await st.cli(['sync', '--json']);
    expect(s.code, s.stderr).toBe(0);
    const imported = (s.json?.imported ?? []) as Array<{ label: string; sessionKey: string; status: string }>;
    const mine = imported.find((i) => i.sessionKey === key);
    expect(mine).toMatchObject({ status: 'done' });
    // labels it already knew are not imported again
    for (const k of dispatched) expect(imported.map((i) => i.sessionKey)).not.toContain(k);
    const label = mine?.label as string;
    expect(st.entry(label)).toMatchObject({ sessionKey: key, status: 'done', createdBy: 'sync' });
    const list = await st.cli(['list', '--json']);
    expect(Object.keys(list.json ?? {})).toContain(label);
    // a second sync finds nothing new
    const again = await st.cli(['sync', '--json']);
    expect((again.json?.imported ?? []).map((i: J) => i.sessionKey)).not.toContain(key);
    st.report.sync = { label, imported: imported.map((i) => `${i.label} ${i.status}`), agentMs: run.ms };
    st.timing('sync', { agentRunMs: run.ms, syncCliMs: s.ms });
  }, 120_000);

  it('529 until clawpulse retries: the label ends done after exactly one clawpulse retry', async () => {
    const { enqueue: r, t0 } = await busy;
    expect(r.code, r.stderr).toBe(0);
    const key = r.json?.sessionKey as string;
    const done = await until(
      'c-529 to end',
      () => {
        const e = st.entry('c-529');
        return e && (e.status === 'done' || (e.status === 'error' && e.retryDueAt === undefined))
          ? e
          : undefined;
      },
      200_000,
    );
    const doneAt = Date.now();
    const reqs = st.requestsWith(`c-529 ${NONCE}`);
    const firstOk = reqs.findIndex((q) => q.decision.kind !== 'error');
    const before = reqs.slice(0, firstOk < 0 ? reqs.length : firstOk);
    const retry = done.retries?.[0];
    st.timing('retry529', {
      enqueueToFirst529Ms: (reqs[0]?.t ?? 0) - t0,
      openclaw529s: before.length,
      openclawRetrySpanMs: (before.at(-1)?.t ?? 0) - (before[0]?.t ?? 0),
      last529ToClawpulseRetryMs: retry ? Date.parse(retry.at) - (before.at(-1)?.t ?? 0) : null,
      clawpulseRetryToModelMs: retry && firstOk >= 0 ? (reqs[firstOk]?.t ?? 0) - Date.parse(retry.at) : null,
      enqueueToDoneMs: doneAt - t0,
    });
    st.report.retry529 = { retries: done.retries, error: done.error, status: done.status };
    expect(done).toMatchObject({ status: 'done', retryCount: 1, sessionKey: key });
    expect(done.retries).toHaveLength(1);
    expect(retry).toMatchObject({ attempt: 1, via: 'continue', sessionKey: key });
    expect(retry?.error).toMatch(/529|overload/i);
    // OpenClaw retried the overloaded model itself first; those are not clawpulse retries
    expect(before.length).toBeGreaterThan(1);
    expect(before.every((q) => !q.userTexts.some((t) => t.includes(RETRY_MARK)))).toBe(true);
    // clawpulse retried only after OpenClaw gave up (after the last 529)
    expect(Date.parse(retry?.at ?? '')).toBeGreaterThan(before.at(-1)?.t ?? Number.POSITIVE_INFINITY);
    // the model answered once it saw the continuation
    expect(reqs[firstOk]?.userTexts.some((t) => t.includes(RETRY_MARK))).toBe(true);
    // the lifecycle webhook heard one retry, then the finish (sent in the background)
    const events = () =>
      st.hook.requests
        .map((q) => JSON.parse(q.body.toString()) as J)
        .filter((ev) => ev.label === 'c-529')
        .map((ev) => ev.event as string);
    await until('dispatch.finished at the webhook', () => events().includes('dispatch.finished'), 10_000);
    st.report.retry529.events = st.hook.requests
      .map((q) => JSON.parse(q.body.toString()) as J)
      .filter((ev) => ev.label === 'c-529');
    expect(events()).toEqual(['dispatch.started', 'dispatch.retried', 'dispatch.finished']);
  }, 240_000);
});

describe('clawpulse dispatch against OpenClaw 2026.7.35: steer where chat.send has no queueMode', () => {
  const st = useDispatchStack('2026.7.35');

  it('steer falls back to a follow-up turn through agent, and the model sees it', async () => {
    const token = `c-steer-735-${NONCE}`;
    const steerText = `STEER-TOKEN-735-${NONCE}`;
    const t0 = Date.now();
    const r = await st.enqueue('c-steer-735', `[conf:slow] ${token}`);
    expect(r.code, r.stderr).toBe(0);
    const key = r.json?.sessionKey as string;
    const held = await until('the slow model call to be held', () =>
      st.requestsWith(token).find((q) => q.turnScenario === 'slow' && !q.hold),
    );
    await until('the daemon to see the run open', () => st.seen.get(key)?.runOpenAt);
    const s0 = Date.now();
    // chat.send rejects queueMode here ("unexpected property"): clawpulse sends an agent turn
    const sr = await st.cli(['steer', '--label', 'c-steer-735', '--message', steerText, '--json']);
    const steerCliMs = Date.now() - s0;
    expect(sr.code, sr.stderr).toBe(0);
    expect(sr.json).toMatchObject({ ok: true, sessionKey: key, mode: 'followup' });
    await new Promise((res) => setTimeout(res, STEER_SETTLE_MS));
    expect(st.fake.release()).toBe(1);
    const sawIt = await until('the model to see the steer', () => st.requestsWith(steerText)[0], 30_000);
    expect(held.hold?.end).toBe('released');
    expect(sawIt.firstUserText).toContain(token);
    const done = await st.settled('c-steer-735', r.json?.runId);
    expect(done.status).toBe('done');
    const runs = st.runsOf(key);
    const labelRun = runs.find((x) => x.runId === r.json?.runId);
    // a follow-up: the model sees it in a turn after the label's run
    expect(sawIt.t).toBeGreaterThan(labelRun?.endedAt ?? 0);
    st.report.steer = { reply: sr.json, runs, steerRequestAt: sawIt.t };
    st.timing('steer', {
      mode: sr.json?.mode,
      enqueueToModelMs: held.t - t0,
      steerCliMs,
      steerToModelSeesItMs: sawIt.t - s0,
      runs: runs.length,
    });
  }, 120_000);
});

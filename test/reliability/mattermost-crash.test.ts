/**
 * Mattermost status boxes under crashes, outages and 429 storms, as an operator meets them: a
 * real daemon process (`node --import tsx src/cli/main.ts start`, REST mode, IDLE_TIMEOUT_S=3)
 * following an OpenClaw state dir whose transcripts this test appends to (4 sessions taking
 * turns), and the strict fake Mattermost in this process.
 *
 * - kill -9: 15 kills while boxes are live. No session turn may have two posts, every post
 *   must end in a final state with its turn's final text, and every turn gets a box.
 * - outage: Mattermost answers 503, then refuses connections, then comes back. The breaker
 *   opens (few requests reach the dead server), no duplicates, final texts right.
 * - 429 storm: every request is refused with 429 for a while. Nothing is dropped, the breaker
 *   stays closed, /health shows the 429s and clears its current reason after recovery.
 *
 * Every loop is bounded and seeded; figures are printed as `[reliability] <test>: <figure>`.
 * Only processes this file started are signalled, by their PID.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeMattermost, startFakeMattermost } from '../../src/test-support/fake-mattermost/server.js';
import { tempDir } from '../../src/test-support/temp-dir.js';
import { freePort, prng as rng, sleep } from '../support/reliability-kit.js';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const SESSIONS = ['w1', 'w2', 'w3', 'w4'];
const FINAL = new Set(['DONE', 'ERROR', 'INTERRUPTED']);

const report = (test: string, figure: string) => console.log(`[reliability] ${test}: ${figure}`);

// ---------------------------------------------------------------------------------------------
// the OpenClaw side: sessions.json + one transcript per session, appended as turns happen

interface Turn {
  session: string;
  n: number;
  startedAt: number;
  endedAt?: number;
}

interface SessionPlan {
  label: string;
  sessionId: string;
  file: string;
  last: string;
  turn: number;
  /** 'rest' until nextAt, then a turn of `steps` steps */
  phase: 'rest' | 'turn';
  step: number;
  steps: number;
  nextAt: number;
}

/** 4 sessions taking turns: a turn is a user message, 2–3 tool steps, a final answer; 4–6 s rest */
class Writer {
  readonly turns: Turn[] = [];
  private plans: SessionPlan[] = [];
  private timer: NodeJS.Timeout | undefined;
  private winding = false;
  private seq = 0;

  constructor(
    private readonly sessionsDir: string,
    private readonly rand: () => number,
  ) {}

  /** writes sessions.json and the transcripts' first lines, then starts the sessions' turns */
  start(): void {
    const index: Record<string, unknown> = {};
    const now = Date.now();
    SESSIONS.forEach((label, i) => {
      const sessionId = `0000000${i}-1111-4222-8333-${String(444444444444 + i)}`;
      const file = join(this.sessionsDir, `${sessionId}.jsonl`);
      index[`agent:main:${label}`] = { sessionId, updatedAt: now, label, sessionFile: file };
      writeFileSync(
        file,
        `${JSON.stringify({ type: 'session', version: 3, id: sessionId, timestamp: new Date(now).toISOString(), cwd: '/tmp' })}\n`,
      );
      this.plans.push({
        label,
        sessionId,
        file,
        last: '',
        turn: 0,
        phase: 'rest',
        step: 0,
        steps: 0,
        // first turns within the idle timeout of the sessions.json row (no empty first box)
        nextAt: now + 200 + i * 300,
      });
    });
    writeFileSync(join(this.sessionsDir, 'sessions.json'), JSON.stringify(index, null, 2));
    this.timer = setInterval(() => {
      const t = Date.now();
      for (const p of this.plans) this.advance(p, t);
    }, 50);
  }

  private line(p: SessionPlan, message: Record<string, unknown>): void {
    const id = (++this.seq).toString(16).padStart(8, '0');
    const ts = Date.now();
    const entry = {
      type: 'message',
      id,
      parentId: p.last || null,
      timestamp: new Date(ts).toISOString(),
      message: { ...message, timestamp: ts },
    };
    p.last = id;
    appendFileSync(p.file, `${JSON.stringify(entry)}\n`);
  }

  private usage() {
    return { input: 100, output: 10, cacheRead: 0, cacheWrite: 0, totalTokens: 110 };
  }

  private advance(p: SessionPlan, now: number): void {
    if (now < p.nextAt) return;
    if (p.phase === 'rest') {
      if (this.winding) return;
      p.turn++;
      p.phase = 'turn';
      p.step = 0;
      p.steps = 2 + Math.floor(this.rand() * 2);
      this.turns.push({ session: p.label, n: p.turn, startedAt: now });
      this.line(p, { role: 'user', content: `${p.label} turn ${p.turn}` });
      p.nextAt = now + 250 + this.rand() * 350;
      return;
    }
    const tag = `${p.label}#${p.turn}`;
    if (p.step < p.steps) {
      p.step++;
      const call = `call_${p.label}_${p.turn}_${p.step}`;
      this.line(p, {
        role: 'assistant',
        content: [
          { type: 'text', text: `${tag} step ${p.step}` },
          { type: 'toolCall', id: call, name: 'exec', arguments: { command: `echo ${tag}.${p.step}` } },
        ],
        provider: 'fake',
        model: 'fake-model',
        usage: this.usage(),
        stopReason: 'toolUse',
      });
      this.line(p, {
        role: 'toolResult',
        toolCallId: call,
        toolName: 'exec',
        content: [{ type: 'text', text: 'ok' }],
        isError: false,
      });
      p.nextAt = now + 250 + this.rand() * 350;
      return;
    }
    this.line(p, {
      role: 'assistant',
      content: [{ type: 'text', text: `${tag} FINAL answer` }],
      provider: 'fake',
      model: 'fake-model',
      usage: this.usage(),
      stopReason: 'stop',
    });
    const t = this.turns.find((x) => x.session === p.label && x.n === p.turn);
    if (t) t.endedAt = now;
    p.phase = 'rest';
    p.nextAt = now + 4000 + this.rand() * 2000;
  }

  /** lets every running turn finish, starts no new one; resolves when all rest */
  async windDown(maxMs: number): Promise<void> {
    this.winding = true;
    const end = Date.now() + maxMs;
    while (this.plans.some((p) => p.phase === 'turn') && Date.now() < end) await sleep(50);
    clearInterval(this.timer);
    this.timer = undefined;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  lastEventAt(): number {
    return Math.max(0, ...this.turns.map((t) => t.endedAt ?? t.startedAt));
  }
}

// ---------------------------------------------------------------------------------------------
// the daemon process

interface Env {
  root: string;
  stateDir: string;
  sessionsDir: string;
  home: string;
  port: number;
  logFile: string;
  vars: NodeJS.ProcessEnv;
}

async function makeEnv(mm: FakeMattermost, channel: string, extra: NodeJS.ProcessEnv = {}): Promise<Env> {
  const root = tempDir('clawpulse-rel-mm-');
  const stateDir = join(root, 'openclaw');
  const sessionsDir = join(stateDir, 'agents', 'main', 'sessions');
  mkdirSync(sessionsDir, { recursive: true });
  const home = join(root, 'cp');
  const port = await freePort();
  const vars: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: root,
    CLAWPULSE_HOME: home,
    OPENCLAW_STATE_DIR: stateDir,
    SOURCES: 'files',
    HEALTH_PORT: String(port),
    MM_URL: mm.url,
    MM_TOKEN: mm.token,
    DEFAULT_CHANNEL: channel,
    IDLE_TIMEOUT_S: '3',
    PLUGIN_ENABLED: 'false',
    LOG_LEVEL: 'info',
    ...extra,
  };
  return { root, stateDir, sessionsDir, home, port, logFile: join(root, 'daemon.log'), vars };
}

const running = new Set<ChildProcess>();

function startDaemon(env: Env): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'start'], {
    env: env.vars,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(env.logFile, { flags: 'a' });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  running.add(child);
  child.once('exit', () => {
    running.delete(child);
    log.end();
  });
  return child;
}

async function health(env: Env): Promise<Record<string, unknown> | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${env.port}/health`, { signal: AbortSignal.timeout(2000) });
    return (await res.json()) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

async function waitHealthy(env: Env, child: ChildProcess, maxMs = 30_000): Promise<void> {
  const end = Date.now() + maxMs;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`daemon exited (${child.exitCode}); see ${env.logFile}`);
    if (await health(env)) return;
    await sleep(100);
  }
  throw new Error(`daemon not healthy within ${maxMs} ms; see ${env.logFile}`);
}

async function waitExit(child: ChildProcess, maxMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await Promise.race([new Promise((r) => child.once('exit', r)), sleep(maxMs)]);
}

function kill9(child: ChildProcess): void {
  if (child.pid && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
}

async function stopDaemon(child: ChildProcess): Promise<void> {
  if (child.pid && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGTERM');
  await waitExit(child, 20_000);
  kill9(child);
}

afterEach(async () => {
  for (const c of [...running]) kill9(c);
});

// ---------------------------------------------------------------------------------------------
// reading the boxes back from the fake

interface BoxView {
  id: string;
  status: string;
  session: string;
  /** the highest turn marker the box shows (its turn) */
  turn: number;
  hasFinal: boolean;
  message: string;
}

function boxes(mm: FakeMattermost, channel: string): BoxView[] {
  const out: BoxView[] = [];
  for (const p of mm.livePosts()) {
    if (p.channel_id !== channel) continue;
    const head = /^> \[([A-Z]+)\] (\S+)/.exec(p.message);
    if (!head) continue;
    const session = head[2] as string;
    let turn = 0;
    for (const m of p.message.matchAll(new RegExp(`${session}#(\\d+)`, 'g')))
      turn = Math.max(turn, Number(m[1]));
    out.push({
      id: p.id,
      status: head[1] as string,
      session,
      turn,
      hasFinal: p.message.includes(`${session}#${turn} FINAL`),
      message: p.message,
    });
  }
  return out;
}

interface Figures {
  posts: number;
  /** boxes of a session before its first turn */
  emptyBoxes: number;
  duplicates: number;
  maxPerTurn: number;
  notFinal: number;
  wrongText: number;
  turns: number;
  turnsWithBox: number;
  summaries: number;
}

function analyse(mm: FakeMattermost, channel: string, writer: Writer): Figures {
  // a box with no turn marker shows a session before its first turn (seen, then quiet)
  const all = boxes(mm, channel);
  const views = all.filter((v) => v.turn > 0);
  const byTurn = new Map<string, BoxView[]>();
  for (const v of views) {
    const k = `${v.session}#${v.turn}`;
    byTurn.set(k, [...(byTurn.get(k) ?? []), v]);
  }
  const ended = writer.turns.filter((t) => t.endedAt !== undefined);
  const summaries = mm
    .livePosts()
    .filter((p) => p.channel_id === channel && !p.message.startsWith('> [')).length;
  return {
    posts: views.length,
    emptyBoxes: all.length - views.length,
    duplicates: [...byTurn.values()].filter((v) => v.length > 1).length,
    maxPerTurn: Math.max(0, ...[...byTurn.values()].map((v) => v.length)),
    notFinal: all.filter((v) => !FINAL.has(v.status)).length,
    wrongText: views.filter((v) => v.status === 'DONE' && !v.hasFinal).length,
    turns: ended.length,
    turnsWithBox: ended.filter((t) => byTurn.has(`${t.session}#${t.n}`)).length,
    summaries,
  };
}

/** the posts behind a bad figure, to read when a run fails */
function printOdd(test: string, mm: FakeMattermost, channel: string, writer: Writer): void {
  const known = new Set(writer.turns.map((t) => `${t.session}#${t.n}`));
  for (const v of boxes(mm, channel)) {
    const odd =
      !FINAL.has(v.status) || (v.status === 'DONE' && !v.hasFinal) || !known.has(`${v.session}#${v.turn}`);
    if (odd) report(test, `odd post ${v.id} (${v.session}#${v.turn}): ${JSON.stringify(v.message)}`);
  }
}

function printFigures(test: string, f: Figures): void {
  report(test, `posts ${f.posts}, session turns ${f.turns}, turns with a box ${f.turnsWithBox}/${f.turns}`);
  report(test, `posts per turn: max ${f.maxPerTurn}, turns with 2+ posts ${f.duplicates}`);
  report(
    test,
    `posts not in a final state ${f.notFinal}/${f.posts + f.emptyBoxes}, done posts without their final text ${f.wrongText}`,
  );
  if (f.summaries) report(test, `summary posts ${f.summaries}`);
  if (f.emptyBoxes) report(test, `boxes of a session before its first turn ${f.emptyBoxes}`);
}

/** waits until every box on the fake shows a final state (bounded) */
async function settleBoxes(mm: FakeMattermost, channel: string, maxMs: number): Promise<void> {
  const end = Date.now() + maxMs;
  while (Date.now() < end) {
    const v = boxes(mm, channel);
    if (v.length && v.every((b) => FINAL.has(b.status))) return;
    await sleep(200);
  }
}

// ---------------------------------------------------------------------------------------------

describe('Mattermost boxes under crashes, outages and 429 storms (real daemon process)', () => {
  it('15 × kill -9 while boxes are live: no turn gets two posts, every post ends final', async () => {
    const test = 'mm-crash kill-9';
    // answers take 300 ms (a loaded server), and the pending_post_id window is shorter than a
    // restart: every retried create after a kill comes "later than 30 s" for the server
    const mm = await startFakeMattermost({ pendingPostTtlMs: 1000 });
    mm.slow(300);
    const channel = mm.addChannel();
    const env = await makeEnv(mm, channel);
    const rand = rng(0x5eed16);
    const writer = new Writer(env.sessionsDir, rand);
    writer.start();
    let kills = 0;
    try {
      for (let i = 0; i < 15; i++) {
        const child = startDaemon(env);
        await waitHealthy(env, child);
        // kill while boxes are live: some session is mid-turn most of the time
        await sleep(1200 + rand() * 2300);
        kill9(child);
        await waitExit(child, 10_000);
        kills++;
        await sleep(200 + rand() * 1300);
      }
      const child = startDaemon(env);
      await waitHealthy(env, child);
      await writer.windDown(10_000);
      // done comes IDLE_TIMEOUT_S after the last event, then the box's last edit
      const quietUntil = writer.lastEventAt() + 3000 + 2500;
      await sleep(Math.max(0, quietUntil - Date.now()));
      await settleBoxes(mm, channel, 15_000);
      const f = analyse(mm, channel, writer);
      const lookups = mm.requests('GET', `/api/v4/channels/${channel}/posts`).length;
      report(test, `kills ${kills}, requests to Mattermost ${mm.log.length}`);
      report(
        test,
        `boxes a kill left without a post id, looked up by their mark after the restart ${lookups}`,
      );
      printFigures(test, f);
      printOdd(test, mm, channel, writer);
      await stopDaemon(child);
      expect(f.duplicates).toBe(0);
      expect(f.notFinal).toBe(0);
      expect(f.wrongText).toBe(0);
      expect(f.turnsWithBox).toBe(f.turns);
    } finally {
      writer.stop();
      await mm.close();
    }
  }, 170_000);

  it('an outage (503, then refused connections): the breaker opens, no duplicates, final texts right', async () => {
    const test = 'mm-crash outage';
    const mm = await startFakeMattermost();
    const channel = mm.addChannel();
    const env = await makeEnv(mm, channel, { CIRCUIT_BREAKER_COOLDOWN_S: '4' });
    const writer = new Writer(env.sessionsDir, rng(0x0a7a6e));
    const child = startDaemon(env);
    try {
      await waitHealthy(env, child);
      writer.start();
      await sleep(5000);
      const before = mm.log.length;
      const t0 = Date.now();
      mm.outage(503);
      await sleep(8000);
      mm.outage('refuse');
      await sleep(8000);
      const during = mm.log.length - before;
      await mm.restore();
      const outageMs = Date.now() - t0;
      const h = (await health(env)) as { sinks?: Array<Record<string, unknown>> } | undefined;
      await writer.windDown(10_000);
      await sleep(Math.max(0, writer.lastEventAt() + 3000 + 6000 - Date.now()));
      await settleBoxes(mm, channel, 15_000);
      const f = analyse(mm, channel, writer);
      const after = (await health(env)) as { sinks?: Array<Record<string, unknown>> } | undefined;
      const sink = after?.sinks?.[0] ?? {};
      const breaker = (h?.sinks?.[0] as { breaker?: string } | undefined)?.breaker;
      report(
        test,
        `requests that reached Mattermost during the ${Math.round(outageMs / 1000)} s outage: ${during} (breaker at the end: ${breaker})`,
      );
      report(
        test,
        `/health after recovery: breaker ${String(sink.breaker)}, lastError ${JSON.stringify(sink.lastError)}, lastErrorAt ${String(sink.lastErrorAt)}`,
      );
      printFigures(test, f);
      printOdd(test, mm, channel, writer);
      await stopDaemon(child);
      expect(during).toBeLessThan(40);
      expect(f.duplicates).toBe(0);
      expect(f.notFinal).toBe(0);
      expect(f.wrongText).toBe(0);
      expect(f.turnsWithBox).toBe(f.turns);
      expect(sink.breaker).toBe('closed');
      expect(typeof sink.lastErrorAt).toBe('number');
      expect((sink.detail as { reason?: string } | undefined)?.reason).toBeUndefined();
    } finally {
      writer.stop();
      kill9(child);
      await mm.close();
    }
  }, 120_000);

  it('a 429 storm: nothing lost or doubled, the breaker stays closed, /health shows the 429s', async () => {
    const test = 'mm-crash 429-storm';
    const mm = await startFakeMattermost();
    const channel = mm.addChannel();
    const env = await makeEnv(mm, channel);
    const writer = new Writer(env.sessionsDir, rng(0x429429));
    const child = startDaemon(env);
    try {
      await waitHealthy(env, child);
      writer.start();
      await sleep(4000);
      const before = mm.log.length;
      mm.rateLimitNext(1_000_000, 1);
      await sleep(8000);
      const limited = mm.log.length - before;
      const during = (await health(env)) as { sinks?: Array<Record<string, unknown>> } | undefined;
      mm.rateLimitNext(0);
      await writer.windDown(10_000);
      await sleep(Math.max(0, writer.lastEventAt() + 3000 + 4000 - Date.now()));
      await settleBoxes(mm, channel, 15_000);
      const f = analyse(mm, channel, writer);
      const after = (await health(env)) as { sinks?: Array<Record<string, unknown>> } | undefined;
      const d = during?.sinks?.[0] ?? {};
      const a = after?.sinks?.[0] ?? {};
      report(test, `requests answered 429 during the 8 s storm: ${limited}`);
      report(
        test,
        `/health during: breaker ${String(d.breaker)}, lastError ${JSON.stringify(d.lastError)}, detail ${JSON.stringify(d.detail)}`,
      );
      report(
        test,
        `/health after: lastError ${JSON.stringify(a.lastError)}, lastErrorAt ${String(a.lastErrorAt)}, detail.reason ${JSON.stringify((a.detail as { reason?: string } | undefined)?.reason)}`,
      );
      printFigures(test, f);
      printOdd(test, mm, channel, writer);
      await stopDaemon(child);
      expect(limited).toBeLessThan(40);
      expect(d.breaker).toBe('closed');
      expect(String(d.lastError)).toContain('429');
      expect((d.detail as { rateLimited?: number } | undefined)?.rateLimited).toBeGreaterThan(0);
      expect((a.detail as { reason?: string } | undefined)?.reason).toBeUndefined();
      expect(f.duplicates).toBe(0);
      expect(f.notFinal).toBe(0);
      expect(f.wrongText).toBe(0);
      expect(f.turnsWithBox).toBe(f.turns);
    } finally {
      writer.stop();
      kill9(child);
      await mm.close();
    }
  }, 90_000);
});

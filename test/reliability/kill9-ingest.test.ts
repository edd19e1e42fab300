/**
 * kill -9 while ingesting: a real daemon process follows transcripts that a writer keeps
 * appending to, and is killed with SIGKILL at seeded random moments, CYCLES times. Afterwards
 * the store's view (`clawpulse sessions --json`) must equal both the writer's truth (turns
 * written × what one turn holds) and an independent re-read of the files (`clawpulse replay`):
 * nothing lost, nothing counted twice.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { benchSessionId, isSessionHeader, TRANSCRIPT_FIXTURE, withEntryId } from '../../bench/support.js';
import type { ReplayJson } from '../../src/render/json-view.js';
import { tempDir } from '../../src/test-support/temp-dir.js';
import { freePort, prng, sleep } from '../support/reliability-kit.js';
import { fixtureTokenTotal, PARENT_ID } from '../support/state-dir.js';

const run = promisify(execFile);
const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const CYCLES = Number(process.env.RELIABILITY_KILL_CYCLES) || 20;
const SESSIONS = 8;

async function healthEvents(port: number): Promise<number | undefined> {
  try {
    const h = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as {
      store?: { events?: number };
    };
    return h.store?.events;
  } catch {
    return undefined;
  }
}

describe('kill -9 while ingesting', () => {
  it(`loses and doubles nothing over ${CYCLES} SIGKILLs`, async () => {
    const seed = Number(process.env.RELIABILITY_SEED) || 0x5eed;
    const rand = prng(seed);
    const root = tempDir('clawpulse-kill9-');
    const stateDir = join(root, 'openclaw');
    const sessions = join(stateDir, 'agents', 'main', 'sessions');
    mkdirSync(sessions, { recursive: true });
    const template = readFileSync(TRANSCRIPT_FIXTURE, 'utf8').trim().split('\n');
    const toolsPerTurn = template.filter((l) => l.includes('"type":"toolCall"')).length;
    const index: Record<string, unknown> = {};
    for (let s = 0; s < SESSIONS; s++)
      index[`agent:main:k9:${s}`] = { sessionId: benchSessionId(s), updatedAt: Date.now() };
    writeFileSync(join(sessions, 'sessions.json'), JSON.stringify(index));
    const turns = new Array<number>(SESSIONS).fill(0);
    let lineNo = 0;
    /** the writer: one more turn of the recorded transcript in session s, written in pieces */
    const writeTurn = async (s: number) => {
      const file = join(sessions, `${benchSessionId(s)}.jsonl`);
      const lines = template
        .filter((l) => turns[s] === 0 || !isSessionHeader(l))
        .map((l) => withEntryId(l, lineNo++));
      // in two appends, so a kill can fall between the halves of a turn
      const cut = 1 + Math.floor(rand() * (lines.length - 1));
      appendFileSync(file, `${lines.slice(0, cut).join('\n')}\n`);
      await sleep(rand() * 30);
      appendFileSync(file, `${lines.slice(cut).join('\n')}\n`);
      turns[s] = (turns[s] ?? 0) + 1;
    };
    const env = {
      ...process.env,
      OPENCLAW_STATE_DIR: stateDir,
      CLAWPULSE_HOME: join(root, 'clawpulse'),
      SOURCES: 'files',
      LOG_LEVEL: 'warn',
      POLL_INTERVAL_MS: '100',
    };
    const start = async (): Promise<{ proc: ChildProcess; port: number }> => {
      const port = await freePort();
      const proc = spawn(process.execPath, ['--import', 'tsx', MAIN, 'start'], {
        env: { ...env, HEALTH_PORT: String(port) },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      for (let i = 0; (await healthEvents(port)) === undefined; i++) {
        if (i > 400) throw new Error('the daemon did not start within 20 s');
        await sleep(50);
      }
      return { proc, port };
    };

    for (let s = 0; s < SESSIONS; s++) await writeTurn(s);
    let kills = 0;
    for (let c = 0; c < CYCLES; c++) {
      const { proc } = await start();
      const exited = new Promise((r) => proc.once('exit', r));
      // the writer goes on while the daemon reads; the kill comes at a random moment
      const deadline = Date.now() + 100 + rand() * 900;
      while (Date.now() < deadline) await writeTurn(Math.floor(rand() * SESSIONS));
      proc.kill('SIGKILL');
      await exited;
      kills++;
    }
    // one more clean run to catch up, then a graceful stop
    const { proc, port } = await start();
    let last = -1;
    for (let i = 0; i < 120; i++) {
      await sleep(500);
      const n = (await healthEvents(port)) ?? -1;
      if (n === last && n > 0) break;
      last = n;
    }
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;

    const stored = JSON.parse(
      (await run(process.execPath, ['--import', 'tsx', MAIN, 'sessions', '--json'], { env })).stdout,
    ) as ReplayJson;
    const replayed = JSON.parse(
      (
        await run(process.execPath, ['--import', 'tsx', MAIN, 'replay', stateDir, '--json'], {
          env,
          maxBuffer: 64 << 20,
        })
      ).stdout,
    ) as ReplayJson;
    const perTurn = fixtureTokenTotal(PARENT_ID);
    const view = (j: ReplayJson) =>
      Object.fromEntries(
        j.sessions
          .filter((s) => s.sessionKey.startsWith('agent:main:k9:'))
          .map((s) => [s.sessionKey, { tokens: s.tokens.total, tools: s.tools.length }]),
      );
    const truth = Object.fromEntries(
      turns.map((t, s) => [`agent:main:k9:${s}`, { tokens: t * perTurn, tools: t * toolsPerTurn }]),
    );
    const total = turns.reduce((a, b) => a + b, 0);
    console.log(
      `[reliability] kill9-ingest: ${kills} SIGKILLs, ${total} turns (${lineNo} lines) in ${SESSIONS} transcripts, seed ${seed}; stored = truth: ${JSON.stringify(view(stored)) === JSON.stringify(truth)}, replay = truth: ${JSON.stringify(view(replayed)) === JSON.stringify(truth)}`,
    );
    expect(view(stored)).toEqual(truth);
    expect(view(replayed)).toEqual(truth);
  }, 300_000);
});

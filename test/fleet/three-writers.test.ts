/**
 * Three real daemons (processes, `clawpulse start`) on three state dirs with different
 * transcripts, each under its CLAWPULSE_HOST, write into one PostgreSQL database; a real
 * `clawpulse serve` process reads them. Every session of every host is in serve's /api/sessions,
 * and events, tokens and cost per host and overall are exactly what each daemon reports.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openclawKey } from '../../src/model/session-scope.js';
import type { SessionSummary } from '../../src/server/summary.js';
import { type PgCluster, postgresAvailable, startPostgres } from '../support/postgres.js';
import { sleep } from '../support/reliability-kit.js';
import { CHILD_ID, makeStateDir } from '../support/state-dir.js';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

interface Proc {
  proc: ChildProcess;
  base: string;
  err: () => string;
}

let cluster: PgCluster;
const procs: Proc[] = [];
const roots: string[] = [];

/** PostgreSQL tests skip where it is not installed, except in CI (.ci/run installs it) */
const withPg = postgresAvailable() || Boolean(process.env.CI);
const suite = withPg ? describe : describe.skip;

beforeAll(async () => {
  if (withPg) cluster = await startPostgres();
});
afterAll(async () => {
  for (const p of procs) {
    if (p.proc.exitCode === null) {
      const gone = new Promise((r) => p.proc.once('exit', r));
      p.proc.kill('SIGTERM');
      await Promise.race([gone, sleep(10_000)]);
      if (p.proc.exitCode === null) p.proc.kill('SIGKILL');
    }
  }
  cluster?.stop();
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** starts `clawpulse <cmd>` and resolves with its dashboard URL (the first line it prints) */
function launch(cmd: string[], env: NodeJS.ProcessEnv): Promise<Proc> {
  const proc = spawn(process.execPath, ['--import', 'tsx', MAIN, ...cmd], {
    env: { ...process.env, LOG_LEVEL: 'warn', LOG_FORMAT: 'json', HEALTH_PORT: 'any', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stderr?.on('data', (d) => {
    err += String(d);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd[0]} did not start in 60 s: ${err}`)), 60_000);
    proc.once('exit', (code) => reject(new Error(`${cmd[0]} exited ${code}: ${err}`)));
    proc.stdout?.on('data', (d) => {
      out += String(d);
      const m = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        const p = { proc, base: m[1], err: () => err };
        procs.push(p);
        resolve(p);
      }
    });
  });
}

async function json<T>(base: string, path: string): Promise<T> {
  const res = await fetch(`${base}${path}`);
  return (await res.json()) as T;
}

/** three state dirs, each its own mix of the real 2026.7.35 transcripts */
function stateDirs(): Record<string, string> {
  const a = makeStateDir(); // the parent and its sub-agent
  const b = makeStateDir(); // the parent only: the same OpenClaw key as on host a
  const c = makeStateDir(); // both, under other keys
  roots.push(a.root, b.root, c.root);
  const bIndex = join(b.sessionsDir, 'sessions.json');
  const bSessions = JSON.parse(readFileSync(bIndex, 'utf8')) as Record<string, { sessionId?: string }>;
  for (const [k, v] of Object.entries(bSessions)) if (v.sessionId === CHILD_ID) delete bSessions[k];
  writeFileSync(bIndex, JSON.stringify(bSessions, null, 2));
  unlinkSync(join(b.sessionsDir, `${CHILD_ID}.jsonl`));
  const cIndex = join(c.sessionsDir, 'sessions.json');
  writeFileSync(cIndex, readFileSync(cIndex, 'utf8').replaceAll('agent:main:main', 'agent:main:ops'));
  return { alpha: a.stateDir, bravo: b.stateDir, charlie: c.stateDir };
}

interface Health {
  pipeline: { ingested: number };
  sources: Array<{ id: string; state: string; lagMs: number }>;
  fleet?: { hosts: Array<{ host: string; lastSeq: number; stale: boolean }> };
}

/** polls until `f` is stable for two reads in a row (the daemon has read everything) */
async function settled<T>(what: string, f: () => Promise<T>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  let last = JSON.stringify(await f());
  for (;;) {
    await sleep(500);
    const v = await f();
    const now = JSON.stringify(v);
    if (now === last && now !== '[]') return v;
    if (Date.now() > end) throw new Error(`${what} did not settle`);
    last = now;
  }
}

const totals = (list: SessionSummary[]) => ({
  sessions: list.length,
  tokens: list.reduce((n, s) => n + s.tokens, 0),
  cost: Math.round(list.reduce((n, s) => n + s.costUsd, 0) * 1e9),
});

suite('three writers, one serve', () => {
  it('shows every session of every host, with exact totals per host and overall', {
    timeout: 180_000,
  }, async () => {
    const url = await cluster.createDatabase('three');
    const dirs = stateDirs();
    const daemons = new Map<string, Proc>();
    // started together: the migrations run once, under their lock
    const started = await Promise.all(
      Object.entries(dirs).map(async ([host, stateDir]) => {
        const home = join(stateDir, '..', 'clawpulse');
        const p = await launch(['start'], {
          OPENCLAW_STATE_DIR: stateDir,
          CLAWPULSE_HOME: home,
          CLAWPULSE_STORE: url,
          CLAWPULSE_HOST: host,
          SOURCES: 'files',
        });
        return [host, p] as const;
      }),
    );
    for (const [h, p] of started) daemons.set(h, p);
    const serve = await launch(['serve', '--cache', ':memory:'], {
      CLAWPULSE_STORE: url,
      CLAWPULSE_HOME: join(roots[0] as string, 'serve'),
    });

    // what each daemon reports, once it has read its transcripts
    const perHost = new Map<string, { sessions: SessionSummary[]; ingested: number }>();
    for (const [host, d] of daemons) {
      const sessions = await settled(`${host}'s sessions`, async () =>
        (await json<{ sessions: SessionSummary[] }>(d.base, '/api/sessions')).sessions
          .map((s) => ({ ...s, elapsed: 0 }))
          .sort((x, y) => x.key.localeCompare(y.key)),
      );
      const h = await json<Health>(d.base, '/health');
      perHost.set(host, { sessions, ingested: h.pipeline.ingested });
    }
    expect(perHost.get('alpha')?.sessions.map((s) => s.key)).toHaveLength(2);
    // bravo has the parent's transcript only: its sub-agent is known (spawned) but not its lines
    expect(perHost.get('bravo')?.sessions.map((s) => s.key)).toContain('agent:main:main');
    expect(perHost.get('bravo')?.ingested).toBeLessThan(perHost.get('alpha')?.ingested ?? 0);

    // the database holds each host's events under its own gap-free seqs
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    const counted = await db.query<{ host: string; n: string; last: string }>(
      'SELECT host, count(*)::text AS n, max(seq)::text AS last FROM clawpulse_events GROUP BY host ORDER BY host',
    );
    await db.end();
    for (const r of counted.rows) {
      expect(Number(r.n), `events of ${r.host}`).toBe(perHost.get(r.host)?.ingested);
      expect(Number(r.last)).toBe(Number(r.n));
    }
    expect(counted.rows.map((r) => r.host)).toEqual(['alpha', 'bravo', 'charlie']);

    // serve: every host's sessions, scoped by host
    const all = await settled("serve's sessions", async () =>
      (await json<{ sessions: SessionSummary[] }>(serve.base, '/api/sessions')).sessions
        .map((s) => ({ ...s, elapsed: 0 }))
        .sort((x, y) => x.key.localeCompare(y.key)),
    );
    let overall = { sessions: 0, tokens: 0, cost: 0 };
    let events = 0;
    for (const [host, mine] of perHost) {
      const theirs = all.filter((s) => s.key.startsWith(`${host}|`));
      expect(
        theirs.map((s) => openclawKey(s.key)),
        `sessions of ${host}`,
      ).toEqual(mine.sessions.map((s) => s.key));
      for (const [i, s] of theirs.entries()) {
        const d = mine.sessions[i] as SessionSummary;
        expect({ tokens: s.tokens, cost: s.costUsd, status: s.status }, `${s.key}`).toEqual({
          tokens: d.tokens,
          cost: d.costUsd,
          status: d.status,
        });
      }
      expect(totals(theirs), `totals of ${host}`).toEqual(totals(mine.sessions));
      const t = totals(mine.sessions);
      overall = {
        sessions: overall.sessions + t.sessions,
        tokens: overall.tokens + t.tokens,
        cost: overall.cost + t.cost,
      };
      events += mine.ingested;
    }
    expect(totals(all)).toEqual(overall);
    expect(overall.tokens).toBeGreaterThan(0);
    // serve has read every event the daemons stored (bounded wait: the sessions above may settle
    // a moment before serve's last page of events is applied)
    let sh = await json<Health>(serve.base, '/health');
    for (let i = 0; i < 40 && sh.pipeline.ingested < events; i++) {
      await sleep(250);
      sh = await json<Health>(serve.base, '/health');
    }
    expect(sh.pipeline.ingested).toBe(events);
    expect(sh.fleet?.hosts.map((h) => [h.host, h.lastSeq, h.stale])).toEqual(
      [...perHost].map(([h, v]) => [h, v.ingested, false]),
    );
    // the same OpenClaw key on alpha and bravo: two sessions, not one
    expect(all.filter((s) => openclawKey(s.key) === 'agent:main:main')).toHaveLength(2);
    // `clawpulse status --serve` finds serve by its PID file and names it and every host
    const status = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', MAIN, 'status', '--serve'],
      { env: { ...process.env, CLAWPULSE_STORE: url, CLAWPULSE_HOME: join(roots[0] as string, 'serve') } },
    );
    expect(status.stdout).toMatch(/^clawpulse serve is running \(pid \d+\)/);
    for (const host of ['alpha', 'bravo', 'charlie'])
      expect(status.stdout).toMatch(new RegExp(`host ${host}: ok, \\d+ events`));
  });
});

/**
 * The daemon on the shared PostgreSQL store, end to end: a real `clawpulse start` process with
 * CLAWPULSE_STORE=postgres://… (a throwaway cluster, test/support/postgres.ts) following a state
 * dir of real OpenClaw transcripts.
 *
 * - the sessions land in the database under the host id; /health says postgres + host;
 * - a restart resumes from the stored offsets: nothing read twice, the line written while it was
 *   down read once;
 * - the dispatch ledger: `clawpulse dispatch import` and `dispatch list` against PostgreSQL;
 * - a second daemon with the same CLAWPULSE_HOST is refused at start, saying why;
 * - the database stopped for a few seconds while lines arrive: ingest holds and resumes, every
 *   line stored exactly once, the daemon still running.
 *
 * Skipped without PostgreSQL installed, except under CI (CI=true), where it fails loudly.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PgCluster, postgresAvailable, startPostgres } from './support/postgres.js';
import { freePort, sleep } from './support/reliability-kit.js';
import { CHILD_KEY, makeStateDir, PARENT_ID } from './support/state-dir.js';

const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;
const HOST = 'host-a';
const suite = postgresAvailable() || process.env.CI ? describe : describe.skip;

interface Running {
  proc: ChildProcess;
  port: number;
  logs: () => string;
}

/** this process's environment without what would point clawpulse at a real setup */
function cleanEnv(over: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(OPENCLAW_|CLAWPULSE_|DISPATCH_|LOKI_|PID_FILE|DASHBOARD_TOKEN|HEALTH_PORT|MM_|OTEL_)/.test(k))
      env[k] = v;
  return { ...env, ...over };
}

function assistantLine(id: string, text: string): string {
  return `${JSON.stringify({
    type: 'message',
    id,
    parentId: null,
    timestamp: new Date().toISOString(),
    message: {
      role: 'assistant',
      content: [{ type: 'text', text }],
      stopReason: 'stop',
      timestamp: Date.now(),
    },
  })}\n`;
}

suite('daemon on PostgreSQL', () => {
  let cluster: PgCluster;
  let url: string;
  let db: pg.Client;
  const { root, stateDir, sessionsDir } = makeStateDir();
  const running: Running[] = [];

  const envFor = (home: string, port: number): NodeJS.ProcessEnv =>
    cleanEnv({
      HOME: root,
      OPENCLAW_STATE_DIR: stateDir,
      CLAWPULSE_HOME: join(root, home),
      CLAWPULSE_STORE: url,
      CLAWPULSE_HOST: HOST,
      SOURCES: 'files',
      HEALTH_PORT: String(port),
      POLL_INTERVAL_MS: '100',
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
    });

  function start(home: string, port: number): Running {
    const proc = spawn(process.execPath, ['--import', 'tsx', MAIN, 'start'], {
      env: envFor(home, port),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let logs = '';
    proc.stdout?.on('data', (d: Buffer) => {
      logs += d.toString();
    });
    proc.stderr?.on('data', (d: Buffer) => {
      logs += d.toString();
    });
    const r = { proc, port, logs: () => logs };
    running.push(r);
    return r;
  }

  async function health(r: Running): Promise<Record<string, unknown> & { store: Record<string, unknown> }> {
    const res = await fetch(`http://127.0.0.1:${r.port}/health`);
    return (await res.json()) as Record<string, unknown> & { store: Record<string, unknown> };
  }

  async function untilUp(r: Running): Promise<void> {
    for (let i = 0; i < 600; i++) {
      if (r.proc.exitCode !== null) throw new Error(`the daemon exited (${r.proc.exitCode}):\n${r.logs()}`);
      try {
        await health(r);
        return;
      } catch {
        await sleep(50);
      }
    }
    throw new Error(`the daemon did not answer within 30 s:\n${r.logs().slice(-3000)}`);
  }

  async function stopDaemon(r: Running): Promise<number | null> {
    if (r.proc.exitCode !== null) return r.proc.exitCode;
    const exited = new Promise<number | null>((res) => r.proc.once('exit', (code) => res(code)));
    r.proc.kill('SIGTERM');
    return exited;
  }

  const cli = (args: string[], home = 'cp'): Promise<{ code: number; out: string; err: string }> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', MAIN, ...args],
        { env: envFor(home, 1), encoding: 'utf8', timeout: 60_000 },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number(error.code ?? 1) : 0, out: stdout, err: stderr }),
      );
    });

  /** the events stored for this host: how many, how many distinct (session, dedupe key), the last seq */
  async function counts(): Promise<{ events: number; distinct: number; lastSeq: number }> {
    const r = await db.query<{ events: string; distinct: string; last: string | null }>(
      `SELECT count(*) AS events, count(DISTINCT (session_key, dedupe_key)) AS distinct, max(seq) AS last
         FROM clawpulse_events WHERE host = $1`,
      [HOST],
    );
    const row = r.rows[0];
    return { events: Number(row?.events), distinct: Number(row?.distinct), lastSeq: Number(row?.last ?? 0) };
  }

  /** how many stored events carry this text */
  async function withText(text: string): Promise<number> {
    const r = await db.query<{ n: string }>(
      'SELECT count(*) AS n FROM clawpulse_events WHERE host = $1 AND body LIKE $2',
      [HOST, `%${text}%`],
    );
    return Number(r.rows[0]?.n);
  }

  beforeAll(async () => {
    cluster = await startPostgres();
    url = await cluster.createDatabase('fleet');
    db = new pg.Client({ connectionString: url });
    db.on('error', () => {}); // the outage test stops the server under it
    await db.connect();
  });

  afterAll(async () => {
    for (const r of running) await stopDaemon(r);
    await db?.end().catch(() => {});
    cluster?.stop();
  });

  it('stores the sessions under its host id, and says postgres + host in /health', async () => {
    const d = start('cp', await freePort());
    await untilUp(d);
    await expect.poll(async () => (await counts()).events, { timeout: 20_000 }).toBeGreaterThan(10);
    const h = await health(d);
    expect(h.store).toMatchObject({ engine: 'postgres', host: HOST });
    expect(String(h.store.path)).toMatch(/^postgres(ql)?:\/\/postgres@127\.0\.0\.1:\d+\/fleet/);
    const c = await counts();
    expect(c.distinct).toBe(c.events);
    const hosts = await db.query<{ host: string }>('SELECT host FROM clawpulse_hosts');
    expect(hosts.rows.map((r) => r.host)).toEqual([HOST]);
  });

  it('refuses a second daemon with the same CLAWPULSE_HOST, saying why, and leaves the first running', async () => {
    const first = running[0] as Running;
    const second = start('cp-second', await freePort());
    const code = await new Promise<number | null>((res) => second.proc.once('exit', (c) => res(c)));
    expect(code).not.toBe(0);
    expect(second.logs()).toMatch(new RegExp(`${HOST}`));
    expect(second.logs()).toMatch(/CLAWPULSE_HOST/);
    expect(first.proc.exitCode).toBeNull();
    expect((await health(first)).store).toMatchObject({ engine: 'postgres' });
  }, 60_000);

  it('keeps the dispatch ledger in PostgreSQL: dispatch import and dispatch list', async () => {
    const labels = join(root, 'labels.json');
    writeFileSync(
      labels,
      JSON.stringify({
        'fix-build': {
          sessionKey: 'agent:main:subagent:fix-build',
          status: 'running',
          spawnedAt: '2026-12-01T10:00:00.000Z',
          updatedAt: '2026-12-01T10:00:00.000Z',
        },
      }),
    );
    const imported = await cli(['dispatch', 'import', labels, '--json']);
    expect(imported.err).toBe('');
    expect(JSON.parse(imported.out)).toMatchObject({ imported: ['fix-build'] });
    const listed = await cli(['dispatch', 'list', '--json']);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.out)).toMatchObject({
      'fix-build': { sessionKey: 'agent:main:subagent:fix-build' },
    });
    const rows = await db.query<{ host: string; label: string }>(
      'SELECT host, label FROM clawpulse_dispatch_labels',
    );
    expect(rows.rows).toEqual([{ host: HOST, label: 'fix-build' }]);
  }, 60_000);

  it('resumes after a restart from the stored offsets: nothing read twice, the new line once', async () => {
    const d1 = running[0] as Running;
    // let the first run's batches settle, then stop it
    await sleep(500);
    expect(await stopDaemon(d1)).toBe(0);
    const before = await counts();
    appendFileSync(
      join(sessionsDir, `${PARENT_ID}.jsonl`),
      assistantLine('feedbeef', 'written while clawpulse was down'),
    );
    const d2 = start('cp', await freePort());
    await untilUp(d2);
    await expect.poll(() => withText('written while clawpulse was down'), { timeout: 20_000 }).toBe(1);
    await sleep(1000); // a re-read of the files would land by now
    const after = await counts();
    expect(after.distinct).toBe(after.events);
    // what the restart added is the new line's facts only (one message: its run, step and text)
    const added = await db.query<{ dedupe_key: string }>(
      'SELECT dedupe_key FROM clawpulse_events WHERE host = $1 AND seq > $2 ORDER BY seq',
      [HOST, before.lastSeq],
    );
    expect(added.rows.length).toBe(after.events - before.events);
    expect(added.rows.length).toBeGreaterThan(0);
    for (const r of added.rows) expect(r.dedupe_key).toContain(`${PARENT_ID}/feedbeef/`);
  }, 60_000);

  it('loses nothing while the database is down for a few seconds: ingest holds, then resumes', async () => {
    const d = running.at(-1) as Running;
    const n = 30;
    cluster.stopServer('fast');
    try {
      for (let i = 0; i < n; i++) {
        appendFileSync(
          join(sessionsDir, `${PARENT_ID}.jsonl`),
          assistantLine(`outage${String(i).padStart(4, '0')}`, `during the outage #${i}#`),
        );
        await sleep(100);
      }
      await sleep(1000);
      // the daemon is alive and says the store is in trouble
      expect(d.proc.exitCode).toBeNull();
      const h = await health(d);
      expect(h.status).not.toBe('ok');
    } finally {
      cluster.startServer();
    }
    await db.end().catch(() => {});
    db = new pg.Client({ connectionString: url });
    db.on('error', () => {});
    await db.connect();
    await expect.poll(() => withText('during the outage #'), { timeout: 30_000, interval: 250 }).toBe(n);
    for (const i of [0, 1, n - 1]) expect(await withText(`during the outage #${i}#`)).toBe(1);
    const c = await counts();
    expect(c.distinct).toBe(c.events);
    expect(d.proc.exitCode).toBeNull();
    await expect.poll(async () => (await health(d)).status, { timeout: 20_000 }).toBe('ok');
  }, 90_000);

  it('lets `clawpulse sessions` read the sessions from PostgreSQL when no daemon runs', async () => {
    for (const r of running) await stopDaemon(r);
    const r = await cli(['sessions', '--json']);
    expect(r.err).toMatch(
      /no daemon running: reading the store postgres:\/\/postgres@127\.0\.0\.1:\d+\/fleet/,
    );
    const out = JSON.parse(r.out) as { source: string; sessions: Array<{ sessionKey: string }> };
    expect(out.source).toBe('store');
    expect(out.sessions.map((s) => s.sessionKey).sort()).toEqual(['agent:main:main', CHILD_KEY].sort());
  }, 60_000);
});

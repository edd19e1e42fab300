/**
 * The fleet view against a real PostgreSQL cluster: rows written straight into the shared tables
 * (fleet-db.ts), read by `startFleetServe` over a real LISTEN and real HTTP.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { type FleetServe, startFleetServe } from '../../src/fleet/fleet-serve.js';
import { startHostHeartbeat } from '../../src/fleet/host-heartbeat.js';
import { silentLogger } from '../../src/infra/logger.js';
import type { PulseEvent } from '../../src/model/events.js';
import type { SessionSummary } from '../../src/server/summary.js';
import { type PgCluster, postgresAvailable, startPostgres } from '../support/postgres.js';
import { type FleetDb, openFleetDb } from './fleet-db.js';

let cluster: PgCluster;
let dir: string;
let dbCount = 0;
const running: FleetServe[] = [];
const dbs: FleetDb[] = [];

/** PostgreSQL tests skip where it is not installed, except in CI (.ci/run installs it) */
const withPg = postgresAvailable() || Boolean(process.env.CI);
const suite = withPg ? describe : describe.skip;

beforeAll(async () => {
  if (withPg) cluster = await startPostgres();
  dir = mkdtempSync(join(tmpdir(), 'clawpulse-fleet-'));
});
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop('test');
  for (const d of dbs.splice(0)) await d.close();
});
afterAll(() => {
  cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function freshDb(): Promise<{ url: string; db: FleetDb }> {
  const url = await cluster.createDatabase(`fleet${++dbCount}`);
  const db = await openFleetDb(url);
  dbs.push(db);
  return { url, db };
}

const config = () =>
  loadConfig({ HOME: dir, CLAWPULSE_HOME: join(dir, 'home'), HEALTH_PORT: 'any', LOG_LEVEL: 'silent' });

/** a poll far beyond any test's wait: what arrives live arrived through NOTIFY */
const NO_POLL = 600_000;

async function serve(url: string, cachePath = ':memory:', pollMs = NO_POLL): Promise<FleetServe> {
  const s = await startFleetServe(config(), { url, cachePath, logger: silentLogger, pollMs });
  running.push(s);
  return s;
}

let n = 0;
/** a short session: seen, a run with tokens */
function sessionEvents(key: string, tokens: number, costUsd: number): PulseEvent[] {
  const base = { source: 'files' as const, agentId: 'main', sessionKey: key, ts: Date.now() };
  const d = () => `${key}#${++n}`;
  return [
    { ...base, type: 'session.seen', dedupeKey: d(), label: `label of ${key}` },
    { ...base, type: 'agent.started', runId: 'r1', dedupeKey: d() },
    {
      ...base,
      type: 'llm.tokens',
      runId: 'r1',
      input: tokens,
      output: 0,
      cacheRead: 0,
      cacheWrite: 0,
      reasoning: 0,
      costUsd,
      dedupeKey: d(),
    },
  ];
}

async function sessions(s: FleetServe): Promise<SessionSummary[]> {
  const res = await fetch(`http://127.0.0.1:${s.port}/api/sessions`);
  return ((await res.json()) as { sessions: SessionSummary[] }).sessions;
}

async function until<T>(
  what: string,
  f: () => Promise<T | undefined> | T | undefined,
  ms = 5000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

suite('fleet serve', () => {
  it('shows a write live through NOTIFY, without waiting for the poll', async () => {
    const { url, db } = await freshDb();
    await db.addHost('h1');
    const s = await serve(url);
    expect(await sessions(s)).toEqual([]);
    await db.write('h1', sessionEvents('agent:main:main', 100, 0.5));
    const got = await until('the session in /api/sessions', async () =>
      (await sessions(s)).find((x) => x.key === 'h1|agent:main:main'),
    );
    expect(got.tokens).toBe(100);
    expect(got.costUsd).toBeCloseTo(0.5);
    expect(s.pipeline.tracker.get('h1|agent:main:main')?.host).toBe('h1');
    // the hosts table was read before the write (and is re-read only by the poll): /health still
    // names the newest seq serve has read
    const h = (await (await fetch(`http://127.0.0.1:${s.port}/health`)).json()) as {
      fleet: { hosts: Array<{ host: string; lastSeq: number }> };
    };
    expect(h.fleet.hosts).toMatchObject([{ host: 'h1', lastSeq: 3 }]);
  });

  it('keeps the same key on two hosts as two sessions, sub-agent keys scoped too', async () => {
    const { url, db } = await freshDb();
    await db.addHost('h1');
    await db.addHost('h2');
    await db.write('h1', sessionEvents('agent:main:main', 10, 0.1));
    await db.write('h2', sessionEvents('agent:main:main', 20, 0.2));
    const child = 'agent:main:subagent:abc';
    await db.write('h2', [
      {
        source: 'files',
        agentId: 'main',
        sessionKey: 'agent:main:main',
        ts: Date.now(),
        type: 'subagent.spawned',
        parentKey: 'agent:main:main',
        childKey: child,
        dedupeKey: 'spawn1',
      },
    ]);
    const s = await serve(url);
    const list = await until('three sessions', async () => {
      const l = await sessions(s);
      return l.length === 3 ? l : undefined;
    });
    const byKey = new Map(list.map((x) => [x.key, x]));
    expect(byKey.get('h1|agent:main:main')?.tokens).toBe(10);
    expect(byKey.get('h2|agent:main:main')?.tokens).toBe(20);
    expect(byKey.get(`h2|${child}`)?.parentKey).toBe('h2|agent:main:main');
    expect(s.pipeline.tracker.get(`h2|${child}`)?.host).toBe('h2');
  });

  it('resumes every host by seq after a restart (reads only what is new)', async () => {
    const { url, db } = await freshDb();
    const cache = join(dir, 'resume.sqlite');
    await db.addHost('h1');
    await db.addHost('h2');
    await db.write('h1', sessionEvents('agent:main:a', 1, 0));
    await db.write('h2', sessionEvents('agent:main:b', 2, 0));
    const first = await serve(url, cache);
    await first.source.catchUp();
    expect(Object.fromEntries(first.source.offsets())).toEqual({ h1: 3, h2: 3 });
    await first.stop();
    running.splice(running.indexOf(first), 1);

    await db.write('h1', sessionEvents('agent:main:c', 3, 0), { notify: false });
    const second = await serve(url, cache);
    await second.source.catchUp();
    expect(Object.fromEntries(second.source.offsets())).toEqual({ h1: 6, h2: 3 });
    // the three new events only: nothing read twice (duplicates would be dropped, and counted)
    expect(second.pipeline.stats()).toMatchObject({ ingested: 3, duplicates: 0 });
    expect(second.store.countEvents()).toBe(9);
    expect((await sessions(second)).map((x) => x.key).sort()).toEqual([
      'h1|agent:main:a',
      'h1|agent:main:c',
      'h2|agent:main:b',
    ]);
  });

  it('says so when the database holds fewer events of a host than the mirror read (replaced)', async () => {
    const { url, db } = await freshDb();
    const cache = join(dir, 'replaced.sqlite');
    await db.addHost('h1');
    await db.write('h1', sessionEvents('agent:main:a', 1, 0));
    const first = await serve(url, cache);
    await first.source.catchUp();
    await first.stop();
    running.splice(running.indexOf(first), 1);
    // the database emptied and written again: seq 1..3 name other events now
    await db.client.query('TRUNCATE clawpulse_events');
    await db.client.query('UPDATE clawpulse_hosts SET last_seq = 0');
    await db.write('h1', sessionEvents('agent:main:b', 1, 0).slice(0, 1));
    const second = await serve(url, cache);
    await second.source.catchUp();
    expect(second.source.health().problem).toMatch(/h1 \(seq 1, read to 3\).*new --cache/);
    expect(second.health().status).not.toBe('ok');
  });

  it('loses nothing when the LISTEN connection drops: the reconnect catches every host up', async () => {
    const { url, db } = await freshDb();
    await db.addHost('h1');
    const s = await serve(url);
    await until('listening', () => s.source.health().state === 'live');
    // end the listener's backend, then write at once: its NOTIFY goes nowhere
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()",
    );
    await admin.end();
    await db.write('h1', sessionEvents('agent:main:lost', 7, 0));
    await until(
      'the session written while the listener was down',
      async () => (await sessions(s)).find((x) => x.key === 'h1|agent:main:lost'),
      10_000,
    );
    expect(s.source.health().state).toBe('live');
  });

  it('reports each host with its heartbeat and sources; a quiet host is stale', async () => {
    const { url, db } = await freshDb();
    await db.addHost('fresh', { heartbeatAgoS: 0 });
    await db.addHost('quiet', { heartbeatAgoS: 60 });
    await db.addHost('gone', { heartbeatAgoS: 120, stopped: true });
    const s = await serve(url);
    await s.source.catchUp();
    // a daemon's heartbeat: its /health summary lands in the row
    const beat = startHostHeartbeat({
      url,
      host: 'fresh',
      logger: silentLogger,
      intervalMs: NO_POLL,
      health: () => ({
        status: 'ok',
        uptimeMs: 1,
        sources: [{ id: 'files', kind: 'files', state: 'live', lagMs: 0, malformed: 0 }],
        sinks: [],
        store: { path: 'pg', events: 0, sessions: 0, lastSeq: 0, bytes: 0 },
        sessions: { active: 0, idle: 0, stuck: 0, error: 0, done: 0, interrupted: 0 },
      }),
    });
    expect(await beat.beat()).toBe(true);
    await beat.stop();
    await s.source.catchUp();
    const res = await fetch(`http://127.0.0.1:${s.port}/health`);
    const h = (await res.json()) as {
      status: string;
      fleet: {
        hosts: Array<{ host: string; stale: boolean; sources: Array<{ id: string }>; stoppedAt?: number }>;
      };
    };
    const byHost = new Map(h.fleet.hosts.map((x) => [x.host, x]));
    expect(byHost.get('fresh')).toMatchObject({ stale: false, sources: [{ id: 'files' }] });
    expect(byHost.get('quiet')?.stale).toBe(true);
    expect(byHost.get('gone')?.stale).toBe(true);
    expect(byHost.get('gone')?.stoppedAt).toBeGreaterThan(0);
    // the quiet host did not stop: a hole in the view
    expect(h.status).toBe('degraded');
  });

  it('a heartbeat into a database that is down fails quietly, and is written once it is back', async () => {
    const { url, db } = await freshDb();
    await db.addHost('h1', { heartbeatAgoS: 3600 });
    const health = () => ({
      status: 'ok' as const,
      uptimeMs: 1,
      sources: [],
      sinks: [],
      store: { path: 'pg', events: 0, sessions: 0, lastSeq: 0, bytes: 0 },
      sessions: { active: 0, idle: 0, stuck: 0, error: 0, done: 0, interrupted: 0 },
    });
    const dead = startHostHeartbeat({
      url: 'postgres://postgres@127.0.0.1:1/none',
      host: 'h1',
      logger: silentLogger,
      intervalMs: NO_POLL,
      health,
    });
    expect(await dead.beat()).toBe(false);
    await dead.stop();
    const live = startHostHeartbeat({ url, host: 'h1', logger: silentLogger, intervalMs: NO_POLL, health });
    expect(await live.beat()).toBe(true);
    await live.stop();
    const r = await db.client.query<{ age: number }>(
      "SELECT extract(epoch FROM now() - heartbeat_at)::float AS age FROM clawpulse_hosts WHERE host = 'h1'",
    );
    expect(r.rows[0]?.age).toBeLessThan(5);
  });

  it('answers steer with 409 naming the host that follows the session', async () => {
    const { url, db } = await freshDb();
    await db.addHost('h1');
    await db.write('h1', sessionEvents('agent:main:main', 1, 0));
    const s = await serve(url);
    await s.source.catchUp();
    const res = await fetch(
      `http://127.0.0.1:${s.port}/api/sessions/${encodeURIComponent('h1|agent:main:main')}/steer`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'hi' }),
      },
    );
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: string }).error).toMatch(/followed by host h1: act there/);
  });

  it('runs on while the database is down, and reads on once it is back', async () => {
    const { url, db } = await freshDb();
    await db.addHost('h1');
    const s = await serve(url, ':memory:', 200);
    await db.close();
    dbs.splice(dbs.indexOf(db), 1);
    cluster.stopServer('fast');
    await until('the reader down', () => s.source.health().state === 'down', 10_000);
    expect((await fetch(`http://127.0.0.1:${s.port}/health`)).status).toBeLessThan(600);
    cluster.startServer();
    const again = await openFleetDb(url);
    dbs.push(again);
    await again.write('h1', sessionEvents('agent:main:after', 5, 0));
    await until(
      'the session written after the restart',
      async () => (await sessions(s)).find((x) => x.key === 'h1|agent:main:after'),
      20_000,
    );
  });
});

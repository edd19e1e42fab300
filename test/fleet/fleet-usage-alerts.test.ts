/**
 * Usage and alerts of the fleet: two hosts write events with cost and a firing alert each
 * through the real PostgreSQL stores (createPgStore: its usage aggregate and alerts) into one
 * database; `clawpulse serve` (the real app over real HTTP) reports both hosts' usage and lists
 * both hosts' alerts, and `clawpulse usage` (a child process) reports both hosts from
 * CLAWPULSE_STORE while a writer of its own host holds the host lease.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import { loadConfig } from '../../src/config/config.js';
import { type FleetServe, startFleetServe } from '../../src/fleet/fleet-serve.js';
import { silentLogger } from '../../src/infra/logger.js';
import type { PulseEvent } from '../../src/model/events.js';
import type { AlertsResponse } from '../../src/server/alerts-api.js';
import { createPgStore, type PgStore } from '../../src/store/pg/pg-store.js';
import type { UsageReport } from '../../src/usage/report.js';
import { type PgCluster, postgresAvailable, startPostgres } from '../support/postgres.js';

/** PostgreSQL tests skip where it is not installed, except in CI (.ci/run installs it) */
const withPg = postgresAvailable() || Boolean(process.env.CI);
const suite = withPg ? describe : describe.skip;

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const KEY = 'agent:main:main';
/** costs exact in binary: the totals compare with toBe */
const COST = { h1: [0.125, 0.5], h2: [1.75] } as const;
const GATEWAY = { h1: 'gw-a', h2: 'gw-b' } as const;
const NOW = Date.now();

let cluster: PgCluster;
let dir: string;
let url: string;
let serve: FleetServe | undefined;
const writers: Partial<Record<'h1' | 'h2', PgStore>> = {};

/** a session with one run per cost, its tokens and cost (the same key on both hosts) */
function events(host: 'h1' | 'h2'): PulseEvent[] {
  const base = { source: 'files' as const, agentId: 'main', sessionKey: KEY, gateway: GATEWAY[host] };
  const out: PulseEvent[] = [{ ...base, ts: NOW, type: 'session.seen', dedupeKey: `${host}-seen` }];
  COST[host].forEach((costUsd, i) => {
    const runId = `r${i}`;
    out.push(
      { ...base, ts: NOW + i * 10 + 1, type: 'agent.started', runId, dedupeKey: `${host}-start-${i}` },
      {
        ...base,
        ts: NOW + i * 10 + 2,
        type: 'llm.tokens',
        runId,
        input: 1000 * (i + 1),
        output: 10,
        cacheRead: 0,
        cacheWrite: 0,
        reasoning: 0,
        costUsd,
        model: 'claude-test',
        dedupeKey: `${host}-tokens-${i}`,
      },
    );
  });
  return out;
}

function alertOf(host: 'h1' | 'h2'): Alert {
  // h1: a session's alert; h2: a fleet-wide one (no session, no host of its own in the body)
  return host === 'h1'
    ? {
        id: `stuck:${KEY}:${NOW}`,
        rule: 'stuck',
        severity: 'warning',
        state: 'firing',
        key: `stuck:${KEY}`,
        sessionKey: KEY,
        agentId: 'main',
        message: `session ${KEY} stuck for 12 min in exec`,
        value: 720,
        threshold: 600,
        unit: 's',
        firedAt: NOW,
      }
    : {
        id: `budget:fleet-day:100:${NOW}`,
        rule: 'budget',
        severity: 'critical',
        state: 'firing',
        key: 'budget:fleet-day:100',
        message: 'fleet spend today $1.75 of $1.00',
        value: 1.75,
        threshold: 1,
        unit: 'usd',
        firedAt: NOW,
      };
}

/** the store's sub-stores (optional on an EventStore, always there on the PostgreSQL one) */
function usageOf(s: PgStore | undefined) {
  const u = s?.usage?.();
  if (!u) throw new Error('no usage aggregate');
  return u;
}
function alertsOf(s: PgStore | undefined) {
  const a = s?.alerts?.();
  if (!a) throw new Error('no alert store');
  return a;
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

async function get<T>(path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`http://127.0.0.1:${serve?.port}${path}`);
  return { status: res.status, body: (await res.json()) as T };
}

/** `clawpulse usage …` as a user runs it, on the shared store under host h1 */
function cli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const base = { ...process.env };
    delete base.CLAWPULSE_STORE;
    delete base.CLAWPULSE_DB;
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'usage', ...args], {
      env: {
        ...base,
        LOG_LEVEL: 'silent',
        CLAWPULSE_HOME: join(dir, 'cli-home'),
        CLAWPULSE_HOST: 'h1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

suite('usage and alerts of the fleet (shared PostgreSQL store)', () => {
  beforeAll(async () => {
    cluster = await startPostgres();
    dir = mkdtempSync(join(tmpdir(), 'clawpulse-fleet-usage-'));
    url = await cluster.createDatabase('fleetusage');
    for (const host of ['h1', 'h2'] as const) {
      // each host's daemon store: the host lease, its usage aggregate, its alerts
      const store = createPgStore(url, { host, writer: true, leaseWaitMs: 200 });
      writers[host] = store;
      usageOf(store).record(store.append(events(host)).stored);
      // written within a second by a daemon; here at once
      usageOf(store).appliedSeq();
      alertsOf(store).record(alertOf(host));
    }
    serve = await startFleetServe(
      loadConfig({ HOME: dir, CLAWPULSE_HOME: join(dir, 'home'), HEALTH_PORT: 'any', LOG_LEVEL: 'silent' }),
      { url, cachePath: ':memory:', logger: silentLogger, pollMs: 600_000 },
    );
  }, 60_000);
  afterAll(async () => {
    await serve?.stop('test');
    for (const w of Object.values(writers)) w?.close();
    cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("serve's /api/usage reports every host: by host with each one's exact cost, by gateway, by session", async () => {
    const byHost = await get<UsageReport>('/api/usage?by=host');
    expect(byHost.status).toBe(200);
    expect(byHost.body.rows.map((r) => [r.key, r.costUsd, r.runs, r.sessions])).toEqual([
      ['h2', sum(COST.h2), 1, 1],
      ['h1', sum(COST.h1), 2, 1],
    ]);
    expect(byHost.body.total.costUsd).toBe(sum(COST.h1) + sum(COST.h2));
    // the same key on both hosts: two sessions
    expect(byHost.body.total.sessions).toBe(2);

    const byGateway = await get<UsageReport>('/api/usage?by=gateway');
    expect(Object.fromEntries(byGateway.body.rows.map((r) => [r.key, r.costUsd]))).toEqual({
      'gw-a': sum(COST.h1),
      'gw-b': sum(COST.h2),
    });
    // sessions keyed as the fleet view keys them (its session list and links)
    const bySession = await get<UsageReport>('/api/usage?by=session');
    expect(bySession.body.rows.map((r) => r.key).sort()).toEqual([`h1|${KEY}`, `h2|${KEY}`]);

    const csv = await fetch(`http://127.0.0.1:${serve?.port}/api/usage?by=host&format=csv`);
    expect(await csv.text()).toMatch(/^h1,3000,20,/m);
  });

  it("serve's /metrics counters are the fleet's (both hosts' cost)", async () => {
    const text = await (await fetch(`http://127.0.0.1:${serve?.port}/metrics`)).text();
    const lines = text
      .split('\n')
      .filter((l) => l.startsWith('clawpulse_usage_cost_usd_total{') && l.includes('model="claude-test"'));
    expect(lines).toHaveLength(1);
    expect(Number(lines[0]?.split(' ').at(-1))).toBe(sum(COST.h1) + sum(COST.h2));
  });

  it("serve's /api/alerts lists both hosts' alerts with their host, counted for the badge", async () => {
    const r = await get<AlertsResponse>('/api/alerts');
    expect(r.status).toBe(200);
    expect(r.body.counts.firing).toBe(2);
    expect(r.body.counts.firingByRule.stuck).toBe(1);
    expect(r.body.counts.firingByRule.budget).toBe(1);
    const byHost = Object.fromEntries(r.body.alerts.map((a) => [a.host, a]));
    expect(Object.keys(byHost).sort()).toEqual(['h1', 'h2']);
    // h1's session as the fleet view keys it, so the Alerts view's link opens it
    expect(byHost.h1?.sessionKey).toBe(`h1|${KEY}`);
    expect(byHost.h2?.rule).toBe('budget');
    expect(byHost.h2?.sessionKey).toBeUndefined();

    // a session's alerts: that host's only (the same key lives on h2 too)
    alertsOf(writers.h2).record({ ...alertOf('h1'), id: `stuck:${KEY}:h2` });
    try {
      const one = await get<AlertsResponse>(`/api/alerts?session=${encodeURIComponent(`h2|${KEY}`)}`);
      expect(one.body.alerts.map((a) => [a.host, a.id])).toEqual([['h2', `stuck:${KEY}:h2`]]);
      expect((await get<AlertsResponse>('/api/alerts?state=firing')).body.counts.firing).toBe(3);
    } finally {
      alertsOf(writers.h2).resolve(`stuck:${KEY}:h2`, NOW + 1);
    }
    const after = await get<AlertsResponse>('/api/alerts');
    expect([after.body.counts.firing, after.body.counts.resolved]).toEqual([2, 1]);
  });

  it('steer and abort stay 409 on serve', async () => {
    const s = serve as FleetServe;
    await s.source.catchUp();
    const res = await fetch(
      `http://127.0.0.1:${s.port}/api/sessions/${encodeURIComponent(`h1|${KEY}`)}/abort`,
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' },
    );
    expect(res.status).toBe(409);
  });

  it('`clawpulse usage --json --by host` on CLAWPULSE_STORE reports both hosts while h1 holds its lease', async () => {
    // writers.h1 (open) holds host h1's lease: a command taking it would wait, then fail
    const r = await cli(['--json', '--by', 'host'], { CLAWPULSE_STORE: url });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.out) as UsageReport;
    expect(Object.fromEntries(rep.rows.map((x) => [x.key, x.costUsd]))).toEqual({
      h1: sum(COST.h1),
      h2: sum(COST.h2),
    });
    // the writer still holds its lease and writes on
    const more = writers.h1?.append([{ ...events('h1')[0], dedupeKey: 'h1-seen-again' } as PulseEvent]);
    expect(more?.stored).toHaveLength(1);
    writers.h1?.flush();
  }, 60_000);

  it('`clawpulse usage --db postgres://…` reports the shared store too; by session, this host keeps its plain keys', async () => {
    const r = await cli(['--json', '--by', 'session', '--db', url]);
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.out) as UsageReport;
    expect(Object.fromEntries(rep.rows.map((x) => [x.key, x.costUsd]))).toEqual({
      [KEY]: sum(COST.h1),
      [`h2|${KEY}`]: sum(COST.h2),
    });
  }, 60_000);

  it('the database down: /api/usage and /api/alerts answer 503 saying so, and read again once it is back', async () => {
    cluster.stopServer('fast');
    try {
      const u = await get<{ error: { message: string } }>('/api/usage?by=host');
      expect(u.status).toBe(503);
      expect(u.body.error.message).toMatch(/^the usage could not be read: .*PostgreSQL/);
      const a = await get<{ error: { message: string } }>('/api/alerts');
      expect(a.status).toBe(503);
      expect(a.body.error.message).toMatch(/^the alerts could not be read/);
      // the counters are left out rather than shown empty
      const text = await (await fetch(`http://127.0.0.1:${serve?.port}/metrics`)).text();
      expect(text).not.toMatch(/^clawpulse_usage_cost_usd_total\{/m);
    } finally {
      cluster.startServer();
    }
    const end = Date.now() + 15_000;
    let status = 0;
    while (Date.now() < end) {
      status = (await get('/api/usage?by=host')).status;
      if (status === 200) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe(200);
    expect((await get<AlertsResponse>('/api/alerts')).body.counts.firing).toBe(2);
  }, 30_000);
});

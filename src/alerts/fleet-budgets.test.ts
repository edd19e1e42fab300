/**
 * Fleet-wide budgets on a shared PostgreSQL store (a real throwaway cluster): two daemons' alert
 * parts (`createDaemonAlerts`, as the daemon wires them) on two hosts of one database. The fleet's
 * budget counts both hosts, exactly one daemon (the leader) sends it, and the other takes over
 * when the leader's store closes. Time is a ManualClock; the 30 s refresh is driven by ticks.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { captureLogger } from '../../test/support/http-receiver.js';
import { type PgCluster, postgresAvailable, startPostgres } from '../../test/support/postgres.js';
import { loadConfig } from '../config/config.js';
import { createDaemonAlerts } from '../daemon/alerts.js';
import { ManualClock } from '../infra/clock.js';
import { type Logger, silentLogger } from '../infra/logger.js';
import { type EventInput, ev, testLimits } from '../model/test-events.js';
import { createSessionTracker } from '../model/tracker.js';
import { createPipeline } from '../pipeline.js';
import { createPgStore, type PgStore } from '../store/pg/pg-store.js';
import { createSqliteStore } from '../store/sqlite-store.js';
import { recordingDestination, T0 } from './alerts-test-kit.js';
import { FLEET_REFRESH_MS } from './fleet-budgets.js';

const suite = postgresAvailable() || process.env.CI ? describe : describe.skip;

let cluster: PgCluster | undefined;
let n = 0;
const opened: Array<{ close(): void }> = [];

const tokens = (sessionKey: string, costUsd: number, agentId = 'main'): EventInput => ({
  type: 'llm.tokens',
  ts: 0, // the clock's time when ingested
  sessionKey,
  agentId,
  input: 1000,
  output: 100,
  cacheRead: 0,
  cacheWrite: 0,
  reasoning: 0,
  costUsd,
});

/** one host's daemon, reduced to what alerts need: its store, pipeline (with usage) and alerts */
function hostDaemon(
  url: string,
  host: string,
  clock: ManualClock,
  env: Record<string, string>,
  logger: Logger,
) {
  const store: PgStore = createPgStore(url, { host, writer: true, clock, leaseWaitMs: 200 });
  const usage = store.usage?.();
  usage?.catchUp();
  const tracker = createSessionTracker(testLimits);
  const pipeline = createPipeline({ store, tracker, logger: silentLogger, now: () => clock.now(), usage });
  const dest = recordingDestination(host);
  const config = loadConfig({ CLAWPULSE_HOME: '/tmp/cp-fleet-budgets', ALERT_RULES: 'budget', ...env });
  const alerts = createDaemonAlerts(config, {
    pipeline,
    store,
    logger,
    clock,
    actions: () => undefined,
    destinations: [dest],
  });
  let closed = false;
  const d = {
    store,
    alerts,
    dest,
    ingest(...events: EventInput[]) {
      pipeline.ingest(events.map((e) => ev({ ...e, ts: clock.now() } as EventInput)));
      store.flush();
      // the aggregate writes what it folded within a second: at once here, for the other host to read
      usage?.catchUp();
    },
    tick: () => alerts.tick(clock.now()),
    sent: () => dest.sent.map((a) => `${a.state}:${a.key}`),
    close() {
      if (closed) return;
      closed = true;
      store.close();
    },
  };
  opened.push(d);
  return d;
}

suite('fleet budgets on a shared PostgreSQL store', () => {
  beforeAll(async () => {
    cluster = await startPostgres();
  }, 60_000);
  afterAll(() => cluster?.stop());
  afterEach(() => {
    for (const d of opened.splice(0)) d.close();
  });

  it('count every host, fire once (the leader), and the other daemon takes over when the leader closes', async () => {
    const url = await (cluster as PgCluster).createDatabase(`fleet_${n++}`);
    const clock = new ManualClock(T0);
    const env = { BUDGET_DAILY_USD: '4' };
    const a = hostDaemon(url, 'host-a', clock, env, silentLogger);
    a.ingest(tokens('a1', 3));
    a.alerts.start();
    // host B starts after A spent $3: the shared aggregate has it
    const b = hostDaemon(url, 'host-b', clock, env, silentLogger);
    b.alerts.start();
    b.ingest(tokens('b1', 2));
    const both = () => {
      clock.advance(1000);
      a.tick();
      b.tick();
    };
    both();
    // A leads but has not read B's $2 yet (30 s refresh); B has all $5 but does not lead
    expect(a.sent()).toEqual([]);
    expect(b.sent()).toEqual([]);
    for (let t = 0; t < FLEET_REFRESH_MS / 1000; t++) both();
    await a.alerts.engine.idle();
    expect(a.sent()).toEqual([
      'firing:budget:fleet-day:2026-12-07:80',
      'firing:budget:fleet-day:2026-12-07:100',
    ]);
    const critical = a.dest.sent[1];
    expect(critical?.value).toBe(5);
    expect(critical?.threshold).toBe(4);
    expect(critical?.message).toMatch(/fleet spend today \(2026-12-07, all hosts\) \$5\.00 is 125 %/);
    for (let t = 0; t < 40; t++) both();
    expect(b.sent()).toEqual([]);
    expect(a.sent()).toHaveLength(2);

    // the leader's store closes (its daemon stopped): B leads at its next tick
    await a.alerts.stop();
    a.close();
    clock.advance(1000);
    b.tick();
    await b.alerts.engine.idle();
    // B does not know what A sent: a takeover sends the fleet alerts still crossed once more
    expect(b.sent()).toEqual([
      'firing:budget:fleet-day:2026-12-07:80',
      'firing:budget:fleet-day:2026-12-07:100',
    ]);
    expect(b.dest.sent[1]?.value).toBe(5);
    for (let t = 0; t < 5; t++) {
      clock.advance(1000);
      b.tick();
    }
    expect(b.sent()).toHaveLength(2);
  }, 60_000);

  it('agent budgets are fleet-wide; the abort reaches only the runs this daemon follows, and says so', async () => {
    const url = await (cluster as PgCluster).createDatabase(`fleet_${n++}`);
    const clock = new ManualClock(T0);
    const dir = mkdtempSync(join(tmpdir(), 'cp-fleet-budgets-'));
    opened.push({ close: () => rmSync(dir, { recursive: true, force: true }) });
    writeFileSync(join(dir, 'budgets.yaml'), 'agents:\n  main: { daily_usd: 4 }\naction: abort\n');
    const env = { BUDGETS_FILE: join(dir, 'budgets.yaml') };
    const a = hostDaemon(url, 'host-a', clock, env, silentLogger);
    a.alerts.start();
    const b = hostDaemon(url, 'host-b', clock, env, silentLogger);
    b.alerts.start();
    b.ingest(tokens('b1', 3), tokens('b2', 5, 'ops'));
    a.ingest(tokens('a1', 1.5));
    for (let t = 0; t <= FLEET_REFRESH_MS / 1000; t++) {
      clock.advance(1000);
      a.tick();
      b.tick();
    }
    await a.alerts.engine.idle();
    expect(b.sent()).toEqual([]);
    expect(a.sent()).toEqual([
      'firing:budget:agent-day:main:2026-12-07:80',
      'firing:budget:agent-day:main:2026-12-07:100',
    ]);
    const critical = a.dest.sent[1];
    expect(critical?.value).toBe(4.5);
    // no gateway here: nothing aborted on host-a, and host-b's runs are out of its reach
    expect(critical?.action).toMatch(/on host-a; runs on host-b not aborted/);
  }, 60_000);

  it('the database down: the last figures kept, the failure logged once, no crash; the alert neither resolved nor sent again', async () => {
    const url = await (cluster as PgCluster).createDatabase(`fleet_${n++}`);
    const clock = new ManualClock(T0);
    const { logger, lines } = captureLogger();
    const other = hostDaemon(url, 'host-b', clock, { BUDGET_DAILY_USD: '10' }, silentLogger);
    other.ingest(tokens('b1', 2));
    const a = hostDaemon(url, 'host-a', clock, { BUDGET_DAILY_USD: '10' }, logger);
    a.alerts.start();
    a.ingest(tokens('a1', 7));
    await a.alerts.engine.idle();
    // B's $2 read at start, A's $7 live: 90 % of $10
    expect(a.sent()).toEqual(['firing:budget:fleet-day:2026-12-07:80']);
    expect(a.dest.sent[0]?.value).toBe(9);
    const c = cluster as PgCluster;
    c.stopServer('fast');
    try {
      for (let t = 0; t < 3 * (FLEET_REFRESH_MS / 1000); t++) {
        clock.advance(1000);
        expect(() => a.tick()).not.toThrow();
      }
    } finally {
      c.startServer();
    }
    expect(lines.filter((l) => l.includes("could not read the other hosts' spend"))).toHaveLength(1);
    expect(lines.some((l) => l.includes('another daemon decides the fleet-wide budget alerts now'))).toBe(
      true,
    );
    // the client reconnects on its own backoff (wall clock, up to 5 s): tick until A leads again
    const leads = () =>
      lines.filter((l) => l.includes('this daemon now decides the fleet-wide budget alerts'));
    for (let t = 0; t < 300 && leads().length < 2; t++) {
      clock.advance(1000);
      a.tick();
      await new Promise((r) => setTimeout(r, 100));
    }
    clock.advance(FLEET_REFRESH_MS);
    a.tick();
    await a.alerts.engine.idle();
    expect(
      lines.filter((l) => l.includes('this daemon now decides the fleet-wide budget alerts')),
    ).toHaveLength(2);
    expect(lines.some((l) => l.includes("reading the other hosts' spend again"))).toBe(true);
    expect(a.sent()).toEqual(['firing:budget:fleet-day:2026-12-07:80']);
  }, 60_000);
});

describe('fleet budgets on SQLite (the one daemon is the fleet)', () => {
  it('seeded from the store, counted live, sent by the one daemon', async () => {
    const clock = new ManualClock(T0);
    const store = createSqliteStore(':memory:');
    const usage = store.usage();
    const tracker = createSessionTracker(testLimits);
    const pipeline = createPipeline({ store, tracker, logger: silentLogger, now: () => clock.now(), usage });
    try {
      // spent before this start: in the usage aggregate
      pipeline.ingest([ev({ ...tokens('s1', 3), ts: clock.now() } as EventInput)]);
      const dest = recordingDestination();
      const config = loadConfig({
        CLAWPULSE_HOME: '/tmp/cp-fleet-budgets',
        ALERT_RULES: 'budget',
        BUDGET_DAILY_USD: '4',
      });
      const alerts = createDaemonAlerts(config, {
        pipeline,
        store,
        logger: silentLogger,
        clock,
        actions: () => undefined,
        destinations: [dest],
      });
      alerts.start();
      expect(dest.sent).toEqual([]);
      pipeline.ingest([ev({ ...tokens('s2', 2), ts: clock.now() } as EventInput)]);
      await alerts.engine.idle();
      expect(dest.sent.map((a) => `${a.state}:${a.key}`)).toEqual([
        'firing:budget:fleet-day:2026-12-07:80',
        'firing:budget:fleet-day:2026-12-07:100',
      ]);
      expect(dest.sent[1]?.value).toBe(5);
      expect(dest.sent[1]?.message).toMatch(/^fleet spend today \(2026-12-07\) \$5\.00/);
      clock.advance(1000);
      alerts.tick(clock.now());
      expect(dest.sent).toHaveLength(2);
    } finally {
      store.close();
    }
  });
});

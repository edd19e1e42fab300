/**
 * The PostgreSQL usage aggregate: the usage store contract (usage-store.contract.ts, the same the
 * SQLite store passes) on a real throwaway cluster, through the PostgreSQL store's `usage()`;
 * and two hosts writing into one database, reported together. Skipped without PostgreSQL,
 * except under CI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PgCluster, postgresAvailable, startPostgres } from '../../../test/support/postgres.js';
import { relayTeamEvents } from '../../../test/support/usage-fixture.js';
import { ManualClock } from '../../infra/clock.js';
import { type UsageSide, usageStoreContract } from '../usage-store.contract.js';
import { createPgStore } from './pg-store.js';

const suite = postgresAvailable() || process.env.CI ? describe : describe.skip;

let cluster: PgCluster | undefined;
let n = 0;

function side(url: string, host = 'h1'): UsageSide {
  const store = createPgStore(url, { host, writer: true, leaseWaitMs: 200 });
  return {
    append: (events) => store.append(events).stored,
    usage: () => {
      const u = store.usage?.();
      if (!u) throw new Error('no usage');
      return u;
    },
    flush: () => store.flush(),
    reopen: () => {
      store.close();
      return side(url, host);
    },
    close: () => store.close(),
  };
}

suite('PostgreSQL usage', () => {
  beforeAll(async () => {
    cluster = await startPostgres();
  }, 60_000);
  afterAll(() => cluster?.stop());

  usageStoreContract('postgresql', {
    open: async () => side(await (cluster as PgCluster).createDatabase(`usage_${n++}`)),
  });

  it("a quiet daemon's last fold is written on the tick, once its second is up", async () => {
    const url = await (cluster as PgCluster).createDatabase('usage_tick');
    const clock = new ManualClock(Date.parse('2026-12-07T12:00:00Z'));
    const writer = createPgStore(url, { host: 'h1', writer: true, leaseWaitMs: 200, clock });
    const reader = createPgStore(url, { host: 'h1', writer: false });
    try {
      const events = relayTeamEvents();
      const u = writer.usage?.();
      if (!u) throw new Error('no usage');
      u.record(writer.append(events).stored);
      writer.flush();
      const cost = () => reader.usage?.().report({ by: 'host' })[0]?.costUsd ?? 0;
      // folded in memory within its second: not in the database yet
      expect(cost()).toBe(0);
      u.record([]);
      expect(cost()).toBe(0);
      clock.advance(1000);
      // the pipeline's tick hands it an empty batch: now it writes
      u.record([]);
      const want = events.reduce((a, e) => a + (e.type === 'llm.tokens' ? e.costUsd : 0), 0);
      expect(cost()).toBeCloseTo(want, 9);
      expect(want).toBeGreaterThan(0);
    } finally {
      writer.close();
      reader.close();
    }
  });

  it('two hosts in one database: each folds its own events, reports count both', async () => {
    const url = await (cluster as PgCluster).createDatabase('usage_hosts');
    const a = side(url, 'host-a');
    const b = side(url, 'host-b');
    try {
      const events = relayTeamEvents();
      a.usage().record(a.append(events));
      b.usage().record(b.append(events));
      // each writes what it folded within a second (or at a report of its own): here at once
      a.usage().catchUp();
      b.usage().catchUp();
      const one = a.usage().report({ by: 'host' });
      expect(one.map((r) => r.key).sort()).toEqual(['host-a', 'host-b']);
      expect(one[0]?.costUsd).toBeCloseTo(one[1]?.costUsd ?? -1, 9);
      const agents = b.usage().report({ by: 'agent' });
      // the same session keys on two hosts are two sessions each
      expect(agents[0]?.sessions).toBe(2 * new Set(events.map((e) => e.sessionKey)).size);
      expect(agents[0]?.costUsd).toBeCloseTo(2 * (one[0]?.costUsd ?? 0), 9);
    } finally {
      a.close();
      b.close();
    }
  });
});

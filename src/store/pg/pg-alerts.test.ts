/**
 * The PostgreSQL alert store: the shared contract (alert-store.contract.ts) on a real throwaway
 * cluster, plus what only a shared store has: hosts kept apart, a fleet reader, and a database
 * that goes away (a clear StoreError) and comes back. Skipped without PostgreSQL, except under CI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PgCluster, postgresAvailable, startPostgres } from '../../../test/support/postgres.js';
import { alertOf, describeAlertStoreContract } from '../alert-store.contract.js';
import { StoreError } from '../sqlite-open.js';
import { openPgAlerts } from './pg-alerts.js';

const suite = postgresAvailable() || process.env.CI ? describe : describe.skip;

suite('PostgreSQL alerts', () => {
  let cluster: PgCluster;
  const urls = new Map<string, string>();
  const ids = ['whole', 'resolve', 'list', 'counts', 'prune', 'shared', 'hosts', 'outage'];

  beforeAll(async () => {
    cluster = await startPostgres();
    for (const id of ids) urls.set(id, await cluster.createDatabase(`alerts_${id}`));
  }, 60_000);
  afterAll(() => cluster?.stop());

  const urlOf = (id: string): string => {
    const url = urls.get(id);
    if (!url) throw new Error(`no database for ${id}`);
    return url;
  };

  describeAlertStoreContract('PostgreSQL', { open: async (id) => openPgAlerts(urlOf(id), 'host-a') });

  it("keeps hosts apart: each lists and resolves its own; a fleet reader lists every host's", () => {
    const a = openPgAlerts(urlOf('hosts'), 'host-a');
    const b = openPgAlerts(urlOf('hosts'), 'host-b');
    const fleet = openPgAlerts(urlOf('hosts'), 'reader', { allHosts: true });
    const same = alertOf({ sessionKey: 'agent:main:main' });
    a.alerts.record(same);
    b.alerts.record({ ...same, message: 'on b' });
    expect(a.alerts.resolve(same.id, 1)?.state).toBe('resolved');
    expect(b.alerts.get(same.id)?.state).toBe('firing');
    expect(b.alerts.list().map((x) => x.message)).toEqual(['on b']);
    expect(a.alerts.counts()).toMatchObject({ firing: 0, resolved: 1 });
    expect(fleet.alerts.list().map((x) => x.state)).toEqual(['firing', 'resolved']);
    expect(fleet.alerts.counts()).toMatchObject({ firing: 1, resolved: 1 });
    for (const x of [a, b, fleet]) x.close();
  });

  it('says which write failed while the database is down, and works again once it is back', () => {
    const { alerts, close } = openPgAlerts(urlOf('outage'), 'host-a');
    alerts.record(alertOf({ sessionKey: 'before' }));
    cluster.stopServer('immediate');
    try {
      expect(() => alerts.record(alertOf({ sessionKey: 'during' }))).toThrow(StoreError);
      expect(() => alerts.record(alertOf({ sessionKey: 'during' }))).toThrow(
        /alerts \(host host-a\): recording stuck:during:\d+ failed/,
      );
    } finally {
      cluster.startServer();
    }
    let ok = false;
    for (let i = 0; i < 50 && !ok; i++) {
      try {
        alerts.record(alertOf({ sessionKey: 'after' }));
        ok = true;
      } catch {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
      }
    }
    expect(ok).toBe(true);
    expect(
      alerts
        .list()
        .map((a) => a.sessionKey)
        .sort(),
    ).toEqual(['after', 'before']);
    close();
  });
});

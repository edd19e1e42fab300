/**
 * The PostgreSQL dispatch ledger: the shared contract (dispatch-ledger.contract.ts) on a real
 * throwaway cluster, plus what only a shared store has: hosts kept apart, and a database that
 * goes away and comes back. Without PostgreSQL installed these are skipped, except under CI
 * (CI=true, set by .ci/run), where startPostgres fails loudly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PgCluster, postgresAvailable, startPostgres } from '../../../test/support/postgres.js';
import { describeDispatchLedgerContract, entry } from '../dispatch-ledger.contract.js';
import { StoreError } from '../sqlite-open.js';
import { openPgLedger } from './pg-ledger.js';

const suite = postgresAvailable() || process.env.CI ? describe : describe.skip;

suite('PostgreSQL ledger', () => {
  let cluster: PgCluster;
  const urls = new Map<string, string>();

  beforeAll(async () => {
    cluster = await startPostgres();
    for (const id of [
      'basics',
      'fields',
      'changes',
      'two-connections',
      'claims',
      'concurrent',
      'hosts',
      'outage',
    ])
      urls.set(id, await cluster.createDatabase(`ledger_${id.replaceAll('-', '_')}`));
  });
  afterAll(() => cluster?.stop());

  const urlOf = (id: string): string => {
    const url = urls.get(id);
    if (!url) throw new Error(`no database for ${id}`);
    return url;
  };

  describeDispatchLedgerContract('PostgreSQL', {
    open: (id) => openPgLedger(urlOf(id), 'host-a'),
    inProcess: (id) => ({
      module: new URL('./pg-ledger.ts', import.meta.url).pathname,
      fn: 'openPgLedger',
      args: [urlOf(id), 'host-a'],
    }),
  });

  describe('dispatch ledger (PostgreSQL)', () => {
    it('keeps each host its own labels, changes and claims in one database', () => {
      const a = openPgLedger(urlOf('hosts'), 'host-a');
      const b = openPgLedger(urlOf('hosts'), 'host-b');
      a.ledger.update('build', () => entry({ sessionKey: 'on-a' }));
      b.ledger.update('build', () => entry({ sessionKey: 'on-b' }));
      b.ledger.update('only-b', () => entry({ sessionKey: 'on-b' }));
      expect(a.ledger.get('build')?.sessionKey).toBe('on-a');
      expect(b.ledger.get('build')?.sessionKey).toBe('on-b');
      expect(a.ledger.list().map((r) => r.label)).toEqual(['build']);
      expect(a.ledger.bySession('on-b')).toEqual([]);
      expect(a.ledger.changedSince(0).rows.map((r) => r.label)).toEqual(['build']);
      expect(a.ledger.claim('retry:build:r1', 'build', 1)).toBe(true);
      expect(b.ledger.claim('retry:build:r1', 'build', 1)).toBe(true);
      a.close();
      b.close();
    });

    it('says clearly when the database is down, loses nothing written before, and works once it is back', () => {
      const { ledger, close } = openPgLedger(urlOf('outage'), 'host-a');
      ledger.update('kept', () => entry({ sessionKey: 'k' }));
      cluster.stopServer('fast');
      try {
        let thrown: unknown;
        try {
          ledger.update('lost?', () => entry());
        } catch (err) {
          thrown = err;
        }
        expect(thrown).toBeInstanceOf(StoreError);
        expect((thrown as Error).message).toMatch(
          /dispatch ledger \(host host-a\): updating label lost\? failed/,
        );
        expect((thrown as StoreError).path).not.toMatch(/:[^/@]*@/); // no password in the URL shown
      } finally {
        cluster.startServer();
      }
      // the client reconnects on its own (with backoff): the next calls go through
      let got: string | undefined;
      for (let i = 0; i < 100 && got === undefined; i++) {
        try {
          got = ledger.get('kept')?.sessionKey;
        } catch {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
        }
      }
      expect(got).toBe('k');
      expect(ledger.get('lost?')).toBeUndefined();
      ledger.update('after', () => entry({ sessionKey: 'k2' }));
      expect(
        ledger
          .list()
          .map((r) => r.label)
          .sort(),
      ).toEqual(['after', 'kept']);
      close();
    }, 60_000);
  });
});

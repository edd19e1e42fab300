import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PgCluster, startPostgres } from '../../../test/support/postgres.js';
import { applyMigrations, type Migration } from './migrations.js';
import { openSyncPg, PgError, PgUnavailable, type SyncPg } from './sync-pg.js';

let cluster: PgCluster;
beforeAll(async () => {
  cluster = await startPostgres();
});
afterAll(() => cluster?.stop());

const open: SyncPg[] = [];
const connect = (url: string, timeoutMs = 5000): SyncPg => {
  const pg = openSyncPg(url, { timeoutMs });
  open.push(pg);
  return pg;
};
afterAll(() => {
  for (const pg of open) pg.close();
});

describe('openSyncPg', () => {
  it('runs statements synchronously, with params, int8 as numbers', () => {
    const pg = connect(cluster.url);
    const rows = pg.query<{ n: number; s: string; j: { a: number } }>(
      'SELECT $1::bigint + 1 AS n, $2::text AS s, \'{"a":1}\'::jsonb AS j',
      [41, 'hé'],
    );
    expect(rows).toEqual([{ n: 42, s: 'hé', j: { a: 1 } }]);
    expect(pg.url).toBe(cluster.url);
  });

  it('throws PgError with the SQLSTATE for a bad statement, and keeps working', () => {
    const pg = connect(cluster.url);
    let err: unknown;
    try {
      pg.query('SELECT * FROM no_such_table');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PgError);
    expect((err as PgError).code).toBe('42P01');
    expect(pg.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('commits a transaction, rolls it back when fn throws, nests into the open one', async () => {
    const url = await cluster.createDatabase('tx');
    const pg = connect(url);
    pg.query('CREATE TABLE t (v int)');
    pg.transaction((q) => {
      q.query('INSERT INTO t VALUES (1)');
      q.transaction((q2) => q2.query('INSERT INTO t VALUES (2)'));
    });
    expect(() =>
      pg.transaction((q) => {
        q.query('INSERT INTO t VALUES (3)');
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(pg.query<{ v: number }>('SELECT v FROM t ORDER BY v').map((r) => r.v)).toEqual([1, 2]);
    expect(pg.inTransaction()).toBe(false);
  });

  it('hides the password in url and errors', () => {
    const withPw = cluster.url.replace('postgres@', 'postgres:s3cret@');
    const pg = connect(withPw);
    expect(pg.url).not.toContain('s3cret');
    expect(pg.where).toBe(`127.0.0.1:${cluster.port}`);
  });

  it('fails at open, clearly, when nothing listens', () => {
    const dead = 'postgres://postgres@127.0.0.1:1/x';
    expect(() => openSyncPg(dead, { timeoutMs: 2000 })).toThrow(
      /PostgreSQL at 127\.0\.0\.1:1 is unavailable/,
    );
  });

  it('a statement past the timeout throws "did not answer", drops the connection, then recovers', () => {
    const pg = connect(cluster.url, 300);
    const t0 = Date.now();
    expect(() => pg.query('SELECT pg_sleep(5)')).toThrow(/did not answer in 0.3 s/);
    expect(Date.now() - t0).toBeLessThan(2000);
    // the worker reconnects in the background; until then calls answer at once
    let ok: unknown[] | undefined;
    for (let i = 0; i < 100 && !ok; i++) {
      try {
        ok = pg.query('SELECT 1 AS one');
      } catch (e) {
        expect(e).toBeInstanceOf(PgUnavailable);
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      }
    }
    expect(ok).toEqual([{ one: 1 }]);
    // a longer timeout for one piece of work (a migration), then the usual one again
    expect(pg.withTimeout(5000, () => pg.query('SELECT pg_sleep(0.5), 2 AS two'))).toEqual([
      { pg_sleep: '', two: 2 },
    ]);
    expect(() => pg.query('SELECT pg_sleep(5)')).toThrow(/did not answer in 0.3 s/);
  });

  it('server down: answers PgUnavailable at once, reconnects when it is back', () => {
    const pg = connect(cluster.url);
    const before = pg.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')[0]?.pid;
    cluster.stopServer('fast');
    try {
      for (let i = 0; i < 3; i++) {
        const t0 = Date.now();
        expect(() => pg.query('SELECT 1')).toThrow(PgUnavailable);
        expect(Date.now() - t0).toBeLessThan(1000);
      }
    } finally {
      cluster.startServer();
    }
    let pid: number | undefined;
    for (let i = 0; i < 200 && pid === undefined; i++) {
      try {
        pid = pg.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')[0]?.pid;
      } catch {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      }
    }
    expect(pid).toBeDefined();
    expect(pid).not.toBe(before);
  });

  it('a transaction whose connection is lost is not committed on the next one', async () => {
    const url = await cluster.createDatabase('txlost');
    const pg = connect(url);
    const killer = connect(url);
    pg.query('CREATE TABLE t (v int)');
    expect(() =>
      pg.transaction((q) => {
        q.query('INSERT INTO t VALUES (1)');
        const pid = q.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')[0]?.pid;
        killer.query('SELECT pg_terminate_backend($1)', [pid]);
        // the worker reconnects; the rest of the transaction must not run on the new connection
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 600);
        q.query('INSERT INTO t VALUES (2)');
      }),
    ).toThrow(PgUnavailable);
    expect(killer.query('SELECT count(*)::int AS n FROM t')).toEqual([{ n: 0 }]);
  });
});

describe('applyMigrations', () => {
  const list = (tag: string): Migration[] => [
    { id: '0001-a', sql: `CREATE TABLE ${tag}_a (x int); SELECT pg_sleep(0.3)` },
    { id: '0002-b', sql: `CREATE TABLE ${tag}_b (y int)` },
  ];

  it('applies what is not recorded, in order, once', async () => {
    const pg = connect(await cluster.createDatabase('mig1'));
    expect(applyMigrations(pg, list('m'))).toEqual(['0001-a', '0002-b']);
    expect(applyMigrations(pg, list('m'))).toEqual([]);
    const more = [...list('m'), { id: '0003-c', sql: 'CREATE TABLE m_c (z int)' }];
    expect(applyMigrations(pg, more)).toEqual(['0003-c']);
    const ids = pg.query<{ id: string }>('SELECT id FROM clawpulse_migrations ORDER BY id').map((r) => r.id);
    expect(ids).toEqual(['0001-a', '0002-b', '0003-c']);
  });

  it('a failing migration is not recorded and leaves nothing half-done', async () => {
    const pg = connect(await cluster.createDatabase('mig2'));
    const bad = [{ id: '0001-bad', sql: 'CREATE TABLE ok_t (x int); CREATE TABLE broken (' }];
    expect(() => applyMigrations(pg, bad)).toThrow(PgError);
    expect(pg.query("SELECT to_regclass('ok_t') AS t")).toEqual([{ t: null }]);
    expect(pg.query('SELECT count(*) AS n FROM clawpulse_migrations')).toEqual([{ n: 0 }]);
  });
});

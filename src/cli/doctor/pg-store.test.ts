/**
 * The doctor's PostgreSQL store checks on a real throwaway cluster: unreachable, an empty
 * database, the schema applied, the host id held by a live daemon elsewhere, held by a daemon
 * that stopped or went quiet.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PgCluster, postgresAvailable, startPostgres } from '../../../test/support/postgres.js';
import { freePort } from '../../../test/support/reliability-kit.js';
import { loadConfig } from '../../config/config.js';
import { applyMigrations } from '../../store/pg/migrations.js';
import { openSyncPg } from '../../store/pg/sync-pg.js';
import { tempDir } from '../../test-support/temp-dir.js';
import { checkPgStore } from './pg-store.js';

const suite = postgresAvailable() || process.env.CI ? describe : describe.skip;
const home = tempDir('clawpulse-doctor-pg-');
const configFor = (url: string, host = 'web-1') =>
  loadConfig({ HOME: home, CLAWPULSE_HOME: join(home, 'cp'), CLAWPULSE_STORE: url, CLAWPULSE_HOST: host });

suite('doctor: the PostgreSQL store', () => {
  let cluster: PgCluster;
  beforeAll(async () => {
    cluster = await startPostgres();
  });
  afterAll(() => cluster?.stop());

  it('fails when the server cannot be reached, naming the URL without its password', async () => {
    const port = await freePort();
    const [r] = await checkPgStore(configFor(`postgres://cp:hunter2secret@127.0.0.1:${port}/x`), 2000);
    expect(r).toMatchObject({ name: 'store (PostgreSQL)', status: 'fail' });
    expect(r?.detail).toContain(`postgres://cp:[set]@127.0.0.1:${port}/x cannot be reached`);
    expect(JSON.stringify(r)).not.toContain('hunter2');
  });

  it('warns on an empty database, is ok once migrated, fails when a live daemon elsewhere holds the host id', async () => {
    const url = await cluster.createDatabase('doctor');
    const empty = await checkPgStore(configFor(url), 5000);
    expect(empty.map((r) => [r.name, r.status])).toEqual([
      ['store (PostgreSQL)', 'ok'],
      ['store schema', 'warn'],
      ['host id', 'ok'],
    ]);
    const sync = openSyncPg(url);
    try {
      applyMigrations(sync);
    } finally {
      sync.close();
    }
    const migrated = await checkPgStore(configFor(url), 5000);
    expect(migrated[1]).toMatchObject({ name: 'store schema', status: 'ok' });

    const db = new pg.Client({ connectionString: url });
    await db.connect();
    // a daemon elsewhere: its row, and its lease (the advisory lock the store takes) on a live connection
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      await db.query(
        `INSERT INTO clawpulse_hosts (host, hostname, pid, started_at) VALUES ('web-1', 'other-machine', 4242, now())`,
      );
      await other.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', ['web-1']);
      const held = await checkPgStore(configFor(url), 5000);
      expect(held[2]).toMatchObject({ name: 'host id', status: 'fail' });
      expect(held[2]?.detail).toMatch(/web-1 is held by a live daemon: pid 4242 on other-machine since /);
      expect(held[2]?.fix).toMatch(/CLAWPULSE_HOST/);
      // another id on the same database is free
      expect((await checkPgStore(configFor(url, 'web-2'), 5000))[2]?.status).toBe('ok');
      // this machine's running daemon holding it is fine (same hostname, the live pid of the pid file)
      const config = configFor(url);
      mkdirSync(dirname(config.pidFile), { recursive: true });
      writeFileSync(config.pidFile, String(process.pid));
      await db.query('UPDATE clawpulse_hosts SET hostname = $1, pid = $2', [hostname(), process.pid]);
      const mine = (await checkPgStore(config, 5000))[2];
      expect(mine).toMatchObject({ status: 'ok' });
      expect(mine?.detail).toMatch(/written by this machine's running daemon/);
      // the connection gone (a stopped or killed daemon), nobody holds it
      await db.query("UPDATE clawpulse_hosts SET hostname = 'other-machine', pid = 4242");
      await other.end();
      expect((await checkPgStore(configFor(url), 5000))[2]?.status).toBe('ok');
    } finally {
      await other.end().catch(() => {});
      await db.end();
    }
  });
});

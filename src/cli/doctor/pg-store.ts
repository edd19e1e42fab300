/**
 * Doctor checks of the shared PostgreSQL store (CLAWPULSE_STORE=postgres://…):
 * - reachable: a connection within the timeout (the error names the cause, never the password);
 * - schema: the migrations this clawpulse knows are applied (a daemon applies missing ones at
 *   start; a database ahead of this clawpulse means an older version runs here);
 * - host id: CLAWPULSE_HOST is not held by a live daemon somewhere else (its lease, an advisory
 *   lock, is held by a connection, and it is not this machine's running daemon): the daemon
 *   started here would be refused.
 * An async `pg` client: the doctor is async, and needs none of the store's synchronous machinery.
 */
import { hostname } from 'node:os';
import pg from 'pg';
import type { Config } from '../../config/config.js';
import { displayPgUrl } from '../../config/store-env.js';
import { readLivePid } from '../../infra/pidfile.js';
import { migrations } from '../../store/pg/migrations.js';
import '../../store/pg/pg-store.js'; // registers every migration the store applies
import { type CheckResult, fail, ok, warn } from './report.js';

interface HolderRow {
  hostname: string | null;
  pid: number | null;
  started_at: Date | null;
  client: string | null;
}

export async function checkPgStore(config: Readonly<Config>, timeoutMs: number): Promise<CheckResult[]> {
  if (config.store.engine !== 'postgres') return [];
  const shown = displayPgUrl(config.store.url);
  const client = new pg.Client({
    connectionString: config.store.url,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    application_name: 'clawpulse doctor',
  });
  client.on('error', () => {}); // a connection lost after connect: the query in flight says it
  try {
    await client.connect();
  } catch (err) {
    return [
      fail(
        'store (PostgreSQL)',
        `${shown} cannot be reached: ${(err as Error).message}`,
        'start PostgreSQL or fix CLAWPULSE_STORE (host, port, database, user and password)',
      ),
    ];
  }
  try {
    const [version] = (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v"))
      .rows;
    const reachable = ok('store (PostgreSQL)', `${shown}, PostgreSQL ${version?.v ?? '?'}`);
    return [reachable, await schemaCheck(client), await hostCheck(client, config)];
  } catch (err) {
    return [
      fail('store (PostgreSQL)', `${shown}: ${(err as Error).message}`, 'check the database and its user'),
    ];
  } finally {
    await client.end().catch(() => {});
  }
}

async function schemaCheck(client: pg.Client): Promise<CheckResult> {
  const name = 'store schema';
  const known = migrations().map((m) => m.id);
  const [table] = (
    await client.query<{ ok: boolean }>("SELECT to_regclass('clawpulse_migrations') IS NOT NULL AS ok")
  ).rows;
  if (!table?.ok)
    return warn(
      name,
      'no clawpulse schema yet in this database',
      'start the daemon: it applies the schema at start',
    );
  const applied = new Set(
    (await client.query<{ id: string }>('SELECT id FROM clawpulse_migrations')).rows.map((r) => r.id),
  );
  const missing = known.filter((id) => !applied.has(id));
  const ahead = [...applied].filter((id) => !known.includes(id));
  if (missing.length)
    return warn(
      name,
      `migrations not applied yet: ${missing.join(', ')}`,
      'start (or restart) the daemon: it applies them at start, under a lock',
    );
  if (ahead.length)
    return warn(
      name,
      `the database has migrations this clawpulse does not know (${ahead.join(', ')}): a newer clawpulse wrote it`,
      'upgrade clawpulse on this machine',
    );
  return ok(name, `${known.length} migrations applied`);
}

async function hostCheck(client: pg.Client, config: Readonly<Config>): Promise<CheckResult> {
  const name = 'host id';
  // the writer's lease (pg-host-lease.ts): a session advisory lock on hashtextextended(host, 0),
  // held as long as its connection lives. Read from pg_locks, never taken: a doctor must not
  // stand in the way of a daemon starting
  const [lock] = (
    await client.query<{ client: string | null }>(
      `SELECT host(a.client_addr) AS client
         FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND ((l.classid::int8 << 32) | l.objid::int8) = hashtextextended($1, 0)
        LIMIT 1`,
      [config.host],
    )
  ).rows;
  // who: the holder's row (written when it took the lease; the table exists once migrated)
  const [info] = lock
    ? (
        await client
          .query<HolderRow>('SELECT hostname, pid, started_at FROM clawpulse_hosts WHERE host = $1', [
            config.host,
          ])
          .catch(() => ({ rows: [] as HolderRow[] }))
      ).rows
    : [];
  const row = lock
    ? { hostname: null, pid: null, started_at: null, ...info, client: lock.client }
    : undefined;
  if (!row) return ok(name, `${config.host} (CLAWPULSE_HOST): no daemon writes under it now`);
  const localPid = readLivePid(config.pidFile);
  if (row.hostname === hostname() && row.pid !== null && row.pid === localPid)
    return ok(name, `${config.host}: written by this machine's running daemon (pid ${localPid})`);
  const since = row.started_at ? ` since ${new Date(row.started_at).toISOString()}` : '';
  const from = row.client ? `, connected from ${row.client}` : '';
  return fail(
    name,
    `${config.host} is held by a live daemon: pid ${row.pid ?? '?'} on ${row.hostname ?? '?'}${since}${from}`,
    'give each daemon its own CLAWPULSE_HOST (one per machine), or stop the other daemon',
  );
}

/**
 * The host lease: one writer per host id on a shared database. The writer holds a session-level
 * advisory lock keyed by its host id (`pg_try_advisory_lock(hashtextextended(host, 0))`) for
 * the life of its connection; PostgreSQL drops it when the connection ends, a kill -9 included
 * (the server sees the socket close). A second daemon with the same CLAWPULSE_HOST finds the lock
 * held and is refused at start, told who holds it (pid, hostname, since: the holder's row in
 * `clawpulse_hosts`).
 *
 * A connection lost and made again (the database restarted) lost the lock with it: the store
 * takes it again (`retake`) before writing on the new connection, and refuses to write if
 * another process took the host meanwhile.
 */
import { hostname } from 'node:os';
import { StoreError } from '../sqlite-open.js';
import type { SyncPg } from './sync-pg.js';

/** the code of the StoreError a second writer for one host gets */
export const HOST_TAKEN = 'CLAWPULSE_HOST_TAKEN';

/** how long a start waits for a lease a just-killed writer's connection may still hold */
export const DEFAULT_LEASE_WAIT_MS = 3000;

interface HostRow {
  hostname: string | null;
  pid: number | null;
  started_at: Date | null;
}

const tryLock = (q: SyncPg, host: string): boolean =>
  q.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [host])[0]?.ok ===
  true;

/** "pid 4242 on gw-1 since 2026-12-07T06:00:00.000Z", from the holder's row */
function holder(q: SyncPg, host: string): string {
  const [r] = q.query<HostRow>('SELECT hostname, pid, started_at FROM clawpulse_hosts WHERE host = $1', [
    host,
  ]);
  if (!r) return 'another process';
  const since = r.started_at ? ` since ${new Date(r.started_at).toISOString()}` : '';
  return `pid ${r.pid ?? '?'} on ${r.hostname ?? '?'}${since}`;
}

function taken(q: SyncPg, host: string): StoreError {
  return new StoreError(
    `host "${host}" is already written by another clawpulse on ${q.url} (${holder(q, host)}): ` +
      'each daemon writing into one database needs its own CLAWPULSE_HOST',
    q.url,
    HOST_TAKEN,
  );
}

export interface HostLease {
  /**
   * takes the lease again if the connection changed since it was taken (inside the write
   * transaction); `committedSeq` is the last seq this writer knows committed: rows past it mean
   * another writer wrote this host meanwhile, and this one must not go on numbering
   */
  retake(q: SyncPg, committedSeq: number): void;
  /** marks the host stopped (the lease goes with the connection) */
  release(): void;
}

/**
 * Takes the lease for `host` (waiting up to `waitMs` for a connection a killed writer left) and
 * records this process in `clawpulse_hosts`; throws HOST_TAKEN when another writer holds it.
 */
export function takeHostLease(pg: SyncPg, host: string, waitMs = DEFAULT_LEASE_WAIT_MS): HostLease {
  const deadline = Date.now() + waitMs;
  while (!tryLock(pg, host)) {
    if (Date.now() >= deadline) throw taken(pg, host);
    pg.query('SELECT pg_sleep(0.1)');
  }
  let conn = pg.connection();
  pg.query(
    `INSERT INTO clawpulse_hosts (host, hostname, pid, started_at, stopped_at)
     VALUES ($1, $2, $3, now(), NULL)
     ON CONFLICT (host) DO UPDATE SET hostname = excluded.hostname, pid = excluded.pid,
       started_at = excluded.started_at, stopped_at = NULL`,
    [host, hostname(), process.pid],
  );
  return {
    retake(q, committedSeq) {
      if (q.connection() === conn) return;
      if (!tryLock(q, host)) throw taken(q, host);
      const [r] = q.query<{ s: number | null }>(
        'SELECT max(seq) AS s FROM clawpulse_events WHERE host = $1',
        [host],
      );
      if ((r?.s ?? 0) > committedSeq) {
        q.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [host]);
        throw new StoreError(
          `host "${host}": another writer wrote its events (up to seq ${r?.s}) while this clawpulse was disconnected (at seq ${committedSeq}); restart it (two daemons share CLAWPULSE_HOST?)`,
          q.url,
          HOST_TAKEN,
        );
      }
      conn = q.connection();
    },
    release() {
      pg.query(
        'UPDATE clawpulse_hosts SET stopped_at = now() WHERE host = $1 AND pid = $2 AND hostname = $3',
        [host, process.pid, hostname()],
      );
      pg.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [host]);
    },
  };
}

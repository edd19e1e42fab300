/**
 * The statements of the PostgreSQL store on one host's rows (events, offsets, snapshots, kv), as
 * plain functions: `pg-store.ts` adds what sits in memory (the uncommitted group, the seqs) and
 * turns failures into StoreErrors. Keys go through `pgText` (text cannot hold NUL).
 */
import type { PulseEvent, StoredEvent } from '../../model/events.js';
import type { SessionState } from '../../model/session.js';
import type { SourceOffset } from '../event-store.js';
import { pgText } from './pg-pending.js';
import type { SyncPg } from './sync-pg.js';

const parseRows = (rows: Array<{ seq: number; body: string }>): StoredEvent[] =>
  rows.map((r) => ({ seq: r.seq, event: JSON.parse(r.body) as PulseEvent }));

export function hostTables(pg: SyncPg, host: string) {
  return {
    /** the last seq on disk (or in the host's row) */
    lastSeq: (): number =>
      pg.query<{ s: number }>(
        `SELECT GREATEST(COALESCE((SELECT max(seq) FROM clawpulse_events WHERE host = $1), 0),
                         COALESCE((SELECT last_seq FROM clawpulse_hosts WHERE host = $1), 0)) AS s`,
        [host],
      )[0]?.s ?? 0,
    eventsAfter: (after: number, limit: number): StoredEvent[] =>
      parseRows(
        pg.query(
          'SELECT seq, body FROM clawpulse_events WHERE host = $1 AND seq > $2 ORDER BY seq LIMIT $3',
          [host, after, limit],
        ),
      ),
    sessionEvents: (key: string, limit: number): StoredEvent[] =>
      parseRows(
        pg.query(
          'SELECT seq, body FROM clawpulse_events WHERE host = $1 AND session_key = $2 ORDER BY seq LIMIT $3',
          [host, pgText(key), limit],
        ),
      ),
    /** the dedupe keys stored for one session (its in-memory dedupe set is built from them) */
    dedupeKeys: (key: string): string[] =>
      pg
        .query<{ k: string }>(
          'SELECT dedupe_key AS k FROM clawpulse_events WHERE host = $1 AND session_key = $2',
          [host, pgText(key)],
        )
        .map((r) => r.k),

    /** upserts the snapshots and (with `appliedSeq`) the seq they hold, in one transaction; returns their bytes */
    writeSnapshots(sessions: readonly SessionState[], appliedSeq?: number): number {
      return pg.transaction((q) => {
        let bytes = 0;
        const bodies = sessions.map((s) => {
          const body = JSON.stringify(s);
          bytes += body.length;
          return body;
        });
        if (sessions.length)
          q.query(
            `INSERT INTO clawpulse_snapshots (host, session_key, state, saved_at)
             SELECT $1, u.k, u.s, now() FROM unnest($2::text[], $3::text[]) AS u(k, s)
             ON CONFLICT (host, session_key) DO UPDATE SET state = excluded.state, saved_at = excluded.saved_at`,
            [host, sessions.map((s) => pgText(s.key)), bodies],
          );
        if (appliedSeq !== undefined)
          q.query(
            `INSERT INTO clawpulse_snapshot_seq (host, applied_seq) VALUES ($1, $2)
             ON CONFLICT (host) DO UPDATE SET applied_seq = excluded.applied_seq`,
            [host, appliedSeq],
          );
        return bytes;
      });
    },
    loadSnapshots: (): SessionState[] =>
      pg
        .query<{ state: string }>('SELECT state FROM clawpulse_snapshots WHERE host = $1', [host])
        .map((r) => JSON.parse(r.state) as SessionState),
    loadSnapshot(key: string): SessionState | undefined {
      const [r] = pg.query<{ state: string }>(
        'SELECT state FROM clawpulse_snapshots WHERE host = $1 AND session_key = $2',
        [host, pgText(key)],
      );
      return r ? (JSON.parse(r.state) as SessionState) : undefined;
    },
    snapshotSeq: (): number | undefined =>
      pg.query<{ s: number }>('SELECT applied_seq AS s FROM clawpulse_snapshot_seq WHERE host = $1', [
        host,
      ])[0]?.s,
    /** snapshots of this host and the size of the shared events table (for stats) */
    sizes: (): { sessions: number; bytes: number } =>
      pg.query<{ sessions: number; bytes: number }>(
        `SELECT (SELECT count(*) FROM clawpulse_snapshots WHERE host = $1) AS sessions,
                pg_total_relation_size('clawpulse_events') AS bytes`,
        [host],
      )[0] ?? { sessions: 0, bytes: 0 },

    /** an offset's JSON value as stored */
    offset: (key: string): string | undefined =>
      pg.query<{ value: string }>('SELECT value FROM clawpulse_offsets WHERE host = $1 AND key = $2', [
        host,
        pgText(key),
      ])[0]?.value,
    /** offsets whose key starts with prefix, values as stored JSON */
    offsets: (prefix: string): Array<{ key: string; value: string }> =>
      pg.query('SELECT key, value FROM clawpulse_offsets WHERE host = $1 AND left(key, length($2)) = $2', [
        host,
        pgText(prefix),
      ]),
    writeOffsets(offsets: readonly SourceOffset[]): void {
      pg.query(
        `INSERT INTO clawpulse_offsets (host, key, value)
         SELECT $1, u.k, u.v FROM unnest($2::text[], $3::text[]) AS u(k, v)
         ON CONFLICT (host, key) DO UPDATE SET value = excluded.value`,
        [host, offsets.map((o) => pgText(o.key)), offsets.map((o) => JSON.stringify(o.value))],
      );
    },

    kvGet: (ns: string, key: string): string | undefined =>
      pg.query<{ value: string }>('SELECT value FROM clawpulse_kv WHERE host = $1 AND ns = $2 AND key = $3', [
        host,
        pgText(ns),
        pgText(key),
      ])[0]?.value,
    kvSet(ns: string, key: string, value: string): void {
      pg.query(
        `INSERT INTO clawpulse_kv (host, ns, key, value) VALUES ($1, $2, $3, $4)
         ON CONFLICT (host, ns, key) DO UPDATE SET value = excluded.value`,
        [host, pgText(ns), pgText(key), pgText(value)],
      );
    },
    kvDelete(ns: string, key: string): void {
      pg.query('DELETE FROM clawpulse_kv WHERE host = $1 AND ns = $2 AND key = $3', [
        host,
        pgText(ns),
        pgText(key),
      ]);
    },
    kvList: (ns: string): Array<{ key: string; value: string }> =>
      pg.query('SELECT key, value FROM clawpulse_kv WHERE host = $1 AND ns = $2 ORDER BY key', [
        host,
        pgText(ns),
      ]),
  };
}

export type HostTables = ReturnType<typeof hostTables>;

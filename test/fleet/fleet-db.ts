/**
 * The shared store's core tables written straight with SQL (the fixed schema of issue 18), so the
 * fleet reader is tested apart from the PostgreSQL EventStore: rows and the NOTIFY a daemon's
 * commit sends, in one transaction, as the store does.
 */
import pg from 'pg';
import type { PulseEvent } from '../../src/model/events.js';

export const CORE_SCHEMA = `
CREATE TABLE IF NOT EXISTS clawpulse_hosts (
  host text PRIMARY KEY, hostname text, pid int, started_at timestamptz, heartbeat_at timestamptz,
  stopped_at timestamptz, health jsonb, last_seq bigint);
CREATE TABLE IF NOT EXISTS clawpulse_events (
  host text NOT NULL, seq bigint NOT NULL, session_key text NOT NULL, ts bigint NOT NULL, type text NOT NULL,
  dedupe_key text NOT NULL, body text NOT NULL, PRIMARY KEY (host, seq));`;

export interface FleetDb {
  client: pg.Client;
  /** registers a host (as a daemon's store does at start) */
  addHost(host: string, o?: { heartbeatAgoS?: number; stopped?: boolean }): Promise<void>;
  /** appends events for a host with the next seqs and notifies; `notify: false` as if the NOTIFY was lost */
  write(host: string, events: readonly PulseEvent[], o?: { notify?: boolean }): Promise<number>;
  close(): Promise<void>;
}

export async function openFleetDb(url: string): Promise<FleetDb> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(CORE_SCHEMA);
  return {
    client,
    async addHost(host, o = {}) {
      await client.query(
        `INSERT INTO clawpulse_hosts (host, hostname, pid, started_at, heartbeat_at, stopped_at, last_seq)
         VALUES ($1, $1 || '.example', 4242, now() - interval '1 hour',
                 now() - make_interval(secs => $2::int), CASE WHEN $3 THEN now() END, 0)
         ON CONFLICT (host) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at, stopped_at = EXCLUDED.stopped_at`,
        [host, o.heartbeatAgoS ?? 0, Boolean(o.stopped)],
      );
    },
    async write(host, events, o = {}) {
      await client.query('BEGIN');
      try {
        const r = await client.query<{ s: string | null }>(
          'SELECT max(seq)::text AS s FROM clawpulse_events WHERE host = $1',
          [host],
        );
        let seq = Number(r.rows[0]?.s ?? 0);
        for (const e of events) {
          seq++;
          await client.query(
            'INSERT INTO clawpulse_events (host, seq, session_key, ts, type, dedupe_key, body) VALUES ($1,$2,$3,$4,$5,$6,$7)',
            [host, seq, e.sessionKey, e.ts, e.type, e.dedupeKey, JSON.stringify(e)],
          );
        }
        await client.query('UPDATE clawpulse_hosts SET last_seq = $2 WHERE host = $1', [host, seq]);
        if (o.notify !== false)
          await client.query("SELECT pg_notify('clawpulse_events', $1)", [`${host}:${seq}`]);
        await client.query('COMMIT');
        return seq;
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
    },
    close: () => client.end(),
  };
}

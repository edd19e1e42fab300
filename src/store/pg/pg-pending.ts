/**
 * The PostgreSQL store's group: events appended (with their seqs) and source offsets not yet
 * committed, and the one transaction that commits them.
 *
 * The group lives in memory only (no transaction stays open between appends). A commit writes
 * all of it in one transaction: the events (`INSERT … ON CONFLICT DO NOTHING`, 1000 rows per
 * statement through `unnest`), the offsets, the host's `last_seq`, and a `pg_notify` on
 * `clawpulse_events` with `<host>:<last seq>` for the fleet view. A failed commit leaves the group
 * as it was, to be written again as it was (same seqs); a commit whose COMMIT reached the server
 * but whose answer was lost is harmless to repeat: its rows conflict on (host, seq) and are
 * skipped, the offsets and `last_seq` are set to the same values.
 */
import type { PulseEvent, StoredEvent } from '../../model/events.js';
import type { SyncPg } from './sync-pg.js';

/** rows per INSERT (arrays of this many bodies cross to the worker in one message) */
const ROWS_PER_STATEMENT = 1000;

/** PostgreSQL text cannot hold NUL: keys are stored (and looked up) with U+FFFD in its place */
export const pgText = (s: string): string => (s.includes('\u0000') ? s.replaceAll('\u0000', '\uFFFD') : s);

export interface PendingGroup {
  readonly seqs: number[];
  readonly events: PulseEvent[];
  readonly bodies: string[];
  /** offset key → JSON value (the last one wins) */
  readonly offsets: Map<string, string>;
  add(seq: number, event: PulseEvent, body: string): void;
  /** drops rows from index `n` on (an append that failed half-way) */
  truncate(n: number): void;
  size(): number;
  isEmpty(): boolean;
  /** the rows with seq > after (of one session when `key` is given), at most `limit` */
  after(after: number, limit: number, key?: string): StoredEvent[];
  clear(): void;
}

export function createPendingGroup(): PendingGroup {
  const seqs: number[] = [];
  const events: PulseEvent[] = [];
  const bodies: string[] = [];
  const offsets = new Map<string, string>();
  return {
    seqs,
    events,
    bodies,
    offsets,
    add(seq, event, body) {
      seqs.push(seq);
      events.push(event);
      bodies.push(body);
    },
    truncate(n) {
      seqs.length = n;
      events.length = n;
      bodies.length = n;
    },
    size: () => seqs.length,
    isEmpty: () => seqs.length === 0 && offsets.size === 0,
    after(after, limit, key) {
      const out: StoredEvent[] = [];
      for (let i = 0; i < seqs.length && out.length < limit; i++) {
        const seq = seqs[i] as number;
        const event = events[i] as PulseEvent;
        if (seq > after && (key === undefined || event.sessionKey === key)) out.push({ seq, event });
      }
      return out;
    },
    clear() {
      seqs.length = 0;
      events.length = 0;
      bodies.length = 0;
      offsets.clear();
    },
  };
}

const INSERT_EVENTS = `
INSERT INTO clawpulse_events (host, seq, session_key, ts, type, dedupe_key, body)
SELECT $1, u.seq, u.session_key, u.ts, u.type, u.dedupe_key, u.body
FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[])
  AS u(seq, session_key, ts, type, dedupe_key, body)
ON CONFLICT DO NOTHING`;

const UPSERT_OFFSETS = `
INSERT INTO clawpulse_offsets (host, key, value)
SELECT $1, u.key, u.value FROM unnest($2::text[], $3::text[]) AS u(key, value)
ON CONFLICT (host, key) DO UPDATE SET value = excluded.value`;

/** a ts the bigint column takes (the body keeps the event's own) */
const tsOf = (ts: number): number => (Number.isFinite(ts) ? Math.round(ts) : 0);

/**
 * Writes the group in one transaction (`before` runs first inside it: the host lease). Throws
 * what PostgreSQL said; the group is left as it was either way (the caller clears it).
 */
export function commitGroup(
  pg: SyncPg,
  host: string,
  group: PendingGroup,
  lastSeq: number,
  before: (q: SyncPg) => void,
): void {
  pg.transaction((q) => {
    before(q);
    const n = group.size();
    for (let from = 0; from < n; from += ROWS_PER_STATEMENT) {
      const to = Math.min(n, from + ROWS_PER_STATEMENT);
      const ev = group.events.slice(from, to);
      q.query(INSERT_EVENTS, [
        host,
        group.seqs.slice(from, to),
        ev.map((e) => pgText(e.sessionKey)),
        ev.map((e) => tsOf(e.ts)),
        ev.map((e) => pgText(e.type)),
        ev.map((e) => pgText(e.dedupeKey)),
        group.bodies.slice(from, to),
      ]);
    }
    if (group.offsets.size)
      q.query(UPSERT_OFFSETS, [host, [...group.offsets.keys()].map(pgText), [...group.offsets.values()]]);
    if (n) {
      q.query('UPDATE clawpulse_hosts SET last_seq = GREATEST(last_seq, $2) WHERE host = $1', [
        host,
        lastSeq,
      ]);
      q.query("SELECT pg_notify('clawpulse_events', $1::text || ':' || $2::text)", [host, lastSeq]);
    }
  });
}

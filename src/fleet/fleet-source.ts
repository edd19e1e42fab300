/**
 * The fleet view's one source: the shared PostgreSQL store the daemons write into (one writer per
 * host). It reads each host's events after the seq it has got to, scopes them by host (rekey.ts)
 * and hands them to the serve's pipeline together with the offset `fleet:<host>` = { seq }, so the
 * local store saves both in one transaction and a restarted serve resumes every host where it was.
 *
 * Why `seq > offset ORDER BY seq` never skips a row: each host has exactly one writer, whose seqs
 * are gap-free and commit in order; once seq n is visible, every seq below it is too.
 *
 * Live: a LISTEN on `clawpulse_events` (every commit notifies '<host>:<last seq>') wakes the reader
 * for that host. Notifications are lost while the connection is down, so every (re)connect catches
 * up every host from its offset, and a slow poll does the same as a safety net. The listener
 * reconnects with capped, jittered backoff; a database that is down is reported in /health and
 * never ends the serve.
 */
import pg from 'pg';
import { type BackoffOptions, backoffDelay } from '../gateway/backoff.js';
import { type Clock, systemClock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { IngestSink, OffsetReader, Source, SourceHealth } from '../ingest/source.js';
import type { PulseEvent, SourceKind } from '../model/events.js';
import type { HostRow } from './fleet-hosts.js';
import { parseBody, rekeyForHost } from './rekey.js';

export const FLEET_CHANNEL = 'clawpulse_events';
export const OFFSET_PREFIX = 'fleet:';
export const DEFAULT_POLL_MS = 5000;
const DEFAULT_PAGE = 2000;

export interface FleetSourceOptions {
  url: string;
  sink: IngestSink;
  offsets: OffsetReader;
  logger: Logger;
  clock?: Clock;
  /** the safety-net catch-up of every host, and the refresh of the hosts table (5 s) */
  pollMs?: number;
  /** events read per query (2000) */
  pageSize?: number;
  backoff?: BackoffOptions;
  random?: () => number;
}

export interface FleetSource extends Source {
  /** the rows of clawpulse_hosts as last read (heartbeats, health), with the database's time */
  hostRows(): { rows: HostRow[]; dbNow: number } | undefined;
  /** the seq each host has been read to */
  offsets(): ReadonlyMap<string, number>;
  /** reads the hosts table and every host up to its newest event; resolves when done (tests, bench) */
  catchUp(): Promise<void>;
}

/** the URL without its password, for logs and /health */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));
/** PostgreSQL's "relation does not exist": no daemon has migrated this database yet */
const noTable = (err: unknown): boolean => (err as { code?: string }).code === '42P01';

export function createFleetSource(opts: FleetSourceOptions): FleetSource {
  const { url, sink, logger } = opts;
  const clock = opts.clock ?? systemClock;
  const pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
  const pageSize = opts.pageSize ?? DEFAULT_PAGE;
  const backoff = opts.backoff ?? { baseMs: 500, maxMs: 15_000 };
  const random = opts.random ?? Math.random;
  const where = redactUrl(url);
  const log = logger.child({ source: 'fleet' });

  const offsets = new Map<string, number>();
  for (const o of opts.offsets.listOffsets(OFFSET_PREFIX)) {
    const seq = (o.value as { seq?: unknown } | null)?.seq;
    if (typeof seq === 'number' && Number.isFinite(seq)) offsets.set(o.key.slice(OFFSET_PREFIX.length), seq);
  }

  // reads go through a small pool; the LISTEN needs its own connection for as long as it lives
  const pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 5000 });
  pool.on('error', (err) => log.warn({ err }, 'an idle fleet database connection failed'));

  let state: SourceHealth['state'] = 'starting';
  let problem: string | undefined;
  let lastError: string | undefined;
  let listener: pg.Client | undefined;
  let attempt = 0;
  let reconnectTimer: unknown;
  let pollTimer: unknown;
  let stopped = false;
  let malformed = 0;
  let lastEventAt: number | undefined;
  let hosts: { rows: HostRow[]; dbNow: number } | undefined;
  /** hosts with events to read, in the order they were asked for */
  const dirty = new Set<string>();
  let pumping: Promise<void> | undefined;

  function noteError(err: unknown, what: string): void {
    const message = messageOf(err);
    if (message !== lastError) log.warn({ err: message, db: where }, what);
    lastError = message;
  }

  /** reads one page of a host's events after its offset and ingests it; true when a page was full */
  async function readHost(host: string): Promise<boolean> {
    const after = offsets.get(host) ?? 0;
    const res = await pool.query<{ seq: string; body: string }>(
      'SELECT seq, body FROM clawpulse_events WHERE host = $1 AND seq > $2 ORDER BY seq LIMIT $3',
      [host, after, pageSize],
    );
    if (stopped || res.rows.length === 0) return false;
    const events: PulseEvent[] = [];
    let last = after;
    for (const row of res.rows) {
      last = Number(row.seq);
      const e = parseBody(row.body);
      if (!e) {
        malformed++;
        continue;
      }
      events.push(rekeyForHost(host, e));
      if (lastEventAt === undefined || e.ts > lastEventAt) lastEventAt = e.ts;
    }
    // the offset goes with the events: the local store commits both or neither
    sink.ingest(events, [{ key: `${OFFSET_PREFIX}${host}`, value: { seq: last } }]);
    offsets.set(host, last);
    return res.rows.length === pageSize;
  }

  /** reads the dirty hosts one page at a time (round robin), until none is left */
  function pump(): Promise<void> {
    pumping ??= (async () => {
      try {
        while (dirty.size && !stopped) {
          const host = dirty.values().next().value as string;
          dirty.delete(host);
          if (await readHost(host)) dirty.add(host);
        }
      } catch (err) {
        // the next reconnect or poll catches every host up from its offset
        noteError(err, 'reading the fleet database failed; catching up at the next poll');
        dirty.clear();
      } finally {
        pumping = undefined;
      }
    })();
    return pumping;
  }

  function kick(host: string, seq?: number): void {
    if (seq !== undefined && seq <= (offsets.get(host) ?? 0)) return;
    dirty.add(host);
    void pump();
  }

  /** the hosts table (for /health) and a read of every host known there or read before */
  async function catchUp(): Promise<void> {
    try {
      const res = await pool.query<HostRow & { db_now: Date }>(
        `SELECT host, hostname, pid, started_at, heartbeat_at, stopped_at, health, last_seq, now() AS db_now
           FROM clawpulse_hosts ORDER BY host`,
      );
      const dbNow = res.rows[0]?.db_now?.getTime() ?? clock.now();
      hosts = { rows: res.rows, dbNow };
      problem = replaced(res.rows);
      for (const r of res.rows) dirty.add(r.host);
    } catch (err) {
      if (!noTable(err)) throw err;
      hosts = { rows: [], dbNow: clock.now() };
      problem = `no daemon has written to ${where} yet (its tables do not exist): start one with CLAWPULSE_STORE set to it`;
    }
    for (const h of offsets.keys()) dirty.add(h);
    await pump();
  }

  /**
   * a host whose newest seq in the database is below what this serve read of it: the database was
   * replaced or emptied under a mirror that remembers the old one (its offsets would skip the new)
   */
  function replaced(rows: readonly HostRow[]): string | undefined {
    const behind = rows.filter((r) => r.last_seq != null && Number(r.last_seq) < (offsets.get(r.host) ?? 0));
    if (!behind.length) return undefined;
    const names = behind
      .map((r) => `${r.host} (seq ${r.last_seq}, read to ${offsets.get(r.host)})`)
      .join(', ');
    return `${names}: the database holds fewer events than this serve read from it (replaced or emptied); start serve with a new --cache`;
  }

  async function safeCatchUp(): Promise<void> {
    try {
      await catchUp();
    } catch (err) {
      noteError(err, 'fleet catch-up failed; retrying at the next poll');
    }
  }

  function schedulePoll(): void {
    if (stopped) return;
    pollTimer = clock.setTimeout(async () => {
      await safeCatchUp();
      schedulePoll();
    }, pollMs);
  }

  function lost(client: pg.Client, err?: unknown): void {
    if (listener !== client || stopped) return;
    listener = undefined;
    client.removeAllListeners('notification');
    client.end().catch(() => {});
    state = 'down';
    noteError(err ?? new Error('connection closed'), 'fleet LISTEN connection lost; reconnecting');
    scheduleReconnect();
  }

  function scheduleReconnect(): void {
    if (stopped) return;
    attempt++;
    reconnectTimer = clock.setTimeout(() => void connect(), backoffDelay(attempt, backoff, random));
  }

  async function connect(): Promise<void> {
    if (stopped) return;
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    client.on('error', (err) => lost(client, err));
    client.on('end', () => lost(client));
    client.on('notification', (msg) => {
      if (msg.channel !== FLEET_CHANNEL || !msg.payload) return;
      // '<host>:<last seq>': the host may itself contain ':', the seq never does
      const at = msg.payload.lastIndexOf(':');
      if (at <= 0) return;
      const seq = Number(msg.payload.slice(at + 1));
      kick(msg.payload.slice(0, at), Number.isFinite(seq) ? seq : undefined);
    });
    listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${FLEET_CHANNEL}`);
    } catch (err) {
      if (listener === client) {
        listener = undefined;
        client.removeAllListeners();
        client.on('error', () => {});
        client.end().catch(() => {});
        state = 'down';
        noteError(err, 'fleet database unreachable; retrying');
        scheduleReconnect();
      }
      return;
    }
    if (stopped) {
      await client.end().catch(() => {});
      return;
    }
    if (state !== 'live') log.info({ db: where }, 'fleet: listening for new events');
    state = 'live';
    attempt = 0;
    lastError = undefined;
    // notifications sent while we were away are gone: read every host from its offset
    await safeCatchUp();
  }

  function behind(): number {
    let n = 0;
    for (const r of hosts?.rows ?? []) {
      const last = r.last_seq == null ? 0 : Number(r.last_seq);
      n += Math.max(0, last - (offsets.get(r.host) ?? 0));
    }
    return n;
  }

  return {
    id: 'fleet',
    // the fleet reader is none of the OpenClaw source kinds; /health shows its id
    kind: 'fleet' as SourceKind,
    async start() {
      await connect();
      schedulePoll();
    },
    async stop() {
      stopped = true;
      clock.clearTimeout(reconnectTimer);
      clock.clearTimeout(pollTimer);
      const l = listener;
      listener = undefined;
      if (l) {
        l.removeAllListeners('notification');
        await l.end().catch(() => {});
      }
      await pumping;
      await pool.end().catch(() => {});
      state = 'stopped';
    },
    health(): SourceHealth {
      const n = hosts?.rows.length ?? offsets.size;
      const late = behind();
      return {
        id: 'fleet',
        kind: 'fleet' as SourceKind,
        state,
        lagMs: late > 0 && lastEventAt !== undefined ? Math.max(0, clock.now() - lastEventAt) : 0,
        ...(lastEventAt !== undefined ? { lastEventAt } : {}),
        malformed,
        inputs: n,
        detail:
          state === 'down' || lastError
            ? `${where}: ${lastError ?? 'not connected'}`
            : `following ${n} host${n === 1 ? '' : 's'} on ${where}${late ? `, ${late} events behind` : ''}`,
        ...(problem ? { problem } : {}),
      };
    },
    hostRows: () => hosts,
    offsets: () => offsets,
    catchUp,
  };
}

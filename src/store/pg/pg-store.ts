/**
 * The PostgreSQL EventStore: several daemons (one per host) write into one database, each under
 * its host id; everything is keyed by host (schema: `migrations.ts`).
 *
 * The same guarantees as the SQLite store:
 * - seqs per host, gap-free, given in memory: the writer is its host's only writer (the host
 *   lease, `pg-host-lease.ts`), so it needs no sequence or lock per append;
 * - dedupe per session in memory (each session's set of key hashes loaded from the table on first
 *   use, `session-dedupe.ts`), with the unique index (host, session_key, dedupe_hash) and
 *   `ON CONFLICT DO NOTHING` as the safety net;
 * - group commit: appends wait in memory (`pg-pending.ts`) for at most `commitDelayMs` (or
 *   `flush`), then one transaction writes the events with the source offsets they cover and
 *   notifies the fleet view; reads see appended-but-uncommitted events;
 * - the database briefly down: the group is held in memory with its seqs, up to `maxHeldEvents`
 *   (then `append` throws HOLD_FULL and the pipeline pauses the sources), retried with backoff
 *   and by every `flush`, and written as it was when the database is back: nothing lost, nothing
 *   doubled.
 *
 * A store opened with `writer: false` (a CLI command) takes no lease and only reads, apart from
 * the kv and the dispatch ledger, whose writes are safe from any number of processes.
 *
 * Migrations registered by other parts (the ledger, alerts, usage) are applied at open: their
 * files register them when imported, so this module imports them.
 */
import { hostname as osHostname } from 'node:os';
import type { SharedFleet } from '../../alerts/shared-fleet.js';
import { type Clock, systemClock } from '../../infra/clock.js';
import type { PulseEvent, StoredEvent } from '../../model/events.js';
import type { SessionState } from '../../model/session.js';
import type { AlertStore } from '../alert-store.js';
import { hashKey } from '../dedupe-hash.js';
import type { DispatchLedger } from '../dispatch-ledger.js';
import type { AppendResult, EventStore, SourceOffset, StoreStats } from '../event-store.js';
import { createSessionDedupe } from '../session-dedupe.js';
import { StoreError } from '../sqlite-open.js';
import { DEFAULT_COMMIT_DELAY_MS, DEFAULT_MAX_HELD_EVENTS, HOLD_FULL } from '../sqlite-store.js';
import type { UsageStore } from '../usage-store.js';
import { applyMigrations } from './migrations.js';
import { createPgAlerts } from './pg-alerts.js';
import { createPgFleet } from './pg-fleet.js';
import { DEFAULT_LEASE_WAIT_MS, type HostLease, takeHostLease } from './pg-host-lease.js';
import { hostTables } from './pg-host-tables.js';
import { createPgLedger } from './pg-ledger.js';
import { commitGroup, createPendingGroup, pgText } from './pg-pending.js';
import { createPgUsage } from './pg-usage.js';
import { openSyncPg, type SyncPg } from './sync-pg.js';

export { HOLD_FULL, StoreError };

export interface PgStoreOptions {
  /** this clawpulse's host id (CLAWPULSE_HOST) */
  host: string;
  /** the daemon: takes the host lease and appends; CLI commands read */
  writer: boolean;
  /** how long an append may wait for its group's commit (`DEFAULT_COMMIT_DELAY_MS`) */
  commitDelayMs?: number;
  /** events held in memory at most while the database cannot be written (`DEFAULT_MAX_HELD_EVENTS`) */
  maxHeldEvents?: number;
  /** for the commit delay and the retry backoff */
  clock?: Clock;
  /** how long one database call may block (sync-pg's default, 5 s) */
  timeoutMs?: number;
  /** how long a start waits for a lease a killed writer's connection may still hold */
  leaseWaitMs?: number;
  /** memory the per-session dedupe sets may hold */
  dedupeBytes?: number;
}

export interface PgStore extends EventStore {
  readonly host: string;
  /** the URL without its password */
  readonly path: string;
  /** the connection, shared by the sub-stores (ledger, alerts, usage) */
  pg(): SyncPg;
  /**
   * Commits the appended events first, then runs `fn` in a transaction on the store's
   * connection: for a sub-store whose rows must never be on disk before the events they count
   * (the usage aggregate and its watermark). Throws when the database cannot be written.
   */
  writeAfterEvents<T>(fn: (q: SyncPg) => T): T;
  heldEvents(): number;
}

/** a group holding this many events is committed at once */
const MAX_GROUP_EVENTS = 5000;
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 5000;
/** stats() reads the database at most this often (it backs /health and /metrics) */
const STATS_EVERY_MS = 5000;

/** as the SQLite store: an event missing one of its indexed fields is dropped (counted a duplicate) */
const incomplete = (e: PulseEvent): boolean =>
  e.dedupeKey == null || e.sessionKey == null || e.type == null || e.ts == null || Number.isNaN(e.ts);

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export function createPgStore(url: string, opts: PgStoreOptions): PgStore {
  const host = opts.host;
  if (!host) throw new StoreError('the PostgreSQL store needs a host id (CLAWPULSE_HOST)', url);
  const clock = opts.clock ?? systemClock;
  const maxHeld = opts.maxHeldEvents ?? DEFAULT_MAX_HELD_EVENTS;
  const commitDelayMs = opts.commitDelayMs ?? DEFAULT_COMMIT_DELAY_MS;

  let pg: SyncPg;
  try {
    pg = openSyncPg(url, {
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      applicationName: `clawpulse ${opts.writer ? 'writer' : 'reader'} ${host} on ${osHostname()}`.slice(
        0,
        63,
      ),
    });
  } catch (err) {
    const safe = url.replace(/:[^:@/]*@/, '@');
    throw new StoreError(`cannot open the store ${safe}: ${messageOf(err)}`, safe, undefined, { cause: err });
  }
  const path = pg.url;

  /** Turns PostgreSQL failures into errors that say what and where. */
  const wrap = (what: string, err: unknown): StoreError =>
    err instanceof StoreError
      ? err
      : new StoreError(`store ${path} (host ${host}): ${what} failed: ${messageOf(err)}`, path, codeOf(err), {
          cause: err,
        });
  function guard<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw wrap(what, err);
    }
  }

  let lease: HostLease | undefined;
  try {
    applyMigrations(pg);
    if (opts.writer) lease = takeHostLease(pg, host, opts.leaseWaitMs ?? DEFAULT_LEASE_WAIT_MS);
  } catch (err) {
    pg.close();
    throw wrap('opening', err);
  }

  const tables = hostTables(pg, host);
  const dbLastSeq = tables.lastSeq;
  /** the last seq given out (the writer's, in memory) */
  let lastSeq = opts.writer ? guard('opening', dbLastSeq) : 0;
  const seqNow = (): number => (opts.writer ? lastSeq : guard('reading the last seq', dbLastSeq));

  const group = createPendingGroup();
  /** the seq of the last committed event: the group's seqs follow it */
  const committedSeq = (): number => (group.size() ? (group.seqs[0] as number) - 1 : lastSeq);

  // ── dedupe: per session, loaded from the table (and the group) on first use ──
  const sids = new Map<string, number>();
  const keyOfSid: string[] = [];
  const sidOf = (key: string): number => {
    let sid = sids.get(key);
    if (sid === undefined) {
      sid = keyOfSid.length;
      keyOfSid.push(key);
      sids.set(key, sid);
    }
    return sid;
  };
  const lanes = new Uint32Array(3);
  const dedupe = createSessionDedupe((sid, set) => {
    const key = keyOfSid[sid] as string;
    for (const k of tables.dedupeKeys(key)) {
      hashKey(k, lanes);
      set.add(lanes[0] as number, lanes[1] as number, lanes[2] as number);
    }
    for (const e of group.events) {
      if (e.sessionKey !== key) continue;
      hashKey(pgText(e.dedupeKey), lanes);
      set.add(lanes[0] as number, lanes[1] as number, lanes[2] as number);
    }
  }, opts.dedupeBytes);

  // ── group commit, hold and retry ──
  let closed = false;
  let timer: unknown;
  let retryTimer: unknown;
  let retryMs = RETRY_MIN_MS;
  /** why the last commit failed, while the group is held */
  let failing: string | undefined;

  function commit(): void {
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
    if (group.isEmpty()) return;
    try {
      commitGroup(pg, host, group, lastSeq, (q) => lease?.retake(q, committedSeq()));
    } catch (err) {
      failing = messageOf(err);
      scheduleRetry();
      throw wrap('commit', err);
    }
    group.clear();
    failing = undefined;
    retryMs = RETRY_MIN_MS;
    if (retryTimer !== undefined) clock.clearTimeout(retryTimer);
    retryTimer = undefined;
  }
  const tryCommit = (): void => {
    try {
      commit();
    } catch {
      // held; retried with backoff and by the next flush
    }
  };
  function scheduleRetry(): void {
    if (retryTimer !== undefined || closed) return;
    retryTimer = clock.setTimeout(() => {
      retryTimer = undefined;
      tryCommit();
    }, retryMs);
    retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
  }
  function schedule(): void {
    if (failing !== undefined || closed) return;
    if (group.size() >= MAX_GROUP_EVENTS) tryCommit();
    else if (timer === undefined && !group.isEmpty()) timer = clock.setTimeout(tryCommit, commitDelayMs);
  }

  const heldEvents = (): number => (failing !== undefined ? group.size() : 0);
  const onlyWriter = (what: string): void => {
    if (!opts.writer)
      throw new StoreError(
        `store ${path} (host ${host}): ${what} is the daemon's (this store was opened to read)`,
        path,
      );
  };

  function append(events: readonly PulseEvent[], offsets?: readonly SourceOffset[]): AppendResult {
    onlyWriter('appending events');
    if (failing !== undefined && group.size() >= maxHeld)
      throw new StoreError(
        `store ${path} (host ${host}): PostgreSQL cannot be written (${failing}) and ${group.size()} events are held in memory; taking no more until it accepts them`,
        path,
        HOLD_FULL,
      );
    const offsetValues = offsets?.map((o) => [o.key, JSON.stringify(o.value)] as const);
    const stored: StoredEvent[] = [];
    let duplicates = 0;
    const rowsBefore = group.size();
    const seqBefore = lastSeq;
    const touched = new Set<number>();
    let key: string | undefined;
    let sid = -1;
    let set: ReturnType<typeof dedupe.get> | undefined;
    try {
      for (const event of events) {
        if (incomplete(event)) {
          duplicates++;
          continue;
        }
        if (event.sessionKey !== key || !set) {
          key = event.sessionKey;
          sid = sidOf(key);
          set = dedupe.get(sid);
        }
        hashKey(pgText(event.dedupeKey), lanes);
        if (!set.add(lanes[0] as number, lanes[1] as number, lanes[2] as number)) {
          duplicates++;
          continue;
        }
        touched.add(sid);
        const seq = lastSeq + 1;
        group.add(seq, event, JSON.stringify(event));
        lastSeq = seq;
        stored.push({ seq, event });
      }
    } catch (err) {
      // nothing of this append stays: its rows, seqs and the hashes it added
      group.truncate(rowsBefore);
      lastSeq = seqBefore;
      for (const s of touched) dedupe.forget(s);
      throw wrap('append', err);
    }
    for (const [k, v] of offsetValues ?? []) group.offsets.set(k, v);
    dedupe.trim();
    schedule();
    return { stored, duplicates };
  }

  function readAfter(after: number, limit: number): StoredEvent[] {
    if (limit <= 0) return [];
    // the group's events follow every committed one: reading only them needs no query
    if (opts.writer && after >= committedSeq()) return group.after(after, limit);
    const out = guard('reading events', () => tables.eventsAfter(after, limit));
    if (out.length >= limit || group.size() === 0) return out;
    const from = out.length ? (out[out.length - 1] as StoredEvent).seq : after;
    for (const e of group.after(from, limit - out.length)) out.push(e);
    return out;
  }

  function readSession(key: string, limit = 1_000_000): StoredEvent[] {
    if (limit <= 0) return [];
    const out = guard('reading a session', () => tables.sessionEvents(key, limit));
    if (out.length >= limit || group.size() === 0) return out;
    const from = out.length ? (out[out.length - 1] as StoredEvent).seq : 0;
    for (const e of group.after(from, limit - out.length, key)) out.push(e);
    return out;
  }

  function saveSnapshots(sessions: readonly SessionState[], appliedSeq?: number): number {
    onlyWriter('saving snapshots');
    // the events first: a snapshot (and the seq it claims) never reaches the disk before them
    commit();
    return guard('saving snapshots', () => tables.writeSnapshots(sessions, appliedSeq));
  }

  function listOffsets(prefix: string): SourceOffset[] {
    const all = new Map<string, string>();
    for (const r of guard('reading offsets', () => tables.offsets(prefix))) all.set(r.key, r.value);
    for (const [k, v] of group.offsets) if (k.startsWith(prefix)) all.set(pgText(k), v);
    return [...all.keys()].sort().map((key) => ({ key, value: JSON.parse(all.get(key) as string) }));
  }

  let ledger: DispatchLedger | undefined;
  let usage: UsageStore | undefined;
  let alerts: AlertStore | undefined;
  let fleet: SharedFleet | undefined;
  let statsCache: { at: number; sessions: number; bytes: number } | undefined;
  let statsError: string | undefined;
  function stats(): StoreStats {
    const now = clock.now();
    if (!statsCache || statsError !== undefined || now - statsCache.at >= STATS_EVERY_MS) {
      try {
        statsCache = { at: now, ...tables.sizes() };
        statsError = undefined;
      } catch (err) {
        statsError = messageOf(err);
        statsCache = { at: now, sessions: statsCache?.sessions ?? 0, bytes: statsCache?.bytes ?? 0 };
      }
    }
    let last = lastSeq;
    if (!opts.writer) {
      try {
        last = dbLastSeq();
      } catch (err) {
        statsError = messageOf(err);
      }
    }
    const error = failing ?? statsError;
    return {
      path,
      engine: 'postgres',
      host,
      events: last,
      sessions: statsCache.sessions,
      lastSeq: last,
      /** the shared events table, every host's rows */
      bytes: statsCache.bytes,
      heldEvents: heldEvents(),
      ...(error !== undefined ? { error } : {}),
    };
  }

  return {
    host,
    path,
    pg: () => pg,
    append,
    flush: () => {
      dedupe.dropIdle();
      commit();
    },
    readAfter,
    readSession,
    lastSeq: seqNow,
    countEvents: seqNow,
    saveSnapshots,
    loadSnapshots: () => guard('reading snapshots', tables.loadSnapshots),
    snapshotSeq: () => guard('reading the snapshot seq', tables.snapshotSeq),
    loadSnapshot: (key) => guard('reading a snapshot', () => tables.loadSnapshot(key)),
    getOffset: (key) => {
      const value = group.offsets.get(key) ?? guard('reading an offset', () => tables.offset(key));
      return value === undefined ? undefined : JSON.parse(value);
    },
    listOffsets,
    setOffsets: (offsets) => {
      onlyWriter('saving offsets');
      // the group's older offsets first, or its commit would overwrite these
      commit();
      guard('saving offsets', () => tables.writeOffsets(offsets));
    },
    kvGet: (ns, key) => guard('kv read', () => tables.kvGet(ns, key)),
    kvSet: (ns, key, value) => guard('kv write', () => tables.kvSet(ns, key, value)),
    kvDelete: (ns, key) => guard('kv delete', () => tables.kvDelete(ns, key)),
    kvList: (ns) => guard('kv list', () => tables.kvList(ns)),
    ledger: () => {
      ledger ??= createPgLedger(pg, host);
      return ledger;
    },
    alerts: () => {
      alerts ??= createPgAlerts(pg, host);
      return alerts;
    },
    // fleet-wide budgets: every host's spend, and the one daemon that alerts on them (pg-fleet.ts)
    fleet: () => {
      fleet ??= createPgFleet(pg, host, () => clock.now());
      return fleet;
    },
    stats,
    heldEvents,
    writeAfterEvents: (fn) => {
      commit();
      return guard('write', () => pg.transaction(fn));
    },
    // folded after the events it counts are committed, with its watermark (pg-usage.ts)
    usage: () => {
      usage ??= createPgUsage({
        pg,
        host,
        now: () => clock.now(),
        readAfter,
        writeAfterEvents: (fn) => {
          commit();
          return guard('usage write', () => pg.transaction(fn));
        },
      });
      return usage;
    },
    close: () => {
      if (closed) return;
      closed = true;
      for (const t of [timer, retryTimer]) if (t !== undefined) clock.clearTimeout(t);
      try {
        if (opts.writer) {
          // what cannot be written now is what a crash would lose: the sources read it again
          tryCommit();
          lease?.release();
        }
      } catch {
        // the database is gone: the lease goes with the connection
      } finally {
        pg.close();
      }
    },
  };
}

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

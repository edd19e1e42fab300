/**
 * The daemon's store, watched: the SQLite store (`sqlite-store.ts`) behind a guard that checks
 * its file on a timer (every 5 s, from `flush`, the pipeline's tick) and whenever a write fails,
 * says loudly when something is wrong (an error log line once, `stats().error` in /health, which
 * makes the status degraded) and writes the store again when its file is gone.
 *
 * - Deleted (the path is gone: `rm` of the DB, with or without its WAL): SQLite in WAL mode
 *   goes on writing to the deleted file, and everything would be lost at the next start (every
 *   transcript read again from byte 0, OTLP data gone, Mattermost post ids forgotten). The file's
 *   identity (dev/ino) is compared with the one opened; once it is gone the store is written
 *   again at the path, from the connection still open on the deleted file:
 *   - the whole store is copied when the disk has room for it (`VACUUM INTO`): every event,
 *     offset, snapshot, kv and ledger row, as they were;
 *   - else (a store deleted to free space keeps its space until it is closed) a store seeded
 *     from memory: every table but the events' as it was (offsets, kv, ledger, claims, session
 *     ids, snapshots), the rows accepted but not written yet (events still held in memory are
 *     kept), and a snapshot of every session of the live model, current to the last seq given
 *     out. The history before the deletion is not kept (it is what did not fit); seqs go on
 *     after it, so SSE resumes and `/api/events?after=` stay meaningful. The old file is closed
 *     first, which frees its space; while even the seed cannot be written, a store in memory
 *     stands in (bounded like held events: past the bound the sources pause) and the write is
 *     tried again on every check.
 *   Either way nothing received is lost (the pipeline's held batches are stored into the new
 *   file, with their offsets) and nothing is read twice (the offsets are the current ones).
 * - Its WAL alone deleted: the WAL is checkpointed into the file from the open handle, and the
 *   file opened again (a copy as above when the checkpoint cannot complete).
 * - Replaced by another file: reported, not touched (someone put it there: a restore); this
 *   daemon keeps writing to the file it opened until it is restarted.
 * - Read-only (permissions, a read-only file system): reported. Writes through the open file may
 *   still work (permissions are checked when a file is opened); when they fail the store holds
 *   what it accepted (bounded) and the pipeline pauses the sources until the disk takes it.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../infra/logger.js';
import type { SessionState } from '../model/session.js';
import type { AlertStore } from './alert-store.js';
import type { DispatchLedger } from './dispatch-ledger.js';
import type { EventStore, StoreIncident, StoreStats } from './event-store.js';
import type { WriteLog } from './group-commit.js';
import type { HashSet96 } from './hash-set96.js';
import { readOnlyMessage, readOnlyReason, StoreError } from './sqlite-open.js';
import {
  createSqliteStore,
  DEFAULT_MAX_HELD_EVENTS,
  HOLD_FULL,
  type SqliteStore,
  type SqliteStoreOptions,
} from './sqlite-store.js';
import { placeCopy, readSeed, roomForCopy, type Seed, writeCopy, writeSeed } from './store-seed.js';
import type { UsageStore } from './usage-store.js';

/** how often the store file is checked */
export const STORE_CHECK_MS = 5000;
/** how long a store written again keeps /health degraded */
export const INCIDENT_REPORT_MS = 10 * 60_000;
const MAX_INCIDENTS = 20;

export interface GuardedStoreOptions extends SqliteStoreOptions {
  logger: Logger;
  now?: () => number;
  checkEveryMs?: number;
  reportForMs?: number;
  /** false: never copy the whole store (tests: as when the disk has no room for it) */
  copy?: boolean;
}

export interface GuardedStore extends EventStore {
  /** the live model's sessions: a store seeded without its history gets their snapshots */
  setLiveModel(sessions: () => readonly SessionState[]): void;
  /** checks the file now (a timer does every `checkEveryMs`, a failed write at once) */
  check(): void;
  heldEvents(): number;
  usage(): UsageStore;
}

interface FileId {
  dev: number;
  ino: number;
}

/** the file's identity; undefined when it is gone, 'unknown' when it cannot be told */
function idOf(p: string): FileId | undefined | 'unknown' {
  try {
    const st = statSync(p);
    return { dev: st.dev, ino: st.ino };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? undefined : 'unknown';
  }
}

const same = (a: FileId, b: FileId): boolean => a.dev === b.dev && a.ino === b.ino;
const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export function createGuardedStore(path: string, opts: GuardedStoreOptions): GuardedStore {
  const { logger } = opts;
  const now = opts.now ?? Date.now;
  const checkEveryMs = opts.checkEveryMs ?? STORE_CHECK_MS;
  const reportForMs = opts.reportForMs ?? INCIDENT_REPORT_MS;
  const maxHeld = opts.maxHeldEvents ?? DEFAULT_MAX_HELD_EVENTS;
  const watched = path !== ':memory:';

  const openAt = (carry?: { unwritten?: WriteLog; dedupe?: ReadonlyMap<number, HashSet96> }): SqliteStore =>
    createSqliteStore(path, {
      ...opts,
      ...(carry?.unwritten || carry?.dedupe ? { carry } : {}),
    });

  let cur = openAt();
  let fileId: FileId | undefined | 'unknown';
  /** the WAL's identity: SQLite keeps <path>-wal while the connection is open */
  let walId: FileId | undefined;
  /** notes the identity of the file (and WAL) just opened */
  function noteIds(): void {
    if (!watched) return;
    fileId = idOf(path);
    const wal = idOf(`${path}-wal`);
    walId = wal && wal !== 'unknown' ? wal : undefined;
  }
  noteIds();
  let lastCheck = now();
  let liveModel: () => readonly SessionState[] = () => [];
  /** a store in memory standing in while a seeded store cannot be written to disk; its first seq */
  let interim: { base: number } | undefined;
  /** the incident being recovered from (said once, however many checks it takes) */
  let open: StoreIncident | undefined;
  const incidents: StoreIncident[] = [];
  let recoveryError: string | undefined;
  let readOnly: { reason: string; message: string } | undefined;
  let replaced: string | undefined;

  function incident(what: string): StoreIncident {
    const i: StoreIncident = { at: now(), what };
    incidents.push(i);
    if (incidents.length > MAX_INCIDENTS) incidents.shift();
    return i;
  }

  function closeQuietly(s: SqliteStore): void {
    try {
      s.close();
    } catch (err) {
      logger.warn({ err }, 'closing the lost store file failed');
    }
  }

  function adopt(next: SqliteStore): void {
    cur = next;
    noteIds();
  }

  /** the seed store in memory is written to the path (throws while the disk cannot take it) */
  function persistInterim(): void {
    const mem = cur;
    mem.flush();
    writeCopy(mem.database(), path);
    placeCopy(path);
    adopt(openAt({ dedupe: new Map(mem.dedupeSets()) }));
    interim = undefined;
    closeQuietly(mem);
  }

  /** the path is gone: writes the store again there; says how */
  function recoverFile(): string {
    const old = cur;
    try {
      old.flush();
    } catch {
      // what cannot be committed is carried over below
    }
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch {
      // the copy below says why it cannot be written
    }
    const db = old.database();
    let copied = false;
    if (opts.copy !== false && roomForCopy(db, path)) {
      try {
        writeCopy(db, path);
        copied = true;
      } catch (err) {
        logger.warn({ err, path }, 'copying the whole store failed; seeding a new one from memory instead');
      }
    }
    const tables = readSeed(db);
    const accepted = old.countEvents();
    const dedupe = new Map(old.dedupeSets());
    const unwritten = old.takeUnwritten();
    const lastSeq = old.lastSeq();
    const firstUnwritten = unwritten?.chunks[0]?.[0];
    const seed: Seed = {
      ...tables,
      floor: firstUnwritten !== undefined ? firstUnwritten - 1 : lastSeq,
      lastSeq,
      ...(unwritten ? { unwritten } : {}),
      live: liveModel(),
    };
    // closing the deleted file frees its space; it also removes <path>-wal and -shm by name,
    // so nothing new may be at the path before
    closeQuietly(old);
    const pending = unwritten?.events ?? 0;
    const events = accepted - pending;
    if (copied) {
      try {
        placeCopy(path);
        adopt(openAt(unwritten ? { unwritten } : undefined));
        return `copied whole from the deleted file's open handle (${events} events, with every offset, snapshot, kv and ledger row)${pending ? `, ${pending} events not yet written carried over` : ''}`;
      } catch (err) {
        logger.warn(
          { err, path },
          'putting the copy in place failed; seeding a new store from memory instead',
        );
      }
    }
    const mem = createSqliteStore(':memory:', {
      ...opts,
      init: (m) => writeSeed(m, seed),
      carry: { dedupe },
    });
    cur = mem;
    interim = { base: mem.lastSeq() };
    const what = `seeded from memory (no room for the ${events} events of history, which are not kept): every offset, kv, ledger row and snapshot, ${seed.live.length} sessions of the live model${pending ? `, ${pending} events not yet written` : ''}`;
    try {
      persistInterim();
    } catch (err) {
      throw new Error(`${what}; it cannot be written yet (${messageOf(err)}), so it is kept in memory`);
    }
    return what;
  }

  /** only the WAL is gone: checkpoints it into the file from the open handle and reopens */
  function recoverWal(): string {
    const old = cur;
    try {
      old.flush();
    } catch {
      // carried over below
    }
    const r = (old.database().pragma('wal_checkpoint(TRUNCATE)') as Array<Record<string, number>>)[0];
    if (r?.busy !== 0 || r.log !== r.checkpointed) return recoverFile();
    const unwritten = old.takeUnwritten();
    closeQuietly(old);
    adopt(openAt(unwritten ? { unwritten } : undefined));
    return `its WAL was written into the file from the open handle and the file opened again${unwritten ? `, ${unwritten.events} events not yet written carried over` : ''}`;
  }

  function lost(what: string, walOnly: boolean): void {
    if (!open) {
      open = incident(what);
      logger.error(
        { path, heldEvents: cur.heldEvents() },
        `${what}: writing a new store at the path from what the daemon holds`,
      );
    }
    try {
      const how = walOnly ? recoverWal() : recoverFile();
      open.recoveredAt = now();
      open.recovery = how;
      logger.warn({ path, recovery: how }, `store written again at ${path}: ${how}`);
      open = undefined;
      recoveryError = undefined;
    } catch (err) {
      const msg = `${what}; writing a new store failed: ${messageOf(err)}; retrying every ${Math.round(checkEveryMs / 1000)} s`;
      if (recoveryError !== msg)
        logger.error({ err, path }, 'writing a new store at the path failed; retrying');
      recoveryError = msg;
    }
  }

  function checkWritable(): void {
    const reason = readOnlyReason(path);
    if (!reason) {
      if (readOnly) logger.info({ path }, 'store is writable again');
      readOnly = undefined;
      return;
    }
    const held = cur.heldEvents();
    const effect = held
      ? `the disk refuses writes: ${held} events held in memory (at most ${maxHeld}, then reading pauses)`
      : 'writes go on through the file the daemon has open, but clawpulse cannot start on it again';
    if (readOnly?.reason !== reason) {
      logger.error({ path, reason }, `store ${path} is read-only (${reason})`);
      incident(`store ${path} is read-only (${reason})`);
    }
    readOnly = { reason, message: readOnlyMessage(path, reason, effect) };
  }

  function check(): void {
    lastCheck = now();
    if (!watched) return;
    if (interim) {
      try {
        persistInterim();
        if (open) {
          open.recoveredAt = now();
          open.recovery = `${open.recovery ?? 'seeded from memory'}; written to disk`;
          logger.warn({ path }, `store written again at ${path}`);
        }
        open = undefined;
        recoveryError = undefined;
      } catch {
        // still no room: the next check tries again
      }
      return;
    }
    const id = idOf(path);
    if (id === 'unknown') return;
    if (!id) {
      replaced = undefined;
      lost(`store file ${path} was deleted under the running daemon`, false);
      return;
    }
    if (fileId && fileId !== 'unknown' && !same(id, fileId)) {
      if (!replaced) {
        replaced = `store file ${path} was replaced by another file (inode ${id.ino}, was ${fileId.ino}) under the running daemon: it keeps writing to the file it opened; restart clawpulse to use the new one`;
        logger.error({ path }, replaced);
        incident(replaced);
      }
      return;
    }
    const wal = idOf(`${path}-wal`);
    if (wal !== 'unknown') {
      if (walId && (!wal || !same(wal, walId))) {
        lost(`the WAL of store ${path} (${path}-wal) was deleted under the running daemon`, true);
        return;
      }
      if (!walId && wal) walId = wal;
    }
    checkWritable();
  }

  /** runs a write; when it fails the file is checked at once, and a new store gets it once more */
  function write<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      const before = cur;
      check();
      if (cur !== before) return fn();
      throw err;
    }
  }

  const heldEvents = (): number => (interim ? Math.max(0, cur.lastSeq() - interim.base) : cur.heldEvents());

  function problem(): string | undefined {
    if (recoveryError) return recoveryError;
    if (replaced) return replaced;
    if (readOnly) return readOnly.message;
    const last = incidents.at(-1);
    if (last?.recoveredAt !== undefined && now() - last.recoveredAt < reportForMs) {
      return `${last.what} (${new Date(last.at).toISOString()}); a new store was written at the path: ${last.recovery}`;
    }
    return undefined;
  }

  // dispatch keeps the ledger it is given: it must follow the store to a new file
  const ledger = new Proxy({} as DispatchLedger, {
    get: (_t, k) => {
      const l = cur.ledger() as unknown as Record<string | symbol, unknown>;
      const v = l[k];
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(l) : v;
    },
  });
  // the alert engine too: its writes go through `write` (a failing disk is noticed like any write)
  const alerts = new Proxy({} as AlertStore, {
    get: (_t, k) => {
      // looked up on each call: a write retried after recovery goes to the new store
      const call = (...x: unknown[]) => {
        const a = cur.alerts() as unknown as Record<string | symbol, (...y: unknown[]) => unknown>;
        return a[k]?.(...x);
      };
      return k === 'record' || k === 'resolve' || k === 'prune'
        ? (...x: unknown[]) => write(() => call(...x))
        : call;
    },
  });

  // the usage aggregate follows the store to a new file too (its tables are copied with it)
  const usage: UsageStore = {
    record: (events) => write(() => cur.usage().record(events)),
    catchUp: () => write(() => cur.usage().catchUp()),
    appliedSeq: () => cur.usage().appliedSeq(),
    report: (q) => cur.usage().report(q),
    byAgentModel: () => cur.usage().byAgentModel(),
  };

  return {
    setLiveModel: (fn) => {
      liveModel = fn;
    },
    check,
    heldEvents,
    append: (events, offsets) => {
      if (interim && heldEvents() >= maxHeld) {
        throw new StoreError(
          `store ${path}: a new store could not be written to disk yet and ${heldEvents()} events are held in memory; taking no more until it can`,
          path,
          HOLD_FULL,
        );
      }
      return write(() => cur.append(events, offsets));
    },
    flush: () => {
      if (now() - lastCheck >= checkEveryMs) check();
      write(() => cur.flush());
    },
    readAfter: (after, limit) => cur.readAfter(after, limit),
    readSession: (key, limit) => cur.readSession(key, limit),
    lastSeq: () => cur.lastSeq(),
    countEvents: () => cur.countEvents(),
    saveSnapshots: (sessions, appliedSeq) => write(() => cur.saveSnapshots(sessions, appliedSeq)),
    loadSnapshots: () => cur.loadSnapshots(),
    snapshotSeq: () => cur.snapshotSeq(),
    loadSnapshot: (key) => cur.loadSnapshot(key),
    getOffset: (key) => cur.getOffset(key),
    listOffsets: (prefix) => cur.listOffsets(prefix),
    setOffsets: (offsets) => write(() => cur.setOffsets(offsets)),
    kvGet: (ns, key) => cur.kvGet(ns, key),
    kvSet: (ns, key, value) => write(() => cur.kvSet(ns, key, value)),
    kvDelete: (ns, key) => write(() => cur.kvDelete(ns, key)),
    kvList: (ns) => cur.kvList(ns),
    ledger: () => ledger,
    usage: () => usage,
    alerts: () => alerts,
    stats: (): StoreStats => {
      const s: StoreStats = { ...cur.stats(), path, heldEvents: heldEvents() };
      const error = problem();
      if (error) s.error = error;
      if (incidents.length) s.incidents = incidents.map((i) => ({ ...i }));
      return s;
    },
    close: () => {
      // a store standing in from memory gets a last chance to reach the disk
      if (interim) {
        try {
          persistInterim();
        } catch (err) {
          logger.error(
            { err, path },
            'the store kept in memory could not be written at the stop; it is lost',
          );
        }
      }
      cur.close();
    },
  };
}

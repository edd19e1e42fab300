/**
 * Writing a store again after its file was lost under the daemon (`store-guard.ts`).
 *
 * - `copyStore`: the whole store, as the still-open connection sees it (Linux keeps a deleted
 *   file's data until its last handle closes), through `VACUUM INTO` a temp file that is then
 *   renamed into place.
 * - `readSeed` / `writeSeed`: a store without the old history, for when the copy does not fit
 *   on the disk (the deleted file still takes its space until it is closed: a store deleted to
 *   free space is the likely case). Every table but the events' (`chunks`) is kept as it was:
 *   source offsets, kv (Mattermost post ids), snapshots, the dispatch ledger and claims, session
 *   ids; then the rows accepted but not written, and a snapshot of every session of the live
 *   model, current to the last seq given out. Seqs go on after the lost ones (`SEQ_FLOOR`).
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import type { SessionState } from '../model/session.js';
import type { WriteLog } from './group-commit.js';
import { MISSING_SEQS, SCHEMA_VERSION, SEQ_FLOOR, SNAPSHOT_SEQ, STORE_NS } from './sqlite-schema.js';

/** removes a database file and the files SQLite keeps beside it */
export function removeDbFiles(file: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${file}${suffix}`, { force: true });
}

/** the temp file a new store is written to before it is renamed into place */
export const recoveringPath = (path: string): string => `${path}.recovering`;

/** whether the disk holding `path` has room for a whole copy of `db` (with a margin) */
export function roomForCopy(db: Database.Database, path: string): boolean {
  try {
    const pages = db.pragma('page_count', { simple: true }) as number;
    const free = db.pragma('freelist_count', { simple: true }) as number;
    const size = db.pragma('page_size', { simple: true }) as number;
    const st = statfsSync(dirname(path));
    return st.bavail * st.bsize > (pages - free) * size * 1.2 + 4 * 1024 * 1024;
  } catch {
    return false;
  }
}

/**
 * Writes `src` (everything it sees, uncommitted WAL frames of a deleted file included) into a
 * new file at `path`, through a temp file renamed into place. Nothing may hold `path` open for
 * writing: a connection still open on an older file there would, on closing, delete the -wal
 * and -shm of the new one (SQLite removes them by name).
 */
export function writeCopy(src: Database.Database, path: string): void {
  const tmp = recoveringPath(path);
  removeDbFiles(tmp);
  try {
    src.prepare('VACUUM INTO ?').run(tmp);
    // VACUUM INTO does not sync what it wrote
    const fd = openSync(tmp, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    removeDbFiles(tmp);
    throw err;
  }
}

/** puts the temp file written by `writeCopy` at `path`, with no stale -wal or -shm beside it */
export function placeCopy(path: string): void {
  // a WAL left beside the path belongs to the old file: SQLite would replay it into the new one
  rmSync(`${path}-wal`, { force: true });
  rmSync(`${path}-shm`, { force: true });
  rmSync(`${path}-journal`, { force: true });
  renameSync(recoveringPath(path), path);
  try {
    const dir = openSync(dirname(path), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    // a folder that cannot be opened for sync: the rename is still done
  }
}

interface TableSeed {
  name: string;
  sql: string;
  columns: string[];
  rows: unknown[][];
}

/** what a store seeded without its history is made of */
export interface Seed {
  tables: TableSeed[];
  indexes: string[];
  /** the last seq the lost file held: the new store's seqs go on after it */
  floor: number;
  /** the last seq given out (the live model has applied every event up to it) */
  lastSeq: number;
  unwritten?: WriteLog;
  live: readonly SessionState[];
}

/** the store's own facts in kv, written afresh by `writeSeed` */
const OWN_KV = new Set([MISSING_SEQS, SEQ_FLOOR, SNAPSHOT_SEQ]);

/** every table but the events (`chunks`), read whole from the open connection */
export function readSeed(db: Database.Database): Pick<Seed, 'tables' | 'indexes'> {
  const master = db
    .prepare(
      "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'",
    )
    .all() as Array<{ type: string; name: string; tbl_name: string; sql: string }>;
  const tables: TableSeed[] = [];
  const indexes: string[] = [];
  for (const m of master) {
    if (m.tbl_name === 'chunks') continue;
    if (m.type === 'index') indexes.push(m.sql);
    if (m.type !== 'table') continue;
    const select = db.prepare(`SELECT * FROM ${quote(m.name)}`).raw();
    const columns = select.columns().map((c) => c.name);
    let rows = select.all() as unknown[][];
    if (m.name === 'kv') rows = rows.filter((r) => !(r[0] === STORE_NS && OWN_KV.has(String(r[1]))));
    tables.push({ name: m.name, sql: m.sql, columns, rows });
  }
  return { tables, indexes };
}

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;

const ifNotExists = (sql: string): string =>
  sql.replace(
    /^CREATE (UNIQUE )?(TABLE|INDEX) (?!IF NOT EXISTS)/i,
    (_m, u = '', what) => `CREATE ${u}${what} IF NOT EXISTS `,
  );

/** writes a seed into a new database (before a store reads it), in one transaction */
export function writeSeed(db: Database.Database, seed: Seed): void {
  db.transaction(() => {
    for (const t of seed.tables) {
      db.exec(ifNotExists(t.sql));
      if (!t.rows.length) continue;
      const insert = db.prepare(
        `INSERT OR REPLACE INTO ${quote(t.name)} (${t.columns.map(quote).join(', ')}) VALUES (${t.columns.map(() => '?').join(', ')})`,
      );
      for (const r of t.rows) insert.run(r);
    }
    for (const sql of seed.indexes) db.exec(ifNotExists(sql));
    const kv = db.prepare(
      'INSERT INTO kv (ns, key, value) VALUES (?, ?, ?) ON CONFLICT(ns, key) DO UPDATE SET value = excluded.value',
    );
    // the seqs up to the floor are the lost history
    kv.run(STORE_NS, SEQ_FLOOR, String(seed.floor));
    kv.run(STORE_NS, MISSING_SEQS, String(seed.floor));
    const u = seed.unwritten;
    if (u) {
      const key = db.prepare('INSERT OR IGNORE INTO session_keys (id, key) VALUES (?, ?)');
      for (const k of u.keys) key.run(k);
      const chunk = db.prepare('INSERT INTO chunks (first, sid, n, hashes, body) VALUES (?, ?, ?, ?, ?)');
      for (const c of u.chunks) chunk.run(c);
      const offset = db.prepare(
        'INSERT INTO offsets (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      );
      for (const [k, v] of u.offsets) offset.run(k, v);
    }
    // the live model has applied every event given a seq: its snapshots are current to the last
    const snap = db.prepare(
      'INSERT INTO snapshots (session_key, body) VALUES (?, ?) ON CONFLICT(session_key) DO UPDATE SET body = excluded.body',
    );
    for (const s of seed.live) snap.run(s.key, JSON.stringify(s));
    kv.run(STORE_NS, SNAPSHOT_SEQ, String(seed.lastSeq));
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}

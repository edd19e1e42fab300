/**
 * Opening a SQLite store file: WAL, its pragmas, the schema version check, and the start of an
 * in-place upgrade (`sqlite-schema.ts`); and the error every store failure is reported as.
 *
 * A store that cannot be written is refused with a message that says so: SQLite itself opens a
 * read-only file read-only without a word, and a read-only folder (where the -wal and -shm files
 * must be created) makes it say "unable to open database file".
 */
import { accessSync, constants, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import Database from 'better-sqlite3';
import { beginUpgrade, SCHEMA, SCHEMA_VERSION } from './sqlite-schema.js';

/** a store failure, saying what failed and where (disk full, read-only, I/O, a newer schema) */
export class StoreError extends Error {
  constructor(
    message: string,
    public readonly path: string,
    public readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreError';
  }
}

export const errorOf = (err: unknown) => err as { code?: string; message?: string };

const writable = (p: string): string | undefined => {
  try {
    accessSync(p, constants.W_OK);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'EACCES';
  }
};

const modeOf = (p: string): string => {
  try {
    const st = statSync(p);
    return `mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}, owner uid ${st.uid}`;
  } catch {
    return 'mode unknown';
  }
};

/**
 * Why the store at `path` cannot be written by this process (a read-only file, folder or file
 * system), or undefined when it can (as far as permissions say; a full disk shows on writing).
 */
export function readOnlyReason(path: string): string | undefined {
  if (path === ':memory:' || path === '') return undefined;
  const file = writable(path);
  if (file === 'EROFS') return 'it is on a read-only file system';
  if (file && file !== 'ENOENT')
    return `the file is not writable by uid ${process.getuid?.() ?? '?'}: ${modeOf(path)}`;
  const dir = dirname(path);
  const folder = writable(dir);
  if (folder === 'EROFS') return 'it is on a read-only file system';
  if (!folder || folder === 'ENOENT') return undefined;
  // SQLite creates <file>-wal and <file>-shm beside the file (and the file itself when new); an
  // existing pair that can be written is enough
  if (file !== 'ENOENT' && !writable(`${path}-wal`) && !writable(`${path}-shm`)) return undefined;
  return `its folder ${dir} is not writable by uid ${process.getuid?.() ?? '?'} (${modeOf(dir)}), and SQLite must create ${basename(path)}-wal and -shm there`;
}

/** the message for a store that cannot be written (at start-up; `effect`: what it means while running) */
export function readOnlyMessage(path: string, reason: string, effect?: string): string {
  const fix = /file system/.test(reason) ? 'remount it read-write' : 'fix its permissions';
  return `store ${path} is read-only (${reason}): ${effect ? `${effect}; ` : ''}${fix} or point CLAWPULSE_DB elsewhere`;
}

/** the page cache of a store connection, in KiB */
export const STORE_CACHE_KIB = 2000;

/** SQLite's codes for a database it could not open or write as such */
const READ_ONLY_CODES = /^SQLITE_(READONLY|CANTOPEN|PERM|AUTH)/;

/**
 * Opens (or creates) the file and checks its schema version; `upgrading`: an upgrade from schema
 * 1 or 2 has begun in an open transaction, which the caller finishes.
 */
export function openDatabase(path: string): { db: Database.Database; upgrading: boolean; version: number } {
  const ro = readOnlyReason(path);
  if (ro) throw new StoreError(readOnlyMessage(path, ro), path, 'SQLITE_READONLY');
  let db: Database.Database | undefined;
  try {
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    // better-sqlite3 builds SQLite with a 16 MB page cache per connection; the store appends, and
    // its reads are recent pages, so SQLite's own default (2 MB) keeps catch-up as fast and the
    // idle daemon 14 MB smaller (the cache, once filled, is never given back)
    db.pragma(`cache_size = -${STORE_CACHE_KIB}`);
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new StoreError(
        `store ${path} has schema version ${version}, newer than this clawpulse understands (${SCHEMA_VERSION}); upgrade clawpulse or point CLAWPULSE_DB elsewhere`,
        path,
      );
    }
    const upgrading = beginUpgrade(db, version);
    db.exec(SCHEMA);
    return { db, upgrading, version };
  } catch (err) {
    if (db?.inTransaction) db.exec('ROLLBACK');
    db?.close();
    if (err instanceof StoreError) throw err;
    const e = errorOf(err);
    const reason = READ_ONLY_CODES.test(e.code ?? '') ? readOnlyReason(path) : undefined;
    if (reason) throw new StoreError(readOnlyMessage(path, reason), path, e.code, { cause: err });
    throw new StoreError(`cannot open store ${path}: ${e.message ?? String(err)}`, path, e.code, {
      cause: err,
    });
  }
}

/**
 * Opening a SQLite store file: WAL, its pragmas, the schema version check, and the start of an
 * in-place upgrade (`sqlite-schema.ts`); and the error every store failure is reported as.
 */
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

/**
 * Opens (or creates) the file and checks its schema version; `upgrading`: an upgrade from schema
 * 1 or 2 has begun in an open transaction, which the caller finishes.
 */
export function openDatabase(path: string): { db: Database.Database; upgrading: boolean; version: number } {
  let db: Database.Database | undefined;
  try {
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
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
    throw new StoreError(`cannot open store ${path}: ${e.message ?? String(err)}`, path, e.code, {
      cause: err,
    });
  }
}

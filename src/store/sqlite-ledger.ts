/**
 * The dispatch ledger in the SQLite store file: one row per label (the entry as JSON, with the
 * columns the queries need), and once-only claims.
 *
 * Two ways in: the daemon uses its store's own connection (`beforeWrite` commits the store's
 * open group first, as kv writes do: better-sqlite3 is synchronous, so a second connection in
 * the same process would wait on that group's lock without ever letting it commit); a CLI
 * process opens the file itself (`openLedgerFile`) and waits up to busy_timeout (5 s) for the
 * daemon's group, which commits within a second.
 *
 * `rev` orders changes for `changedSince`: each write takes max(rev) + 1 inside its write
 * transaction, so revs never repeat across processes.
 */
import type Database from 'better-sqlite3';
import type { DispatchLedger, LabelEntry, LabelRow, LabelStatus } from './dispatch-ledger.js';
import { openDatabase, StoreError } from './sqlite-open.js';

export const LEDGER_SCHEMA = `
CREATE TABLE IF NOT EXISTS dispatch_labels (
  label TEXT PRIMARY KEY,
  session_key TEXT NOT NULL,
  status TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  rev INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS dispatch_labels_by_session ON dispatch_labels(session_key);
CREATE INDEX IF NOT EXISTS dispatch_labels_by_rev ON dispatch_labels(rev);
CREATE TABLE IF NOT EXISTS dispatch_claims (key TEXT PRIMARY KEY, label TEXT NOT NULL, at INTEGER NOT NULL);
`;

export function createSqliteLedger(
  db: Database.Database,
  beforeWrite: () => void = () => {},
): DispatchLedger {
  db.exec(LEDGER_SCHEMA);
  const selectOne = db.prepare('SELECT body FROM dispatch_labels WHERE label = ?');
  const selectBySession = db.prepare(
    'SELECT label, body FROM dispatch_labels WHERE session_key = ? ORDER BY updated_at DESC',
  );
  const selectAll = db.prepare('SELECT label, body FROM dispatch_labels ORDER BY updated_at DESC, rev DESC');
  const selectByStatus = db.prepare(
    'SELECT label, body FROM dispatch_labels WHERE status = ? ORDER BY updated_at DESC, rev DESC',
  );
  const selectSince = db.prepare('SELECT label, body, rev FROM dispatch_labels WHERE rev > ? ORDER BY rev');
  const maxRev = db.prepare('SELECT COALESCE(MAX(rev), 0) AS r FROM dispatch_labels');
  const upsert = db.prepare(
    `INSERT INTO dispatch_labels (label, session_key, status, updated_at, rev, body) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT(label) DO UPDATE SET session_key = excluded.session_key, status = excluded.status,
       updated_at = excluded.updated_at, rev = excluded.rev, body = excluded.body`,
  );
  const insertClaim = db.prepare('INSERT OR IGNORE INTO dispatch_claims (key, label, at) VALUES (?, ?, ?)');
  const deleteClaim = db.prepare('DELETE FROM dispatch_claims WHERE key = ?');

  const parse = (r: { label: string; body: string }): LabelRow => ({
    label: r.label,
    entry: JSON.parse(r.body) as LabelEntry,
  });

  // IMMEDIATE: take the write lock before reading, so two read-modify-writes never interleave
  const updateTx = db.transaction(
    (label: string, fn: (c: LabelEntry | undefined) => LabelEntry | undefined): LabelEntry | undefined => {
      const row = selectOne.get(label) as { body: string } | undefined;
      const current = row ? (JSON.parse(row.body) as LabelEntry) : undefined;
      const next = fn(current === undefined ? undefined : structuredClone(current));
      if (next === undefined) return current;
      const rev = (maxRev.get() as { r: number }).r + 1;
      upsert.run(label, next.sessionKey, next.status, next.updatedAt, rev, JSON.stringify(next));
      return next;
    },
  );

  const write = <T>(what: string, f: () => T): T => {
    try {
      beforeWrite();
      return f();
    } catch (err) {
      if (err instanceof StoreError) throw err;
      const e = err as { code?: string; message?: string };
      throw new StoreError(`dispatch ledger: ${what} failed: ${e.message ?? String(err)}`, db.name, e.code, {
        cause: err,
      });
    }
  };

  return {
    get: (label) => {
      const r = selectOne.get(label) as { body: string } | undefined;
      return r ? (JSON.parse(r.body) as LabelEntry) : undefined;
    },
    bySession: (key) => (selectBySession.all(key) as Array<{ label: string; body: string }>).map(parse),
    list: (opts = {}) => {
      const rows = (
        opts.status
          ? selectByStatus.all(opts.status satisfies LabelStatus)
          : (selectAll.all() as Array<{ label: string; body: string }>)
      ) as Array<{ label: string; body: string }>;
      return (opts.limit ? rows.slice(0, opts.limit) : rows).map(parse);
    },
    update: (label, fn) => write(`updating label ${label}`, () => updateTx.immediate(label, fn)),
    changedSince: (cursor) => {
      const rows = selectSince.all(cursor) as Array<{ label: string; body: string; rev: number }>;
      return { rows: rows.map(parse), cursor: rows.length ? (rows.at(-1)?.rev ?? cursor) : cursor };
    },
    claim: (key, label, now) =>
      write(`claiming ${key}`, () => insertClaim.run(key, label, now).changes === 1),
    release: (key) => write(`releasing ${key}`, () => void deleteClaim.run(key)),
  };
}

/** a CLI process's own connection to the store file's ledger */
export function openLedgerFile(path: string): { ledger: DispatchLedger; close(): void } {
  const { db, upgrading } = openDatabase(path);
  if (upgrading) {
    // an old store's upgrade is the daemon's job (it copies every event); leave it untouched
    db.exec('ROLLBACK');
    db.close();
    throw new StoreError(
      `store ${path} needs an upgrade: start the clawpulse daemon once, then run this again`,
      path,
    );
  }
  return { ledger: createSqliteLedger(db), close: () => db.close() };
}

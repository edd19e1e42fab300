/**
 * The SQLite store's schema (version 4) and the in-place upgrade from versions 1, 2 and 3.
 *
 * Events are stored in chunks: one row per run of consecutive events of one session written by
 * one append (a source's read is mostly one session), holding the events as a JSON array (without
 * the fields the row already says: `chunk-codec.ts`) and their dedupe hashes as a blob. Writing a
 * burst is then one row per chunk instead of one row plus one unique-index entry per event: the
 * index entries, scattered over the whole index, made every commit write many pages (schema 2
 * spent about half its time there).
 *
 * - `chunks.first` (the rowid) is the seq of the chunk's first event; its events have seqs
 *   first .. first + n - 1. Seqs are gap-free and never reused.
 * - `chunks_by_session` finds one session's chunks (its history and its dedupe hashes).
 * - `hashes` comes before `body` so reading the hashes does not read the body's pages.
 */
import type Database from 'better-sqlite3';

/** 4: chunk bodies leave out the session key (and a repeated agentId and source); 3 wrote them */
export const SCHEMA_VERSION = 4;

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS chunks (
  first INTEGER PRIMARY KEY,
  sid INTEGER NOT NULL,
  n INTEGER NOT NULL,
  hashes BLOB NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_session ON chunks(sid, first);
CREATE TABLE IF NOT EXISTS session_keys (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS snapshots (session_key TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS offsets (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS kv (ns TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (ns, key));
`;

/** kv namespace of the store's own facts */
export const STORE_NS = 'clawpulse.store';
/** seqs a schema 1 or 2 store skipped (it dropped incomplete events after numbering them) */
export const MISSING_SEQS = 'missing-seqs';
/** the seq every saved snapshot is current to (a restart replays the events after it) */
export const SNAPSHOT_SEQ = 'snapshot-seq';
/**
 * seqs at or below it were given out by a store whose file was lost (`store-guard.ts`): a store
 * seeded without the old history goes on from there, so seqs never go back
 */
export const SEQ_FLOOR = 'seq-floor';

/**
 * Versions 1 and 2 kept one row per event in `events (seq, ..., body)`. Renames that table out
 * of the way (to be copied into chunks by the caller, in the same open transaction) and drops
 * what indexed it. Returns false for a store that needs no upgrade.
 */
export function beginUpgrade(db: Database.Database, version: number): boolean {
  if (version !== 1 && version !== 2) return false;
  db.exec(`BEGIN IMMEDIATE;
    DROP INDEX IF EXISTS events_by_session;
    DROP TABLE IF EXISTS session_runs;
    ALTER TABLE events RENAME TO events_old;`);
  return true;
}

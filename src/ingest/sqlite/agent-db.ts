/**
 * Read-only access to one OpenClaw agent database (`agents/<id>/agent/openclaw-agent.sqlite`).
 *
 * OpenClaw is the only writer and must never wait on us: the connection is opened read-only,
 * with a tiny busy timeout (a busy DB is retried on the next poll instead of blocking the event
 * loop), every statement runs to completion at once (`.all()`/`.get()`), and a poll's reads sit
 * in one short deferred transaction so they see one consistent snapshot and release it at once.
 */
import Database from 'better-sqlite3';
import type { TranscriptRow } from './decode.js';

export interface NodeRow {
  session_key: string;
  current_session_id: string;
  entry_json: string;
  status: string | null;
  created_via: string | null;
  spawned_by: string | null;
  parent_session_key: string | null;
  label: string | null;
  display_name: string | null;
  updated_at: number;
  last_activity_at: number | null;
}

export interface AgentDb {
  readonly path: string;
  /** runs fn inside one short read transaction */
  read<T>(fn: () => T): T;
  /** PRAGMA user_version (OpenClaw 2026.9.6 writes 23) */
  userVersion(): number;
  maxRowid(): number;
  /** session ids with rows whose rowid is in (after, upTo] */
  sessionsWithRowsBetween(after: number, upTo: number): string[];
  /** session_windows: session id → session key */
  windows(): Array<{ session_id: string; session_key: string }>;
  windowKey(sessionId: string): string | undefined;
  maxSeq(sessionId: string): number | undefined;
  events(sessionId: string, afterSeq: number, limit: number): TranscriptRow[];
  /** light listing for change detection; entry_json is read only for changed rows */
  nodeStamps(): Array<{ session_key: string; updated_at: number; current_session_id: string }>;
  nodesUpdatedSince(updatedAt: number): NodeRow[];
  node(sessionKey: string): NodeRow | undefined;
  close(): void;
}

const NODE_COLS =
  'session_key, current_session_id, entry_json, status, created_via, spawned_by, parent_session_key, label, display_name, updated_at, last_activity_at';

export function openAgentDb(path: string, busyTimeoutMs = 50): AgentDb {
  const db = new Database(path, { readonly: true, fileMustExist: true, timeout: busyTimeoutMs });
  // statements are prepared lazily: a DB created by an older OpenClaw may lack a table until
  // it migrates, and preparing against a missing table throws
  const cache = new Map<string, Database.Statement>();
  const stmt = (sql: string): Database.Statement => {
    let s = cache.get(sql);
    if (!s) {
      s = db.prepare(sql);
      cache.set(sql, s);
    }
    return s;
  };
  const begin = db.prepare('BEGIN');
  const commit = db.prepare('COMMIT');
  const rollback = db.prepare('ROLLBACK');

  return {
    path,
    userVersion: () => Number(db.pragma('user_version', { simple: true })),
    read<T>(fn: () => T): T {
      begin.run();
      try {
        const out = fn();
        commit.run();
        return out;
      } catch (err) {
        if (db.inTransaction) rollback.run();
        throw err;
      }
    },
    maxRowid: () =>
      Number((stmt('SELECT max(rowid) AS m FROM transcript_events').get() as { m: number | null }).m ?? 0),
    sessionsWithRowsBetween: (after, upTo) =>
      (
        stmt('SELECT DISTINCT session_id FROM transcript_events WHERE rowid > ? AND rowid <= ?').all(
          after,
          upTo,
        ) as Array<{
          session_id: string;
        }>
      ).map((r) => r.session_id),
    windows: () =>
      stmt('SELECT session_id, session_key FROM session_windows').all() as Array<{
        session_id: string;
        session_key: string;
      }>,
    windowKey: (sessionId) =>
      (
        stmt('SELECT session_key FROM session_windows WHERE session_id = ?').get(sessionId) as
          | { session_key: string }
          | undefined
      )?.session_key ??
      (
        stmt('SELECT session_key FROM session_nodes WHERE current_session_id = ? LIMIT 1').get(sessionId) as
          | { session_key: string }
          | undefined
      )?.session_key,
    maxSeq: (sessionId) => {
      const r = stmt('SELECT max(seq) AS m FROM transcript_events WHERE session_id = ?').get(sessionId) as {
        m: number | null;
      };
      return r.m ?? undefined;
    },
    events: (sessionId, afterSeq, limit) =>
      stmt(
        'SELECT session_id, seq, event_json, event_zstd, event_utf8_bytes, created_at FROM transcript_events WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?',
      ).all(sessionId, afterSeq, limit) as TranscriptRow[],
    nodeStamps: () =>
      stmt('SELECT session_key, updated_at, current_session_id FROM session_nodes').all() as Array<{
        session_key: string;
        updated_at: number;
        current_session_id: string;
      }>,
    nodesUpdatedSince: (updatedAt) =>
      stmt(
        `SELECT ${NODE_COLS} FROM session_nodes WHERE updated_at >= ? ORDER BY updated_at, session_key`,
      ).all(updatedAt) as NodeRow[],
    node: (sessionKey) =>
      stmt(`SELECT ${NODE_COLS} FROM session_nodes WHERE session_key = ?`).get(sessionKey) as
        | NodeRow
        | undefined,
    close: () => {
      try {
        db.close();
      } catch {
        // closing twice or after a fatal error: nothing left to release
      }
    },
  };
}

/** SQLITE_BUSY / SQLITE_LOCKED (and their extended codes): try again on the next poll */
export function isBusyError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/**
 * Test support: writes an OpenClaw agent database of the real 2026.9.6 shape (the vendored
 * `schema.sql`, WAL, user_version 23) the way OpenClaw's writer fills it, so the source is
 * tested against the tables, columns and CHECK constraints it will meet. Not used at run time.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export const OPENCLAW_AGENT_SCHEMA_VERSION = 23;

export function agentSchemaSql(): string {
  return fs.readFileSync(new URL('./schema.sql', import.meta.url), 'utf8');
}

export interface FakeSessionOpts {
  sessionKey: string;
  sessionId: string;
  updatedAt: number;
  entry?: Record<string, unknown>;
  status?: 'running' | 'done' | 'failed' | 'killed' | 'timeout' | null;
  spawnedBy?: string;
  label?: string;
  displayName?: string;
}

export interface FakeAgentDb {
  path: string;
  db: Database.Database;
  upsertSession(o: FakeSessionOpts): void;
  /** appends one transcript event; `zstd` given = stored compressed, as OpenClaw does for big rows */
  append(
    sessionId: string,
    event: unknown,
    opts?: { createdAt?: number; zstd?: (b: Uint8Array) => Uint8Array },
  ): number;
  /** raw row, for corrupt-input tests */
  appendRaw(
    sessionId: string,
    row: {
      eventJson?: string | null;
      zstd?: Uint8Array;
      utf8Bytes?: number;
      createdAt?: number;
      navigation?: string;
    },
  ): number;
  close(): void;
}

export function createFakeAgentDb(stateDir: string, agentId: string): FakeAgentDb {
  const dir = path.join(stateDir, 'agents', agentId, 'agent');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'openclaw-agent.sqlite');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.exec(agentSchemaSql());
  db.pragma(`user_version = ${OPENCLAW_AGENT_SCHEMA_VERSION}`);
  db.prepare(
    `INSERT OR REPLACE INTO schema_meta (meta_key, role, schema_version, agent_id, app_version, created_at, updated_at)
     VALUES ('primary', 'agent', ?, ?, '2026.9.6', 0, 0)`,
  ).run(OPENCLAW_AGENT_SCHEMA_VERSION, agentId);

  const upsertNode = db.prepare(
    `INSERT INTO session_nodes (session_key, current_session_id, entry_json, updated_at, status, created_via, spawned_by, parent_session_key, label, display_name, last_activity_at)
     VALUES (@key, @sid, @entry, @updatedAt, @status, @createdVia, @spawnedBy, @spawnedBy, @label, @displayName, @updatedAt)
     ON CONFLICT(session_key) DO UPDATE SET current_session_id = excluded.current_session_id, entry_json = excluded.entry_json,
       updated_at = excluded.updated_at, status = excluded.status, label = excluded.label, display_name = excluded.display_name,
       last_activity_at = excluded.last_activity_at`,
  );
  const upsertWindow = db.prepare(
    `INSERT INTO session_windows (session_id, session_key, created_at, updated_at, status, spawned_by, parent_session_key, display_name)
     VALUES (@sid, @key, @updatedAt, @updatedAt, @status, @spawnedBy, @spawnedBy, @displayName)
     ON CONFLICT(session_id) DO UPDATE SET updated_at = excluded.updated_at, status = excluded.status`,
  );
  const nextSeq = db.prepare(
    'SELECT coalesce(max(seq), 0) + 1 AS s FROM transcript_events WHERE session_id = ?',
  );
  const insertEvent = db.prepare(
    `INSERT INTO transcript_events (session_id, seq, event_json, created_at, event_zstd, event_utf8_bytes, navigation_json)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );

  function appendRaw(
    sessionId: string,
    row: {
      eventJson?: string | null;
      zstd?: Uint8Array;
      utf8Bytes?: number;
      createdAt?: number;
      navigation?: string;
    },
  ): number {
    const seq = (nextSeq.get(sessionId) as { s: number }).s;
    const nav =
      row.zstd !== undefined
        ? (row.navigation ??
          JSON.stringify({
            version: 1,
            report: { kind: 'canonical' },
            navigation: {},
            reset: {},
            model: {},
            modelBytes: 0,
            modelWithoutCheckpointBytes: 0,
            withoutCustomDataBytes: 0,
          }))
        : null;
    insertEvent.run(
      sessionId,
      seq,
      row.eventJson ?? null,
      row.createdAt ?? Date.now(),
      row.zstd ? Buffer.from(row.zstd) : null,
      row.utf8Bytes ?? (row.eventJson ? Buffer.byteLength(row.eventJson) : null),
      nav,
    );
    return seq;
  }

  return {
    path: file,
    db,
    upsertSession(o) {
      const p = {
        key: o.sessionKey,
        sid: o.sessionId,
        entry: JSON.stringify({ sessionId: o.sessionId, updatedAt: o.updatedAt, ...(o.entry ?? {}) }),
        updatedAt: o.updatedAt,
        status: o.status ?? null,
        createdVia: o.spawnedBy ? 'spawn' : null,
        spawnedBy: o.spawnedBy ?? null,
        label: o.label ?? null,
        displayName: o.displayName ?? null,
      };
      db.transaction(() => {
        upsertNode.run(p);
        upsertWindow.run(p);
      })();
    },
    append(sessionId, event, opts = {}) {
      const json = JSON.stringify(event);
      if (!opts.zstd)
        return appendRaw(sessionId, { eventJson: json, createdAt: opts.createdAt ?? Date.now() });
      const bytes = Buffer.from(json, 'utf8');
      return appendRaw(sessionId, {
        zstd: opts.zstd(bytes),
        utf8Bytes: bytes.byteLength,
        createdAt: opts.createdAt ?? Date.now(),
      });
    },
    appendRaw,
    close: () => db.close(),
  };
}

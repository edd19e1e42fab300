/**
 * Versioned schema migrations for the PostgreSQL store, applied at start under an advisory lock
 * (`pg_advisory_lock`), so two daemons starting together never both migrate: the second waits
 * for the first, then finds every migration recorded and applies none.
 *
 * The applied set is recorded in `clawpulse_migrations(id, applied_at)`. `applyMigrations`
 * applies, in list order, every listed migration whose id is not recorded, each in its own
 * transaction together with its record. A migration never changes once released: a change is a
 * new migration.
 *
 * Adding tables from another part of clawpulse (alerts, usage, the dispatch ledger):
 *   1. in your own file, e.g. `src/store/pg/pg-alerts-schema.ts`:
 *        import { registerMigrations } from './migrations.js';
 *        registerMigrations({ id: '0100-alerts', sql: `CREATE TABLE clawpulse_alerts (...)` });
 *   2. import that file for its side effect where the store is opened (`pg-store.ts` imports
 *      the known ones at its top: `import './pg-alerts-schema.js';`), so its migrations are
 *      registered before `applyMigrations` runs.
 * Ids sort the list: the core uses 0001-0099, the ledger 0100-0199 (helper C2), alerts 0200-0299
 * (helper E), usage 0300-0399 (helper F). Keep every table name prefixed `clawpulse_` and keyed
 * by `host` where its rows belong to one host.
 */
import type { SyncPg } from './sync-pg.js';

export interface Migration {
  /** sorts the list, e.g. '0001-core'; never reused */
  id: string;
  /** one or more statements, run in one transaction */
  sql: string;
}

/** the advisory lock key migrations run under (any constant no other lock of ours uses) */
export const MIGRATION_LOCK_KEY = 0x636c6177; // 'claw'
/** how long one migration may run */
const MIGRATION_TIMEOUT_MS = 10 * 60_000;

/**
 * The core schema (helper D's fleet view reads `clawpulse_hosts` and `clawpulse_events`).
 *
 * Dedupe: `dedupe_hash` is the MD5 of the dedupe key as a uuid (16 bytes, fixed size), a column
 * PostgreSQL computes, indexed instead of the key itself, which can be hundreds of bytes (a tool
 * call id plus a session path): the unique index (host, session_key, dedupe_hash) stays small. Two different keys of one session sharing
 * an MD5 is not a practical risk; `dedupe_key` keeps the key itself for reading.
 */
const CORE = `
CREATE TABLE clawpulse_hosts (
  host text PRIMARY KEY,
  hostname text,
  pid int,
  started_at timestamptz,
  heartbeat_at timestamptz,
  stopped_at timestamptz,
  health jsonb,
  last_seq bigint NOT NULL DEFAULT 0
);
CREATE TABLE clawpulse_events (
  host text NOT NULL,
  seq bigint NOT NULL,
  session_key text NOT NULL,
  ts bigint NOT NULL,
  type text NOT NULL,
  dedupe_key text NOT NULL,
  dedupe_hash uuid GENERATED ALWAYS AS (md5(dedupe_key)::uuid) STORED,
  body text NOT NULL,
  PRIMARY KEY (host, seq)
);
CREATE UNIQUE INDEX clawpulse_events_dedupe ON clawpulse_events (host, session_key, dedupe_hash);
CREATE INDEX clawpulse_events_session ON clawpulse_events (host, session_key, seq);
CREATE TABLE clawpulse_offsets (
  host text NOT NULL,
  key text NOT NULL,
  value text NOT NULL,
  PRIMARY KEY (host, key)
);
CREATE TABLE clawpulse_snapshots (
  host text NOT NULL,
  session_key text NOT NULL,
  state text NOT NULL,
  saved_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (host, session_key)
);
CREATE TABLE clawpulse_snapshot_seq (
  host text PRIMARY KEY,
  applied_seq bigint NOT NULL
);
CREATE TABLE clawpulse_kv (
  host text NOT NULL,
  ns text NOT NULL,
  key text NOT NULL,
  value text NOT NULL,
  PRIMARY KEY (host, ns, key)
);
`;

const registered: Migration[] = [{ id: '0001-core', sql: CORE }];

/** adds migrations (from another file: see the header); the same id twice is refused */
export function registerMigrations(...migrations: Migration[]): void {
  for (const m of migrations) {
    const known = registered.find((r) => r.id === m.id);
    if (known && known.sql !== m.sql) throw new Error(`migration ${m.id} is registered twice, differently`);
    if (!known) registered.push(m);
  }
}

/** every registered migration, in id order */
export function migrations(): Migration[] {
  return [...registered].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * Applies the migrations not yet recorded (in list order) under the migration lock; returns
 * the ids it applied (none when another process had already applied them all).
 */
export function applyMigrations(
  pg: SyncPg,
  list: readonly Migration[] = migrations(),
  lockWaitMs = MIGRATION_TIMEOUT_MS,
): string[] {
  const recorded = (): Set<string> =>
    new Set(pg.query<{ id: string }>('SELECT id FROM clawpulse_migrations').map((r) => r.id));
  // fast path: a database already up to date needs no lock
  const [table] = pg.query<{ ok: boolean }>("SELECT to_regclass('clawpulse_migrations') IS NOT NULL AS ok");
  if (table?.ok && list.every((m) => recorded().has(m.id))) return [];
  lockMigrations(pg, lockWaitMs);
  try {
    pg.query(
      'CREATE TABLE IF NOT EXISTS clawpulse_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = recorded();
    const applied: string[] = [];
    for (const m of list) {
      if (done.has(m.id)) continue;
      // a migration may rewrite or index a big table: far longer than a statement's usual timeout
      pg.withTimeout(MIGRATION_TIMEOUT_MS, () =>
        pg.transaction((q) => {
          q.query(m.sql);
          q.query('INSERT INTO clawpulse_migrations (id) VALUES ($1)', [m.id]);
        }),
      );
      applied.push(m.id);
    }
    return applied;
  } finally {
    try {
      pg.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    } catch {
      // the connection is gone, and the lock with it
    }
  }
}

/**
 * Takes the migration lock, polling (each call stays short: a blocking pg_advisory_lock would
 * hit the client's timeout while another process migrates)
 */
function lockMigrations(pg: SyncPg, waitMs: number): void {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const [r] = pg.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [MIGRATION_LOCK_KEY]);
    if (r?.ok) return;
    if (Date.now() > deadline)
      throw new Error(
        `PostgreSQL at ${pg.where}: another clawpulse has been migrating the schema for ${Math.round(waitMs / 1000)} s (advisory lock ${MIGRATION_LOCK_KEY} held)`,
      );
    pg.query('SELECT pg_sleep(0.05)');
  }
}

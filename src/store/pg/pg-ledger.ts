/**
 * The dispatch ledger in the shared PostgreSQL store: the same contract as the SQLite one
 * (`../sqlite-ledger.ts`, `../dispatch-ledger.contract.ts`), per host: every row carries the
 * host id (CLAWPULSE_HOST), so two hosts' labels of the same name are two labels, and their
 * once-only claims are apart too.
 *
 * Atomic read-modify-write: `update` runs in one transaction that first locks its host's head
 * row (`clawpulse_dispatch_heads`, SELECT … FOR UPDATE). A row lock on the label itself would not
 * do: a label not written yet has no row to lock, and two processes creating it would both see
 * "none". The head lock serializes this host's ledger writes (a handful a minute), and the
 * label is read after the lock is held (READ COMMITTED: each statement sees what the previous
 * holder committed).
 *
 * `rev` orders changes for `changedSince`: the head's counter, taken and bumped under that lock
 * and committed with the row, so revs commit in the order they are given out (a reader's cursor
 * never passes a rev still to commit, as a sequence's could).
 *
 * Claims: a unique (host, key) row; `INSERT … ON CONFLICT DO NOTHING RETURNING` says who won.
 */
import type { DispatchLedger, LabelEntry, LabelRow } from '../dispatch-ledger.js';
import { StoreError } from '../sqlite-open.js';
import { applyMigrations, type Migration, registerMigrations } from './migrations.js';
import { openSyncPg, type SyncPg } from './sync-pg.js';

/** the ledger's tables, a versioned migration (migrations.ts: the ledger has ids 0100-0199) */
export const LEDGER_MIGRATION: Migration = {
  id: '0100-dispatch-ledger',
  sql: `
CREATE TABLE IF NOT EXISTS clawpulse_dispatch_labels (
  host TEXT NOT NULL,
  label TEXT NOT NULL,
  session_key TEXT NOT NULL,
  status TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  rev BIGINT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (host, label)
);
CREATE INDEX IF NOT EXISTS clawpulse_dispatch_labels_by_session ON clawpulse_dispatch_labels (host, session_key);
CREATE INDEX IF NOT EXISTS clawpulse_dispatch_labels_by_rev ON clawpulse_dispatch_labels (host, rev);
CREATE TABLE IF NOT EXISTS clawpulse_dispatch_heads (host TEXT PRIMARY KEY, rev BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS clawpulse_dispatch_claims (
  host TEXT NOT NULL,
  key TEXT NOT NULL,
  label TEXT NOT NULL,
  at BIGINT NOT NULL,
  PRIMARY KEY (host, key)
);
`,
};
registerMigrations(LEDGER_MIGRATION);

interface BodyRow {
  label: string;
  body: string;
}

const parse = (r: BodyRow): LabelRow => ({ label: r.label, entry: JSON.parse(r.body) as LabelEntry });

export function createPgLedger(pg: SyncPg, host: string): DispatchLedger {
  const fail = (what: string, err: unknown): never => {
    if (err instanceof StoreError) throw err;
    const e = err as { code?: string; message?: string };
    throw new StoreError(
      `dispatch ledger (host ${host}): ${what} failed: ${e.message ?? String(err)}`,
      pg.url,
      e.code,
      { cause: err },
    );
  };
  const guarded = <T>(what: string, f: () => T): T => {
    try {
      return f();
    } catch (err) {
      return fail(what, err);
    }
  };

  // the head row exists before the first update locks it
  guarded('preparing', () =>
    pg.query(
      'INSERT INTO clawpulse_dispatch_heads (host, rev) VALUES ($1, 0) ON CONFLICT (host) DO NOTHING',
      [host],
    ),
  );

  const readOne = (q: SyncPg, label: string): LabelEntry | undefined => {
    const [row] = q.query<{ body: string }>(
      'SELECT body FROM clawpulse_dispatch_labels WHERE host = $1 AND label = $2',
      [host, label],
    );
    return row ? (JSON.parse(row.body) as LabelEntry) : undefined;
  };

  return {
    get: (label) => guarded(`reading label ${label}`, () => readOne(pg, label)),
    bySession: (key) =>
      guarded(`reading the labels of ${key}`, () =>
        pg
          .query<BodyRow>(
            'SELECT label, body FROM clawpulse_dispatch_labels WHERE host = $1 AND session_key = $2 ORDER BY updated_at DESC',
            [host, key],
          )
          .map(parse),
      ),
    list: (opts = {}) =>
      guarded('listing labels', () => {
        const params: unknown[] = [host];
        let sql = 'SELECT label, body FROM clawpulse_dispatch_labels WHERE host = $1';
        if (opts.status) {
          params.push(opts.status);
          sql += ` AND status = $${params.length}`;
        }
        sql += ' ORDER BY updated_at DESC, rev DESC';
        if (opts.limit) {
          params.push(opts.limit);
          sql += ` LIMIT $${params.length}`;
        }
        return pg.query<BodyRow>(sql, params).map(parse);
      }),
    update: (label, fn) =>
      guarded(`updating label ${label}`, () =>
        pg.transaction((q) => {
          const [head] = q.query<{ rev: string }>(
            'SELECT rev FROM clawpulse_dispatch_heads WHERE host = $1 FOR UPDATE',
            [host],
          );
          if (!head) throw new Error(`no ledger head for host ${host}`);
          const current = readOne(q, label);
          const next = fn(current === undefined ? undefined : structuredClone(current));
          if (next === undefined) return current;
          const rev = Number(head.rev) + 1;
          // one statement: the head moves and the row is written together
          q.query(
            `WITH h AS (UPDATE clawpulse_dispatch_heads SET rev = $6 WHERE host = $1)
             INSERT INTO clawpulse_dispatch_labels (host, label, session_key, status, updated_at, rev, body)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (host, label) DO UPDATE SET session_key = excluded.session_key,
               status = excluded.status, updated_at = excluded.updated_at, rev = excluded.rev,
               body = excluded.body`,
            [host, label, next.sessionKey, next.status, next.updatedAt, rev, JSON.stringify(next)],
          );
          return next;
        }),
      ),
    changedSince: (cursor) =>
      guarded('reading changes', () => {
        const rows = pg.query<BodyRow & { rev: string }>(
          'SELECT label, body, rev FROM clawpulse_dispatch_labels WHERE host = $1 AND rev > $2 ORDER BY rev',
          [host, cursor],
        );
        const last = rows.at(-1);
        return { rows: rows.map(parse), cursor: last ? Number(last.rev) : cursor };
      }),
    claim: (key, label, now) =>
      guarded(
        `claiming ${key}`,
        () =>
          pg.query(
            'INSERT INTO clawpulse_dispatch_claims (host, key, label, at) VALUES ($1, $2, $3, $4) ON CONFLICT (host, key) DO NOTHING RETURNING key',
            [host, key, label, now],
          ).length === 1,
      ),
    release: (key) =>
      guarded(`releasing ${key}`, () => {
        pg.query('DELETE FROM clawpulse_dispatch_claims WHERE host = $1 AND key = $2', [host, key]);
      }),
  };
}

/**
 * A ledger over a connection of its own (a CLI command, a writer process in tests): the
 * schema's migrations are applied first when missing (as the daemon does at start, under the
 * same advisory lock).
 */
export function openPgLedger(url: string, host: string): { ledger: DispatchLedger; close(): void } {
  const pg = openSyncPg(url, { applicationName: `clawpulse-ledger ${host}` });
  try {
    applyMigrations(pg);
    return { ledger: createPgLedger(pg, host), close: () => pg.close() };
  } catch (err) {
    pg.close();
    throw err;
  }
}

/**
 * One place that turns the configuration into a store, for the daemon and for every CLI command
 * that reads or writes history (sessions, dispatch, …):
 *
 * - SQLite (the default): the daemon gets the guarded store (its file watched: deleted, replaced,
 *   read-only, `store-guard.ts`); a CLI command opens the file itself.
 * - PostgreSQL (CLAWPULSE_STORE=postgres://…): the shared store under this clawpulse's host id
 *   (CLAWPULSE_HOST). The daemon is the host's one writer (a second daemon with the same id is
 *   refused at start); a CLI command reads, and writes only the dispatch ledger, which is safe
 *   from any number of processes.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from '../config/config.js';
import { displayStore } from '../config/store-env.js';
import type { Logger } from '../infra/logger.js';
import type { SessionState } from '../model/session.js';
import type { DispatchLedger } from './dispatch-ledger.js';
import type { EventStore } from './event-store.js';
import { openPgLedger } from './pg/pg-ledger.js';
import { createPgStore } from './pg/pg-store.js';
import { openLedgerFile } from './sqlite-ledger.js';
import { createSqliteStore } from './sqlite-store.js';
import { createGuardedStore } from './store-guard.js';

export interface OpenStoreOptions {
  role: 'daemon' | 'cli';
  /** the daemon's logger (the store logs its incidents) */
  logger?: Logger;
  now?: () => number;
}

/** a store as the daemon uses it: the SQLite guard also wants the live model (to seed a lost file) */
export type OpenedStore = EventStore & {
  setLiveModel?(sessions: () => readonly SessionState[]): void;
};

export function openStore(config: Readonly<Config>, opts: OpenStoreOptions): OpenedStore {
  const s = config.store;
  if (s.engine === 'postgres')
    return createPgStore(s.url, { host: config.host, writer: opts.role === 'daemon' });
  if (opts.role === 'cli') return createSqliteStore(s.path);
  if (!opts.logger) throw new Error('openStore: the daemon passes its logger');
  return createGuardedStore(s.path, { logger: opts.logger, ...(opts.now ? { now: opts.now } : {}) });
}

/**
 * The dispatch ledger over a connection of its own (a CLI command while the daemon may write
 * too): the store file's ledger, or the shared store's for this host.
 */
export function openLedger(config: Readonly<Config>): { ledger: DispatchLedger; close(): void } {
  const s = config.store;
  if (s.engine === 'postgres') return openPgLedger(s.url, config.host);
  mkdirSync(dirname(s.path), { recursive: true });
  return openLedgerFile(s.path);
}

/** whether there is history to read: the SQLite file exists (a shared store always does) */
export const storeExists = (config: Readonly<Config>): boolean =>
  config.store.engine === 'postgres' || existsSync(config.store.path);

/** the store as messages name it (a path, or the URL without its password) */
export const storeName = (config: Readonly<Config>): string => displayStore(config.store);

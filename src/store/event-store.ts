/**
 * The EventStore contract. One implementation (SQLite) ships; the contract tests in
 * `event-store.contract.ts` run against every implementation.
 *
 * Synchronous on purpose: better-sqlite3 is synchronous, and a sync store keeps ingest a
 * straight line (parse → append → apply) with no interleaving to reason about.
 */
import type { SharedFleet } from '../alerts/shared-fleet.js';
import type { PulseEvent, StoredEvent } from '../model/events.js';
import type { SessionState } from '../model/session.js';
import type { AlertStore } from './alert-store.js';
import type { DispatchLedger } from './dispatch-ledger.js';
import type { UsageStore } from './usage-store.js';

/** Where a source has got to in one of its inputs, e.g. a byte offset in a transcript file. */
export interface SourceOffset {
  /** e.g. 'files:/abs/path/x.jsonl' or 'sqlite:main:<sessionId>' */
  key: string;
  /** source-defined JSON value: { pos, ino, size, lineNo } for files, { seq } for sqlite ... */
  value: unknown;
}

export interface AppendResult {
  /** the events that were new (not seen before by dedupeKey), with their sequence numbers */
  stored: StoredEvent[];
  /** how many were dropped as duplicates */
  duplicates: number;
}

/** what /health and /metrics show of the store */
export interface StoreStats {
  /** the file, or the PostgreSQL URL without its password */
  path: string;
  /** sqlite (the default) or postgres (CLAWPULSE_STORE=postgres://…) */
  engine?: 'sqlite' | 'postgres';
  /** the host id this daemon writes under in a shared store (CLAWPULSE_HOST) */
  host?: string;
  events: number;
  sessions: number;
  lastSeq: number;
  bytes: number;
  /** events accepted (the model has them) but held in memory: the disk refuses writes */
  heldEvents?: number;
  /** what is wrong with the store file now (deleted, replaced, read-only, refusing writes) */
  error?: string;
  /** what happened to the store file since the start (a deletion and its recovery ...), newest last */
  incidents?: StoreIncident[];
}

export interface StoreIncident {
  at: number;
  what: string;
  /** when the store was written again at its path, and how */
  recoveredAt?: number;
  recovery?: string;
}

export interface EventStore {
  /**
   * Appends events, dropping those whose dedupeKey is already stored for their session (a
   * dedupeKey names a fact within its session), and saves the given offsets in the same
   * transaction: after a crash either both are there or neither. Appends may be committed in
   * groups, a few milliseconds late (`flush` commits at once); what they return is final: the
   * store writes it, or fails every later append until it can.
   */
  append(events: readonly PulseEvent[], offsets?: readonly SourceOffset[]): AppendResult;
  /** commits appends waiting in an open group; throws when the store cannot write them */
  flush(): void;
  /** events with seq > after, oldest first, at most `limit` */
  readAfter(after: number, limit: number): StoredEvent[];
  /** events of one session, oldest first */
  readSession(sessionKey: string, limit?: number): StoredEvent[];
  lastSeq(): number;
  countEvents(): number;

  /**
   * Saves session snapshots; with `appliedSeq`, also records (in the same transaction) that
   * every snapshot holds all stored events up to that seq, so a restart replays only the rest.
   * Returns the bytes written (the snapshots' JSON).
   */
  saveSnapshots(sessions: readonly SessionState[], appliedSeq?: number): number;
  loadSnapshots(): SessionState[];
  /** the `appliedSeq` of the last snapshot save that had one */
  snapshotSeq(): number | undefined;
  loadSnapshot(sessionKey: string): SessionState | undefined;

  getOffset(key: string): unknown;
  /** offsets whose key starts with prefix */
  listOffsets(prefix: string): SourceOffset[];
  setOffsets(offsets: readonly SourceOffset[]): void;

  /** small namespaced key/value state for outputs (e.g. Mattermost post ids per session turn) */
  kvGet(namespace: string, key: string): string | undefined;
  kvSet(namespace: string, key: string, value: string): void;
  kvDelete(namespace: string, key: string): void;
  kvList(namespace: string): Array<{ key: string; value: string }>;

  /** the dispatch ledger (labels → sessions) kept in the same store */
  ledger(): DispatchLedger;
  /** the usage aggregates (tokens, cost ... per session per day) kept in the same store; optional: a store without them reports none */
  usage?(): UsageStore;
  /** the alerts (src/alerts) kept in the same store; optional: a store without them lists none */
  alerts?(): AlertStore;
  /** a store several daemons share (PostgreSQL): every host's spend and the fleet-alerts leader (src/alerts/shared-fleet.ts) */
  fleet?(): SharedFleet;

  /** size/health facts for /health and /metrics */
  stats(): StoreStats;
  /**
   * events accepted (the model has them) but held in memory because the disk refuses writes;
   * the pipeline pauses the sources as this nears its bound
   */
  heldEvents?(): number;
  close(): void;
}

/**
 * What every ingest source implements, and what it is given.
 * A source turns its input into PulseEvents and hands them to the pipeline together with
 * the offsets they bring it to; the pipeline stores both in one transaction.
 */
import type { PulseEvent, SourceKind } from '../model/events.js';
import type { SourceOffset } from '../store/event-store.js';

export interface IngestSink {
  ingest(events: readonly PulseEvent[], offsets?: readonly SourceOffset[]): void;
}

/** Read access to saved offsets, so a restarted source resumes where it stopped. */
export interface OffsetReader {
  getOffset(key: string): unknown;
  listOffsets(prefix: string): SourceOffset[];
}

export type SourceState = 'starting' | 'live' | 'down' | 'standby' | 'stopped';

export interface SourceHealth {
  id: string;
  kind: SourceKind;
  state: SourceState;
  /** how far behind the newest input this source is, in ms (0 when caught up) */
  lagMs: number;
  /** newest event time handed to the pipeline */
  lastEventAt?: number;
  /** lines/frames/rows that could not be understood (counted, logged, skipped) */
  malformed: number;
  /** numbers out of bounds replaced or dropped (a time in 2554, 1.8e19 tokens): src/ingest/sanitize.ts */
  anomalies?: number;
  /** human detail: "following 12 files", "connect refused: ws://127.0.0.1:18789" ... */
  detail?: string;
  /** inputs followed (files, sessions, connections) */
  inputs?: number;
  /**
   * why a source that is up sees nothing, with what to set: a state dir that does not exist.
   * /health counts it as degraded and the dashboard shows it as a banner.
   */
  problem?: string;
}

export interface Source {
  readonly id: string;
  readonly kind: SourceKind;
  start(): Promise<void>;
  /** stops following and flushes its last offsets to the sink */
  stop(): Promise<void>;
  health(): SourceHealth;
}

/**
 * What the main thread and the PostgreSQL worker (`sync-pg-worker.ts`) say to each other.
 *
 * The main thread posts a `PgRequest` on its MessagePort and blocks on `Atomics.wait` over the
 * shared `signal`; the worker posts the `PgReply` with the same id, then bumps `signal` and
 * notifies. Replies to requests the main thread gave up on (timed out) are recognised by their
 * id and dropped.
 */
import type { MessagePort } from 'node:worker_threads';

export interface PgWorkerData {
  url: string;
  applicationName: string;
  /** how long a connection attempt may take */
  connectTimeoutMs: number;
  port: MessagePort;
  /** Int32Array over a SharedArrayBuffer: [0] counts replies, [1] is 1 once the worker listens */
  signal: SharedArrayBuffer;
}

export type PgRequest =
  /** waits for the first connection attempt (used once, at open) */
  | { id: number; op: 'connect' }
  /**
   * one statement; with `conn`, only on that connection (a transaction's statements must not
   * run on a connection opened after the one its BEGIN ran on)
   */
  | { id: number; op: 'query'; sql: string; params: readonly unknown[]; conn?: number }
  /** drops the connection (a request timed out: its transaction, if any, is rolled back) */
  | { id: number; op: 'reset' }
  | { id: number; op: 'close' };

export type PgReply =
  | { id: number; ok: true; rows: Record<string, unknown>[]; conn: number }
  | {
      id: number;
      ok: false;
      /** 'unavailable': the database cannot be reached now; 'sql': the statement failed */
      kind: 'unavailable' | 'sql';
      message: string;
      /** the SQLSTATE for 'sql', the errno code (ECONNREFUSED ...) for 'unavailable' */
      code?: string;
      detail?: string;
      conn: number;
    };

/** signal[0]: replies posted; signal[1]: the worker is listening */
export const REPLIES = 0;
export const READY = 1;

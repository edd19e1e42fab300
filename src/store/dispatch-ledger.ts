/**
 * The dispatch ledger: which label names which OpenClaw session, what it was asked, and how it
 * went. It replaces openclaw-scheduler's `labels.json`; `LabelEntry` keeps that file's fields
 * under the same names (so `clawpulse dispatch list --json` prints what scripts already read)
 * and adds the task prompt, delivery settings and clawpulse's own bookkeeping.
 *
 * Store-agnostic: the SQLite store implements it (`sqlite-ledger.ts`); a shared store will too.
 * Every write is one atomic read-modify-write (`update`), so concurrent CLI calls and the daemon
 * never lose or double an entry. `claim` is the once-only primitive behind "never retry the same
 * failure twice" and "deliver a result once".
 */

export type LabelStatus = 'running' | 'done' | 'error' | 'stale';
export type DeliveryMode = 'announce' | 'announce-always' | 'none';

export interface RetryRecord {
  /** 1-based attempt number */
  attempt: number;
  at: string;
  /** the run that failed */
  failedRunId?: string;
  error: string;
  /** how the retry went out: a continuation into the same session, or a fresh session */
  via: 'continue' | 'fresh';
  sessionKey: string;
  runId?: string;
}

export interface DeliveryRecord {
  state: 'pending' | 'sent' | 'skipped' | 'failed';
  idempotencyKey: string;
  attempts: number;
  /** epoch ms of the next attempt while pending */
  nextAt?: number;
  at?: string;
  error?: string;
  /** the text that was (or will be) sent, clipped */
  text?: string;
}

export interface VerifyRecord {
  command: string;
  state: 'pending' | 'running' | 'passed' | 'failed';
  exitCode?: number | null;
  timedOut?: boolean;
  /** the last lines of stdout+stderr */
  tail?: string[];
  at?: string;
  durationMs?: number;
}

export interface LabelEntry {
  // ── the labels.json fields (openclaw-scheduler dispatch 0.2.0) ──
  sessionKey: string;
  runId: string | null;
  agent: string;
  mode: 'fresh' | 'reuse';
  model: string | null;
  thinking: string | null;
  origin?: string | null;
  deliverTo?: string | null;
  deliverChannel?: string | null;
  /** ISO time the current run was started */
  spawnedAt: string;
  status: LabelStatus;
  summary: string | null;
  error: string | null;
  updatedAt: string;
  retryCount?: number;
  // ── clawpulse's additions ──
  taskPrompt?: string;
  deliveryMode?: DeliveryMode;
  timeoutSeconds?: number;
  /** false with --no-monitor: the daemon neither delivers nor verifies */
  monitor?: boolean;
  monitorInterval?: string | null;
  monitorTimeoutMinutes?: number | null;
  verifyCmd?: string | null;
  /** ISO time the label's current run was seen to end */
  endedAt?: string;
  /** epoch ms of the failure a 529 retry is waiting on, and when that retry is due */
  retryDueAt?: number;
  failedAt?: number;
  retries?: RetryRecord[];
  delivery?: DeliveryRecord;
  verify?: VerifyRecord;
  /** what `done` was told */
  checklist?: Record<string, unknown>;
  sha?: string | null;
  forceReason?: string | null;
  /** how the entry got here: enqueue, import (labels.json) or sync (found on the gateway) */
  createdBy?: 'enqueue' | 'import' | 'sync';
}

export interface LabelRow {
  label: string;
  entry: LabelEntry;
}

export interface DispatchLedger {
  get(label: string): LabelEntry | undefined;
  /** labels whose current session is this key (normally one) */
  bySession(sessionKey: string): LabelRow[];
  /** most recently updated first */
  list(opts?: { status?: LabelStatus; limit?: number }): LabelRow[];
  /**
   * Atomic read-modify-write of one label: `fn` gets the current entry (undefined when none) and
   * returns the new one, or undefined to leave it as it is. Returns what is stored afterwards.
   * Writers in other processes wait (they never interleave with it).
   */
  update(
    label: string,
    fn: (current: LabelEntry | undefined) => LabelEntry | undefined,
  ): LabelEntry | undefined;
  /** entries changed after `cursor` (an opaque number from the last call; 0 = everything) */
  changedSince(cursor: number): { rows: LabelRow[]; cursor: number };
  /**
   * Takes a once-only claim (e.g. `retry:<label>:<runId>`): true for exactly one caller across
   * every process and restart, false for everyone after.
   */
  claim(key: string, label: string, now: number): boolean;
  /** gives a claim back (an action that did not happen after all) */
  release(key: string): void;
}

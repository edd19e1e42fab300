/**
 * Where alerts are kept: every alert that fired, with its resolution, for the dashboard's Alerts
 * view, `/api/alerts`, `clawpulse alerts` and the engine's memory across a restart (an alert still
 * firing at the stop is not fired again at the start). SQLite (`sqlite-alerts.ts`, in the store
 * file) and PostgreSQL (`pg/pg-alerts.ts`) implement it; `alert-store.contract.ts` tests both.
 *
 * Synchronous like the EventStore: the engine records an alert in the same turn it decides it.
 */
import type { Alert, AlertRule, AlertState } from '../alerts/alert.js';

export interface AlertFilter {
  state?: AlertState;
  rule?: AlertRule;
  sessionKey?: string;
  /** alerts fired at or after this (epoch ms) */
  since?: number;
  /** at most this many (the newest); default 100, at most MAX_ALERTS_LIST */
  limit?: number;
}

export const MAX_ALERTS_LIST = 1000;
export const DEFAULT_ALERTS_LIST = 100;

export interface AlertCounts {
  firing: number;
  resolved: number;
  /** firing alerts per rule (every rule present, 0 when none) */
  firingByRule: Record<AlertRule, number>;
}

export interface AlertStore {
  /** stores an alert (a new firing, or the same id again: replaced as a whole) */
  record(alert: Alert): void;
  /**
   * marks a firing alert resolved at `at` (its message replaced when one is given); returns the
   * resolved alert, or undefined when no firing alert has that id (unknown or resolved already)
   */
  resolve(id: string, at: number, message?: string): Alert | undefined;
  get(id: string): Alert | undefined;
  /** firing alerts first (newest first), then resolved ones (most recently resolved first) */
  list(filter?: AlertFilter): Alert[];
  counts(): AlertCounts;
  /** drops resolved alerts resolved before `before`; returns how many */
  prune(before: number): number;
}

/** the limit a list asks for, bounded */
export function listLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit) || limit < 1) return DEFAULT_ALERTS_LIST;
  return Math.min(MAX_ALERTS_LIST, Math.floor(limit));
}

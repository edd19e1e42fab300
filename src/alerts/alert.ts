/**
 * The alert contract: what the rules (src/alerts/rules/*) produce, the alert store keeps and the
 * destinations (src/alerts/destinations/*) deliver. Small on purpose: a destination needs nothing
 * else to render an alert, and a stored row is this object as it is.
 *
 * Life of an alert: a rule sees a condition (a session stuck, a budget at 80 %) and fires an alert
 * with `state: 'firing'`; while the condition holds nothing more is sent. When it clears, the same
 * alert (same `id`) is sent again with `state: 'resolved'` and `resolvedAt`. A condition that comes
 * back after resolving fires a new alert (new `firedAt`, new `id`).
 */

import type { SessionChannel } from '../model/events.js';
import type { SinkHealth } from '../server/health.js';

export type AlertRule = 'stuck' | 'run-failed' | 'error-burst' | 'cost-velocity' | 'loop' | 'budget';

export const ALERT_RULES: readonly AlertRule[] = [
  'stuck',
  'run-failed',
  'error-burst',
  'cost-velocity',
  'loop',
  'budget',
];

export type AlertSeverity = 'warning' | 'critical';
export type AlertState = 'firing' | 'resolved';

export interface Alert {
  /**
   * Stable for one firing: `<rule>:<condition key>:<firedAt>` (e.g. `budget:session:agent:main:main:100:1765090000000`).
   * The resolved copy carries the same id, so a store upserts and a destination can edit its message.
   */
  id: string;
  rule: AlertRule;
  severity: AlertSeverity;
  state: AlertState;
  /**
   * What fired, without the time: the rule's condition and scope (`stuck:<sessionKey>`,
   * `budget:fleet-day:100`). At most one firing alert per key at a time.
   */
  key: string;
  /** the session it is about; absent for fleet-wide alerts (error burst, fleet cost velocity, fleet budget) */
  sessionKey?: string;
  /** the session's label (dispatch label or OpenClaw label) or the budget's label scope */
  label?: string;
  agentId?: string;
  /** host (CLAWPULSE_HOST) and gateway (OPENCLAW_GATEWAYS name) the session lives on, when known */
  host?: string;
  gateway?: string;
  /** where the session talks: a Mattermost session gets its alert in its own thread */
  channel?: SessionChannel;
  /** one line a person reads: "session agent:main:main stuck for 12 min in exec" */
  message: string;
  /** the measured value and the threshold it crossed, in `unit` ('usd', 'usd/h', 'errors', 'calls', 'ms') */
  value?: number;
  threshold?: number;
  unit?: string;
  /** epoch ms (from the injected clock) */
  firedAt: number;
  resolvedAt?: number;
  /** what clawpulse did about it, e.g. 'aborted the run' (the budget guard) or why it could not */
  action?: string;
}

/**
 * Where alerts go (Mattermost, webhook, Slack, Discord, Telegram). `send` is called once when an
 * alert fires and once when it resolves; it should queue and return quickly (breaker, retry and
 * throttle live inside the destination), and must not throw for a delivery failure: it reports it
 * in `health()`. A rejected promise is logged by the engine and never stops other destinations.
 */
export interface AlertDestination {
  /** e.g. 'mattermost', 'webhook', 'slack' — also the /health row's kind */
  readonly name: string;
  send(alert: Alert): Promise<void>;
  /** the /health `sinks` row; never contains a secret (token, webhook URL path, HMAC key) */
  health(): SinkHealth;
  /** drain what is queued (bounded) at daemon stop */
  stop?(): Promise<void>;
}

/** A firing alert becomes resolved: the same id, resolvedAt set. */
export function resolvedCopy(alert: Alert, at: number, message?: string): Alert {
  return { ...alert, state: 'resolved', resolvedAt: at, ...(message ? { message } : {}) };
}

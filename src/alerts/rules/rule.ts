/**
 * What an alert rule is: it watches the model (pipeline updates, the daemon tick, dispatch
 * lifecycle events) and says which conditions hold now. The engine (`../engine.ts`) turns that
 * into alerts: a condition that starts holding fires once, one that stops holding resolves, and
 * one that comes back after resolving fires anew. Rules never send or store anything.
 *
 * Rules are level-triggered on purpose: "which conditions hold" survives a restart (the engine
 * reloads the firing alerts and resolves those whose condition is gone) and a missed update.
 */
import type { LifecycleEvent } from '../../dispatch/lifecycle.js';
import type { StoredEvent } from '../../model/events.js';
import type { SessionState } from '../../model/session.js';
import type { Alert, AlertRule, AlertSeverity } from '../alert.js';

/** one condition holding now; `key` names it (rule, scope, level) and is unique among the rule's */
export interface Condition {
  key: string;
  severity: AlertSeverity;
  message: string;
  /** the session it is about (its key, label, agent, host, gateway and channel go into the alert) */
  session?: SessionState;
  /** fields for alerts not about one session (or to override the session's) */
  sessionKey?: string;
  label?: string;
  agentId?: string;
  value?: number;
  threshold?: number;
  unit?: string;
  /** the message sent when it resolves ("no longer stuck") */
  resolvedMessage?: string;
  /**
   * something to do when it fires (the budget guard's abort): awaited before the alert is stored
   * and sent, its answer goes into the alert's `action`
   */
  act?: () => Promise<string>;
}

/** a pipeline update as rules see it (the daemon tick is one with no events) */
export interface RuleUpdate {
  now: number;
  events: readonly StoredEvent[];
  changed: readonly SessionState[];
  removed?: readonly string[];
}

export interface Rule {
  readonly rule: AlertRule;
  /**
   * events and changed sessions; called on every pipeline update and tick. Returns false when
   * nothing the rule watches changed: the engine then does not ask for its conditions until the
   * next change or tick (every rule is asked on every tick, for the conditions time ends)
   */
  update?(u: RuleUpdate): boolean | undefined;
  /** dispatch lifecycle events (dispatch.failed: a run that failed after its retries) */
  lifecycle?(e: LifecycleEvent): void;
  /** the conditions holding at `now` */
  conditions(now: number): Iterable<Condition>;
}

/** the alert fields that come from a session */
export function sessionFields(
  s: SessionState | undefined,
): Pick<Alert, 'sessionKey' | 'label' | 'agentId' | 'host' | 'gateway' | 'channel'> {
  if (!s) return {};
  return {
    sessionKey: s.key,
    agentId: s.agentId,
    ...(s.label ? { label: s.label } : {}),
    ...(s.host ? { host: s.host } : {}),
    ...(s.gateway ? { gateway: s.gateway } : {}),
    ...(s.channel ? { channel: s.channel } : {}),
  };
}

/** how a session is named in a message: its label, else its key */
export function nameOf(s: Pick<SessionState, 'key' | 'label'>): string {
  return s.label ? `${s.label} (${s.key})` : s.key;
}

/** "$1.23" with cents, "$0.0042" below a cent */
export function usd(v: number): string {
  return v >= 0.01 || v === 0 ? `$${v.toFixed(2)}` : `$${v.toPrecision(2)}`;
}

/**
 * A run failed: a session's run finished with an error (agent.finished outcome error, e.g. a 529
 * the provider kept answering), and a dispatched label that failed for good (the dispatch
 * lifecycle's `dispatch.failed`: its 529 retries exhausted, or verification failed).
 *
 * - A session's failure holds until a later run of it finishes without error (a retry that
 *   succeeds resolves it); a retry that fails again is the same condition, not a new alert.
 * - A label's failure is critical (nothing will retry it); it holds until the label runs again
 *   (dispatch.started / dispatch.retried) or finishes.
 * Failures older than `maxEventAgeMs` when they reach clawpulse (history read at a first start)
 * are not alerted.
 */
import type { LifecycleEvent } from '../../dispatch/lifecycle.js';
import type { SessionState } from '../../model/session.js';
import { type Condition, nameOf, type Rule } from './rule.js';

export interface RunFailedOptions {
  maxEventAgeMs: number;
  getSession(key: string): SessionState | undefined;
}

interface Failure {
  session: SessionState;
  error: string;
}

interface LabelFailure {
  e: LifecycleEvent;
  session?: SessionState;
}

export function runFailedRule(opts: RunFailedOptions): Rule {
  const failed = new Map<string, Failure>();
  const labels = new Map<string, LabelFailure>();
  return {
    rule: 'run-failed',
    update(u) {
      const before = failed.size;
      let added = false;
      for (const { event: e } of u.events) {
        if (e.type !== 'agent.finished' || e.outcome !== 'error') continue;
        if (u.now - e.ts > opts.maxEventAgeMs) continue;
        const s = opts.getSession(e.sessionKey);
        if (!s) continue;
        const last = s.errors.at(-1)?.message;
        added ||= !failed.has(s.key);
        failed.set(s.key, { session: s, error: e.error ?? last ?? 'no error text' });
      }
      for (const s of u.changed) {
        const f = failed.get(s.key);
        if (f && s.lastOutcome !== undefined && s.lastOutcome !== 'error') failed.delete(s.key);
        else if (f) f.session = s;
      }
      for (const k of u.removed ?? []) failed.delete(k);
      return added || failed.size !== before;
    },
    lifecycle(e) {
      if (e.event === 'dispatch.failed') {
        labels.set(e.label, { e, session: e.sessionKey ? opts.getSession(e.sessionKey) : undefined });
      } else if (
        e.event === 'dispatch.started' ||
        e.event === 'dispatch.retried' ||
        e.event === 'dispatch.finished' ||
        e.event === 'dispatch.delivered'
      ) {
        labels.delete(e.label);
      }
    },
    *conditions(): Iterable<Condition> {
      for (const { session: s, error } of failed.values()) {
        yield {
          key: `run-failed:${s.key}`,
          severity: 'warning',
          session: s,
          message: `${nameOf(s)}: run failed: ${error}`,
          resolvedMessage: `${nameOf(s)}: a later run finished`,
        };
      }
      for (const [label, { e, session }] of labels) {
        yield {
          key: `run-failed:dispatch:${label}`,
          severity: 'critical',
          session,
          label,
          ...(e.sessionKey ? { sessionKey: e.sessionKey } : {}),
          ...(e.agent ? { agentId: e.agent } : {}),
          message: `dispatch ${label} failed${e.error ? `: ${e.error}` : ''}${e.attempt ? ` (after ${e.attempt} attempts)` : ''}`,
          resolvedMessage: `dispatch ${label} runs again`,
        };
      }
    },
  };
}

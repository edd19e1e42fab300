/**
 * A session stuck: the model's own stuck state (an open run or tool and no event for
 * STUCK_AFTER_S, not while a sub-agent works). One alert per session; resolved when the session
 * moves again (or ends, or leaves the model).
 */
import type { SessionState } from '../../model/session.js';
import { type Condition, nameOf, type Rule } from './rule.js';

export function stuckRule(opts: { stuckAfterMs?: number } = {}): Rule {
  const stuck = new Map<string, SessionState>();
  return {
    rule: 'stuck',
    update(u) {
      let changed = false;
      for (const s of u.changed) {
        if (s.status === 'stuck') {
          changed ||= !stuck.has(s.key);
          stuck.set(s.key, s);
        } else changed = stuck.delete(s.key) || changed;
      }
      for (const k of u.removed ?? []) changed = stuck.delete(k) || changed;
      return changed;
    },
    *conditions(now): Iterable<Condition> {
      for (const s of stuck.values()) {
        const quietMs = Math.max(0, now - s.lastEventAt);
        yield {
          key: `stuck:${s.key}`,
          severity: 'warning',
          session: s,
          message: `${nameOf(s)} is stuck: ${s.note ?? 'no activity with a run open'}`,
          resolvedMessage: `${nameOf(s)} is no longer stuck`,
          value: Math.round(quietMs / 1000),
          ...(opts.stuckAfterMs ? { threshold: Math.round(opts.stuckAfterMs / 1000) } : {}),
          unit: 's',
        };
      }
    },
  };
}

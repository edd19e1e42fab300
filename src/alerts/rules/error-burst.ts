/**
 * A burst of errors across sessions: at least `count` errors (model call errors, llm.error, and
 * runs that failed, agent.finished with an error) within `windowMs`, fleet-wide. One fleet alert;
 * resolved when the errors in the window fall below the count again. Errors are placed by their
 * own time, so history read at a first start is no burst.
 */
import type { Condition, Rule } from './rule.js';

export interface ErrorBurstOptions {
  count: number;
  windowMs: number;
}

interface Seen {
  ts: number;
  sessionKey: string;
}

export function errorBurstRule(opts: ErrorBurstOptions): Rule {
  let recent: Seen[] = [];
  // more than this is never needed to decide; the cap bounds memory in a storm
  const cap = Math.max(opts.count * 4, 100);
  const prune = (now: number) => {
    const from = now - opts.windowMs;
    if (recent.some((x) => x.ts < from)) recent = recent.filter((x) => x.ts >= from);
  };
  const minutes = Math.max(1, Math.round(opts.windowMs / 60_000));
  return {
    rule: 'error-burst',
    update(u) {
      const from = u.now - opts.windowMs;
      const before = recent.length;
      for (const { event: e } of u.events) {
        const isError = e.type === 'llm.error' || (e.type === 'agent.finished' && e.outcome === 'error');
        if (isError && e.ts >= from) recent.push({ ts: e.ts, sessionKey: e.sessionKey });
      }
      const added = recent.length !== before;
      if (recent.length > cap) recent = recent.sort((a, b) => a.ts - b.ts).slice(-cap);
      // the window sliding past errors is the tick's to see
      return added;
    },
    *conditions(now): Iterable<Condition> {
      prune(now);
      if (recent.length < opts.count) return;
      const sessions = new Set(recent.map((x) => x.sessionKey)).size;
      yield {
        key: 'error-burst:fleet',
        severity: 'warning',
        message: `${recent.length} errors in the last ${minutes} min across ${sessions} session${sessions === 1 ? '' : 's'}`,
        resolvedMessage: `errors back under ${opts.count} in ${minutes} min`,
        value: recent.length,
        threshold: opts.count,
        unit: 'errors',
      };
    },
  };
}

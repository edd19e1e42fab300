/**
 * Budgets crossed (`../budgets.ts`): each budget warns at `warnPercent` (80 %) and is critical at
 * 100 %, one alert per budget, period and level. Day and month alerts resolve when their period
 * ends; a session's or label's when its spend is no longer over (the budget was raised, or the
 * sessions left the model).
 *
 * With `action: abort` a critical alert aborts the runs open in its scope (the session; the
 * label's sessions; the agent's; every one for a fleet budget) through the budget guard
 * (`../budget-guard.ts`) before it is sent, and says what happened in the alert's `action`.
 */
import type { SessionState } from '../../model/session.js';
import { agentBudget, type Budgets, dayOf, monthOf } from '../budgets.js';
import type { SpendTracker } from '../spend.js';
import { type Condition, nameOf, type Rule, usd } from './rule.js';

export interface BudgetRuleOptions {
  budgets: () => Budgets;
  spend: SpendTracker;
  getSession(key: string): SessionState | undefined;
  allSessions(): Iterable<SessionState>;
  /** aborts the open runs of these sessions; resolves to what it did (the alert's `action`) */
  abort?(sessions: SessionState[]): Promise<string>;
}

interface Scope {
  key: string;
  what: string;
  spent: number;
  budget: number;
  session?: SessionState;
  label?: string;
  agentId?: string;
  /** the sessions whose runs the guard aborts at 100 % */
  targets: () => SessionState[];
}

export function budgetRule(opts: BudgetRuleOptions): Rule {
  // sessions that spent, by label: a label's spend is the sum of its sessions' (and sub-agents')
  const labelled = new Map<string, Set<string>>();
  // sessions at or over the warning level of the session budget (spend only grows): the check
  // per update costs the changed sessions, not every session that ever spent
  const overSession = new Set<string>();
  const running = (ss: Iterable<SessionState>) => [...ss].filter((s) => s.runOpen);

  const treeCost = (s: SessionState, seen: Set<string>): number => {
    if (seen.has(s.key)) return 0;
    seen.add(s.key);
    let c = s.costUsd;
    for (const k of s.children) {
      const child = opts.getSession(k);
      if (child && !child.label) c += treeCost(child, seen);
    }
    return c;
  };

  function* scopes(now: number): Iterable<Scope> {
    const b = opts.budgets();
    const day = dayOf(now);
    const month = monthOf(now);
    if (b.fleetDailyUsd !== undefined) {
      yield {
        key: `fleet-day:${day}`,
        what: `fleet spend today (${day})`,
        spent: opts.spend.fleetDay(day),
        budget: b.fleetDailyUsd,
        targets: () => running(opts.allSessions()),
      };
    }
    if (b.fleetMonthlyUsd !== undefined) {
      yield {
        key: `fleet-month:${month}`,
        what: `fleet spend this month (${month})`,
        spent: opts.spend.fleetMonth(month),
        budget: b.fleetMonthlyUsd,
        targets: () => running(opts.allSessions()),
      };
    }
    for (const agentId of opts.spend.agentsOn(day)) {
      const budget = agentBudget(b, agentId);
      if (budget === undefined) continue;
      yield {
        key: `agent-day:${agentId}:${day}`,
        what: `agent ${agentId} spend today (${day})`,
        spent: opts.spend.agentDay(day, agentId),
        budget,
        agentId,
        targets: () => running([...opts.allSessions()].filter((s) => s.agentId === agentId)),
      };
    }
    for (const [label, budget] of Object.entries(b.labelUsd)) {
      const keys = labelled.get(label);
      if (!keys) continue;
      const seen = new Set<string>();
      const sessions = [...keys].map((k) => opts.getSession(k)).filter((s): s is SessionState => !!s);
      const spent = sessions.reduce((sum, s) => sum + treeCost(s, seen), 0);
      yield {
        key: `label:${label}`,
        what: `label ${label} spend`,
        spent,
        budget,
        label,
        targets: () =>
          running([...seen].map((k) => opts.getSession(k)).filter((s): s is SessionState => !!s)),
      };
    }
    if (b.sessionUsd !== undefined) {
      for (const k of overSession) {
        const s = opts.getSession(k);
        if (!s) continue;
        yield {
          key: `session:${k}`,
          what: `${nameOf(s)} spend`,
          spent: s.costUsd,
          budget: b.sessionUsd,
          session: s,
          targets: () => running([s]),
        };
      }
    }
  }

  return {
    rule: 'budget',
    update(u) {
      let changed = u.events.some((s) => s.event.type === 'llm.tokens') || (u.removed?.length ?? 0) > 0;
      const b = opts.budgets();
      const warnAt = b.sessionUsd !== undefined ? (b.sessionUsd * b.warnPercent) / 100 : undefined;
      for (const s of u.changed) {
        if (warnAt !== undefined && s.costUsd > 0 && s.costUsd >= warnAt) overSession.add(s.key);
        else overSession.delete(s.key);
        if (s.label) {
          const set = labelled.get(s.label) ?? new Set<string>();
          labelled.set(s.label, set);
          changed ||= !set.has(s.key);
          set.add(s.key);
        }
      }
      for (const k of u.removed ?? []) {
        overSession.delete(k);
        for (const set of labelled.values()) set.delete(k);
      }
      return changed;
    },
    *conditions(now): Iterable<Condition> {
      const b = opts.budgets();
      for (const sc of scopes(now)) {
        if (sc.budget <= 0 && sc.spent <= 0) continue;
        const pct = sc.budget > 0 ? (sc.spent / sc.budget) * 100 : Number.POSITIVE_INFINITY;
        for (const level of [b.warnPercent, 100]) {
          if (pct < level) continue;
          const critical = level === 100;
          const abort = critical && b.action === 'abort' && opts.abort ? opts.abort : undefined;
          yield {
            key: `budget:${sc.key}:${level}`,
            severity: critical ? 'critical' : 'warning',
            ...(sc.session ? { session: sc.session } : {}),
            ...(sc.label ? { label: sc.label } : {}),
            ...(sc.agentId ? { agentId: sc.agentId } : {}),
            message: `${sc.what} ${usd(sc.spent)} is ${Math.floor(pct)} % of its budget ${usd(sc.budget)}${critical ? ' (budget reached)' : ''}`,
            resolvedMessage: `${sc.what}: budget ${usd(sc.budget)} no longer crossed (period over or budget changed)`,
            value: Math.round(sc.spent * 10_000) / 10_000,
            threshold: Math.round(((sc.budget * level) / 100) * 10_000) / 10_000,
            unit: 'usd',
            ...(abort ? { act: () => abort(sc.targets()) } : {}),
          };
        }
      }
    },
  };
}

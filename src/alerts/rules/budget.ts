/**
 * Budgets crossed (`../budgets.ts`): each budget warns at `warnPercent` (80 %) and is critical at
 * 100 %, one alert per budget, period and level. Day and month alerts resolve when their period
 * ends; a session's or label's when its spend is no longer over (the budget was raised, or the
 * sessions left the model).
 *
 * With `action: abort` a critical alert aborts the runs open in its scope (the session; the
 * label's sessions; the agent's; every one for a fleet budget) through the budget guard
 * (`../budget-guard.ts`) before it is sent, and says what happened in the alert's `action`.
 *
 * On a store several daemons share (`shared`): the fleet's day and month budgets and the agents'
 * daily budgets are fleet-wide (every host's spend, `../fleet-budgets.ts`) and only the leader
 * decides them; another daemon yields only those it has firing still (it fired them while it
 * led), so they are neither sent again nor resolved by a daemon that no longer decides. The
 * leader can abort only the runs it follows (its own gateway): when other hosts spent in the
 * period, the alert's `action` says their runs were not aborted. Session and label budgets stay
 * per daemon (a session lives on one host).
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
  /** a store several daemons share: fleet-wide scopes count every host, and only the leader decides them */
  shared?: {
    host: string;
    /** whether this daemon decides the fleet-wide alerts now */
    leader(): boolean;
    /** the keys of the alerts this daemon's engine has firing */
    firing(): ReadonlySet<string>;
  };
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
  /** fleet-wide on a shared store: the other hosts that spent in it (their runs are not this daemon's) */
  elsewhere?: () => string[];
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

  const shared = opts.shared;
  /** on a shared store, the fleet-wide scopes say so */
  const allHosts = shared ? ', all hosts' : '';

  function* scopes(now: number): Iterable<Scope> {
    const b = opts.budgets();
    const day = dayOf(now);
    const month = monthOf(now);
    if (b.fleetDailyUsd !== undefined) {
      yield {
        key: `fleet-day:${day}`,
        what: `fleet spend today (${day}${allHosts})`,
        spent: opts.spend.fleetDay(day),
        budget: b.fleetDailyUsd,
        targets: () => running(opts.allSessions()),
        ...(shared ? { elsewhere: () => opts.spend.otherHosts({ day }) } : {}),
      };
    }
    if (b.fleetMonthlyUsd !== undefined) {
      yield {
        key: `fleet-month:${month}`,
        what: `fleet spend this month (${month}${allHosts})`,
        spent: opts.spend.fleetMonth(month),
        budget: b.fleetMonthlyUsd,
        targets: () => running(opts.allSessions()),
        ...(shared ? { elsewhere: () => opts.spend.otherHosts({ month }) } : {}),
      };
    }
    for (const agentId of opts.spend.agentsOn(day)) {
      const budget = agentBudget(b, agentId);
      if (budget === undefined) continue;
      yield {
        key: `agent-day:${agentId}:${day}`,
        what: `agent ${agentId} spend today (${day}${allHosts})`,
        spent: opts.spend.agentDay(day, agentId),
        budget,
        agentId,
        targets: () => running([...opts.allSessions()].filter((s) => s.agentId === agentId)),
        ...(shared ? { elsewhere: () => opts.spend.otherHosts({ day, agentId }) } : {}),
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

  /** the guard on the scope's runs here; on a shared store, says which hosts' runs it could not reach */
  async function abortIn(sc: Scope, abort: NonNullable<BudgetRuleOptions['abort']>): Promise<string> {
    const did = await abort(sc.targets());
    const elsewhere = sc.elsewhere?.() ?? [];
    if (!shared || !elsewhere.length) return did;
    return `${did} on ${shared.host}; runs on ${elsewhere.join(', ')} not aborted (a daemon aborts only the sessions it follows)`;
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
      const decides = !shared || shared.leader();
      let held: ReadonlySet<string> | undefined;
      for (const sc of scopes(now)) {
        if (sc.budget <= 0 && sc.spent <= 0) continue;
        const pct = sc.budget > 0 ? (sc.spent / sc.budget) * 100 : Number.POSITIVE_INFINITY;
        for (const level of [b.warnPercent, 100]) {
          if (pct < level) continue;
          const key = `budget:${sc.key}:${level}`;
          // fleet-wide, not the leader: only what it fired while it led is held (not sent again)
          if (sc.elsewhere && !decides) {
            held ??= shared?.firing() ?? new Set();
            if (!held.has(key)) continue;
          }
          const critical = level === 100;
          const abort = critical && b.action === 'abort' && opts.abort ? opts.abort : undefined;
          yield {
            key,
            severity: critical ? 'critical' : 'warning',
            ...(sc.session ? { session: sc.session } : {}),
            ...(sc.label ? { label: sc.label } : {}),
            ...(sc.agentId ? { agentId: sc.agentId } : {}),
            message: `${sc.what} ${usd(sc.spent)} is ${Math.floor(pct)} % of its budget ${usd(sc.budget)}${critical ? ' (budget reached)' : ''}`,
            resolvedMessage: `${sc.what}: budget ${usd(sc.budget)} no longer crossed (period over or budget changed)`,
            value: Math.round(sc.spent * 10_000) / 10_000,
            threshold: Math.round(((sc.budget * level) / 100) * 10_000) / 10_000,
            unit: 'usd',
            ...(abort ? { act: () => abortIn(sc, abort) } : {}),
          };
        }
      }
    },
  };
}

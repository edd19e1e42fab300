/**
 * Spend per UTC day (fleet and per agent) and per UTC month (fleet), from the cost of the
 * llm.tokens events by their own time (estimated cost included): what the day and month budgets
 * are measured against.
 *
 * This daemon's own spend is seeded at start from the store's usage aggregate (SQLite: the
 * store's `usage().report`; a shared store: this host's rows, `seed`), caught up with every
 * stored event before the daemon builds the alert engine, then counted from each pipeline update
 * in memory: a budget check per batch costs no query.
 *
 * On a store several daemons share, the other hosts' spend is added on top (`setOthers`, read
 * from the shared aggregate on a bounded interval by `fleet-budgets.ts`): the fleet and agent
 * figures are then the whole fleet's, this host's live and the others' as last read. Only the
 * current and previous day and month are kept.
 */
import type { StoredEvent } from '../model/events.js';
import type { UsageStore } from '../store/usage-store.js';
import { dayOf, monthOf } from './budgets.js';
import type { HostSpend } from './shared-fleet.js';

interface Totals {
  days: Record<string, { fleet: number; agents: Record<string, number> }>;
  months: Record<string, number>;
}

export interface SpendTracker {
  /** counts the cost of llm.tokens events (others are ignored) */
  add(events: readonly StoredEvent[]): void;
  /** adds this host's stored spend (a shared store's seed at start) */
  seed(own: HostSpend): void;
  /** replaces the other hosts' spend with what was just read from the shared store */
  setOthers(others: HostSpend): void;
  fleetDay(day: string): number;
  fleetMonth(month: string): number;
  agentDay(day: string, agentId: string): number;
  /** the agents that spent on `day` (on any host) */
  agentsOn(day: string): string[];
  /** the other hosts that spent on `day` (for `agentId` only, when given), or in `month` */
  otherHosts(period: { day: string; agentId?: string } | { month: string }): string[];
  /** drops days and months before the previous ones (called from the tick) */
  prune(now: number): void;
}

const DAY = 86_400_000;
const monthStart = (ts: number): number => Date.parse(`${monthOf(ts)}-01T00:00:00.000Z`);

const emptyTotals = (): Totals => ({ days: {}, months: {} });
function dayTotals(t: Totals, day: string) {
  const d = t.days[day] ?? { fleet: 0, agents: {} };
  t.days[day] = d;
  return d;
}
function addTo(t: Totals, h: HostSpend): void {
  for (const r of h.days) {
    const d = dayTotals(t, r.day);
    d.fleet += r.usd;
    d.agents[r.agent] = (d.agents[r.agent] ?? 0) + r.usd;
  }
  for (const r of h.months) t.months[r.month] = (t.months[r.month] ?? 0) + r.usd;
}

export function createSpendTracker(now: number, usage?: Pick<UsageStore, 'report'>): SpendTracker {
  /** this daemon's spend */
  const own = emptyTotals();
  /** the other hosts' (a shared store), as last read */
  let others = emptyTotals();
  let othersRows: HostSpend = { days: [], months: [] };
  if (usage) {
    const today = Date.parse(`${dayOf(now)}T00:00:00.000Z`);
    for (const start of [today - DAY, today]) {
      const d = dayTotals(own, dayOf(start));
      for (const r of usage.report({ by: 'agent', since: start, until: start + DAY })) {
        d.agents[r.key] = r.costUsd;
        d.fleet += r.costUsd;
      }
    }
    const thisMonth = monthStart(now);
    const prevMonth = monthStart(thisMonth - 1);
    for (const r of usage.report({ by: 'month', since: prevMonth, until: now + DAY }))
      own.months[r.key] = r.costUsd;
  }

  return {
    add: (events) => {
      for (const { event: e } of events) {
        if (e.type !== 'llm.tokens' || !(e.costUsd > 0)) continue;
        const d = dayTotals(own, dayOf(e.ts));
        d.fleet += e.costUsd;
        d.agents[e.agentId] = (d.agents[e.agentId] ?? 0) + e.costUsd;
        const m = monthOf(e.ts);
        own.months[m] = (own.months[m] ?? 0) + e.costUsd;
      }
    },
    seed: (h) => addTo(own, h),
    setOthers(h) {
      others = emptyTotals();
      addTo(others, h);
      othersRows = h;
    },
    fleetDay: (day) => (own.days[day]?.fleet ?? 0) + (others.days[day]?.fleet ?? 0),
    fleetMonth: (month) => (own.months[month] ?? 0) + (others.months[month] ?? 0),
    agentDay: (day, agentId) =>
      (own.days[day]?.agents[agentId] ?? 0) + (others.days[day]?.agents[agentId] ?? 0),
    agentsOn: (day) => [
      ...new Set([
        ...Object.keys(own.days[day]?.agents ?? {}),
        ...Object.keys(others.days[day]?.agents ?? {}),
      ]),
    ],
    otherHosts(p) {
      const hosts =
        'month' in p
          ? othersRows.months.filter((r) => r.month === p.month && r.usd > 0)
          : othersRows.days.filter(
              (r) => r.day === p.day && r.usd > 0 && (p.agentId === undefined || r.agent === p.agentId),
            );
      return [...new Set(hosts.map((r) => r.host))].sort();
    },
    prune(at) {
      const oldestDay = dayOf(at - DAY);
      const oldestMonth = monthOf(monthStart(at) - 1);
      for (const t of [own, others]) {
        for (const d of Object.keys(t.days)) if (d < oldestDay) delete t.days[d];
        for (const m of Object.keys(t.months)) if (m < oldestMonth) delete t.months[m];
      }
    },
  };
}

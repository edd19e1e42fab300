/**
 * Spend per UTC day (fleet and per agent) and per UTC month (fleet), from the cost of the
 * llm.tokens events by their own time (estimated cost included): what the day and month budgets
 * are measured against.
 *
 * Seeded at start from the store's usage aggregate (`store.usage()`, per session per day, caught
 * up with every stored event before the daemon builds the alert engine), then counted from each
 * pipeline update in memory: a budget check per batch costs no query. Only the current and
 * previous day and month are kept.
 */
import type { StoredEvent } from '../model/events.js';
import type { UsageStore } from '../store/usage-store.js';
import { dayOf, monthOf } from './budgets.js';

interface Totals {
  days: Record<string, { fleet: number; agents: Record<string, number> }>;
  months: Record<string, number>;
}

export interface SpendTracker {
  /** counts the cost of llm.tokens events (others are ignored) */
  add(events: readonly StoredEvent[]): void;
  fleetDay(day: string): number;
  fleetMonth(month: string): number;
  agentDay(day: string, agentId: string): number;
  /** the agents that spent on `day` */
  agentsOn(day: string): string[];
  /** drops days and months before the previous ones (called from the tick) */
  prune(now: number): void;
}

const DAY = 86_400_000;
const monthStart = (ts: number): number => Date.parse(`${monthOf(ts)}-01T00:00:00.000Z`);

export function createSpendTracker(now: number, usage?: Pick<UsageStore, 'report'>): SpendTracker {
  const t: Totals = { days: {}, months: {} };
  const dayTotals = (day: string) => {
    const d = t.days[day] ?? { fleet: 0, agents: {} };
    t.days[day] = d;
    return d;
  };
  if (usage) {
    const today = Date.parse(`${dayOf(now)}T00:00:00.000Z`);
    for (const start of [today - DAY, today]) {
      const d = dayTotals(dayOf(start));
      for (const r of usage.report({ by: 'agent', since: start, until: start + DAY })) {
        d.agents[r.key] = r.costUsd;
        d.fleet += r.costUsd;
      }
    }
    const thisMonth = monthStart(now);
    const prevMonth = monthStart(thisMonth - 1);
    for (const r of usage.report({ by: 'month', since: prevMonth, until: now + DAY }))
      t.months[r.key] = r.costUsd;
  }

  const tracker: SpendTracker = {
    add: (events) => {
      for (const { event: e } of events) {
        if (e.type !== 'llm.tokens' || !(e.costUsd > 0)) continue;
        const d = dayTotals(dayOf(e.ts));
        d.fleet += e.costUsd;
        d.agents[e.agentId] = (d.agents[e.agentId] ?? 0) + e.costUsd;
        const m = monthOf(e.ts);
        t.months[m] = (t.months[m] ?? 0) + e.costUsd;
      }
    },
    fleetDay: (day) => t.days[day]?.fleet ?? 0,
    fleetMonth: (month) => t.months[month] ?? 0,
    agentDay: (day, agentId) => t.days[day]?.agents[agentId] ?? 0,
    agentsOn: (day) => Object.keys(t.days[day]?.agents ?? {}),
    prune(at) {
      const oldestDay = dayOf(at - DAY);
      for (const d of Object.keys(t.days)) if (d < oldestDay) delete t.days[d];
      const oldestMonth = monthOf(monthStart(at) - 1);
      for (const m of Object.keys(t.months)) if (m < oldestMonth) delete t.months[m];
    },
  };
  return tracker;
}

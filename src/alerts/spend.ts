/**
 * Spend per UTC day (fleet and per agent) and per UTC month (fleet), from the cost of the
 * llm.tokens events by their own time: what the day and month budgets are measured against.
 *
 * Kept in memory and checkpointed in the store's kv (`alerts` / `spend`) with the last event seq
 * it counted, so a restart reads only the events stored after it. Without a checkpoint (the
 * first start with alerts) the store's events are read once and this month's counted.
 * Only the current and previous day and month are kept.
 */
import type { StoredEvent } from '../model/events.js';
import type { EventStore } from '../store/event-store.js';
import { dayOf, monthOf } from './budgets.js';

export const SPEND_KV = { namespace: 'alerts', key: 'spend' } as const;

interface Checkpoint {
  seq: number;
  days: Record<string, { fleet: number; agents: Record<string, number> }>;
  months: Record<string, number>;
}

export interface SpendTracker {
  /** counts the cost of llm.tokens events (others are ignored); seq order need not be strict */
  add(events: readonly StoredEvent[]): void;
  fleetDay(day: string): number;
  fleetMonth(month: string): number;
  agentDay(day: string, agentId: string): number;
  /** the agents that spent on `day` */
  agentsOn(day: string): string[];
  /** writes the checkpoint when something changed since the last one */
  checkpoint(): void;
  /** drops days and months before the previous ones (called from the tick) */
  prune(now: number): void;
}

export function createSpendTracker(
  store: Pick<EventStore, 'kvGet' | 'kvSet' | 'readAfter' | 'lastSeq'>,
  now: number,
): SpendTracker {
  const cp: Checkpoint = { seq: 0, days: {}, months: {} };
  let dirty = false;
  const addOne = (s: StoredEvent) => {
    if (s.seq > cp.seq) cp.seq = s.seq;
    const e = s.event;
    if (e.type !== 'llm.tokens' || !(e.costUsd > 0)) return;
    const day = dayOf(e.ts);
    const d = cp.days[day] ?? { fleet: 0, agents: {} };
    cp.days[day] = d;
    d.fleet += e.costUsd;
    d.agents[e.agentId] = (d.agents[e.agentId] ?? 0) + e.costUsd;
    const m = monthOf(e.ts);
    cp.months[m] = (cp.months[m] ?? 0) + e.costUsd;
    dirty = true;
  };

  // restore: the checkpoint, then what was stored after it
  const saved = store.kvGet(SPEND_KV.namespace, SPEND_KV.key);
  let fromSeq = 0;
  if (saved) {
    try {
      const c = JSON.parse(saved) as Checkpoint;
      if (typeof c.seq === 'number' && c.days && c.months) {
        Object.assign(cp, c);
        fromSeq = c.seq;
      }
    } catch {
      // a damaged checkpoint: counted again from the events
    }
  }
  const monthStart = Date.parse(`${monthOf(now)}-01T00:00:00.000Z`);
  const prevMonthStart = Date.parse(`${monthOf(monthStart - 1)}-01T00:00:00.000Z`);
  for (let after = fromSeq; after < store.lastSeq(); ) {
    const page = store.readAfter(after, 5000);
    if (!page.length) break;
    for (const s of page) if (fromSeq > 0 || s.event.ts >= prevMonthStart) addOne(s);
    after = page[page.length - 1]?.seq ?? store.lastSeq();
  }

  const tracker: SpendTracker = {
    add: (events) => {
      for (const s of events) addOne(s);
    },
    fleetDay: (day) => cp.days[day]?.fleet ?? 0,
    fleetMonth: (month) => cp.months[month] ?? 0,
    agentDay: (day, agentId) => cp.days[day]?.agents[agentId] ?? 0,
    agentsOn: (day) => Object.keys(cp.days[day]?.agents ?? {}),
    checkpoint() {
      if (!dirty) return;
      store.kvSet(SPEND_KV.namespace, SPEND_KV.key, JSON.stringify(cp));
      dirty = false;
    },
    prune(t) {
      const keepDays = new Set([dayOf(t), dayOf(t - 86_400_000)]);
      for (const d of Object.keys(cp.days)) if (!keepDays.has(d) && d < dayOf(t)) delete cp.days[d];
      const keepMonths = new Set([monthOf(t), monthOf(Date.parse(`${monthOf(t)}-01T00:00:00.000Z`) - 1)]);
      for (const m of Object.keys(cp.months)) if (!keepMonths.has(m) && m < monthOf(t)) delete cp.months[m];
    },
  };
  tracker.prune(now);
  dirty = dirty || !saved;
  return tracker;
}

/** the start of a UTC month, for tests and messages */
export const monthStartOf = (ts: number): number => Date.parse(`${monthOf(ts)}-01T00:00:00.000Z`);

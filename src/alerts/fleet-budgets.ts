/**
 * Fleet-wide budgets on a store several daemons share (PostgreSQL, one daemon per host):
 *
 * - the fleet's day and month budgets and the agents' daily budgets count every host: this
 *   host's spend live (the spend tracker), the other hosts' as read from the shared usage
 *   aggregate at start and then every `refreshMs` (30 s) on the tick. A read that fails (the
 *   database down) keeps the last figures, is logged once, and is tried again at the next turn;
 * - one daemon decides (fires, resolves, acts on) those alerts, or each host would send the same
 *   one: the leader, elected by the store (`SharedFleet.lead`, an advisory lock), tried on each
 *   tick so another daemon takes over when the leader stops or loses its connection.
 *
 * Without a shared store (SQLite) this daemon is the fleet: it always leads and reads nothing.
 */
import type { Logger } from '../infra/logger.js';
import { type Budgets, dayOf, monthOf } from './budgets.js';
import type { HostSpend, SharedFleet, SpendQuery } from './shared-fleet.js';
import type { SpendTracker } from './spend.js';

export const FLEET_REFRESH_MS = 30_000;
const DAY = 86_400_000;

export interface FleetBudgets {
  /** this daemon's host on a shared store; undefined when the store is its own */
  readonly host: string | undefined;
  /** whether this daemon decides the fleet-wide budget alerts */
  leader(): boolean;
  /** tries the leadership; reads the other hosts' spend when it is due (or on becoming leader) */
  tick(now: number): void;
  /** gives the leadership up (another daemon takes it at its next tick) */
  stop(): void;
}

export interface FleetBudgetsDeps {
  fleet: SharedFleet | undefined;
  spend: SpendTracker;
  budgets: Budgets;
  logger: Logger;
  /** the start: this host's stored spend is seeded from here */
  now: number;
  refreshMs?: number;
}

/** the fleet-wide budgets need day rows (fleet or agent per day) and/or month rows */
function queryFor(b: Budgets, now: number): Omit<SpendQuery, 'othersOnly'> | undefined {
  const days = b.fleetDailyUsd !== undefined || Object.keys(b.agentDailyUsd).length > 0;
  const months = b.fleetMonthlyUsd !== undefined;
  if (!days && !months) return undefined;
  const prevMonth = monthOf(Date.parse(`${monthOf(now)}-01T00:00:00.000Z`) - 1);
  return {
    ...(days ? { fromDay: dayOf(now - DAY) } : {}),
    ...(months ? { fromMonth: prevMonth } : {}),
  };
}

const split = (h: HostSpend, host: string, own: boolean): HostSpend => ({
  days: h.days.filter((r) => (r.host === host) === own),
  months: h.months.filter((r) => (r.host === host) === own),
});

export function createFleetBudgets(deps: FleetBudgetsDeps): FleetBudgets {
  const { fleet, spend, budgets } = deps;
  const log = deps.logger.child({ component: 'fleet-budgets' });
  const refreshMs = deps.refreshMs ?? FLEET_REFRESH_MS;
  if (!fleet || !queryFor(budgets, deps.now)) {
    // a store of its own, or no fleet-wide budget: nothing to share
    return { host: fleet?.host, leader: () => true, tick: () => {}, stop: () => {} };
  }
  let leading = false;
  let lastRead = Number.NEGATIVE_INFINITY;
  let readFailing = false;

  function read(now: number, othersOnly: boolean): HostSpend | undefined {
    const q = queryFor(budgets, now);
    if (!q || !fleet) return undefined;
    lastRead = now;
    try {
      const rows = fleet.spend({ ...q, othersOnly });
      if (readFailing) log.info("reading the other hosts' spend again");
      readFailing = false;
      return rows;
    } catch (err) {
      // logged once per outage; the figures last read stay
      if (!readFailing)
        log.warn({ err }, "could not read the other hosts' spend; fleet budgets use the last figures");
      readFailing = true;
      return undefined;
    }
  }

  // at start: this host's stored spend and the others', in one read
  const first = read(deps.now, false);
  if (first) {
    spend.seed(split(first, fleet.host, true));
    spend.setOthers(split(first, fleet.host, false));
  } else {
    log.error("could not read the shared usage aggregate: this host's day and month spend counts from now");
  }

  return {
    host: fleet.host,
    leader: () => leading,
    tick(now) {
      let nowLeading = false;
      try {
        nowLeading = fleet.lead();
      } catch (err) {
        log.warn({ err }, 'could not take the fleet-alerts leadership');
      }
      if (nowLeading !== leading) {
        log.info(
          { host: fleet.host },
          nowLeading
            ? 'this daemon now decides the fleet-wide budget alerts'
            : 'another daemon decides the fleet-wide budget alerts now (or the database is unreachable)',
        );
      }
      const becameLeader = nowLeading && !leading;
      leading = nowLeading;
      if (becameLeader || now - lastRead >= refreshMs) {
        const others = read(now, true);
        if (others) spend.setOthers(others);
      }
    },
    stop() {
      leading = false;
      try {
        fleet.release();
      } catch {
        // the lock goes with the connection
      }
    },
  };
}

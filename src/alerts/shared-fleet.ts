/**
 * What a store shared by several daemons (PostgreSQL, one daemon per host) gives the budgets:
 * the spend every host has folded into the shared usage aggregate, and the election of the one
 * daemon that decides the fleet-wide budget alerts (`src/store/pg/pg-fleet.ts` implements it).
 * SQLite has none: its one daemon is the fleet.
 */

/** one host's spend on one UTC day for one agent ('' = unknown agent) */
export interface HostDaySpend {
  host: string;
  day: string;
  agent: string;
  usd: number;
}

/** one host's spend in one UTC month */
export interface HostMonthSpend {
  host: string;
  month: string;
  usd: number;
}

export interface HostSpend {
  days: HostDaySpend[];
  months: HostMonthSpend[];
}

export interface SpendQuery {
  /** days from this UTC day on ('2026-12-06'); no day rows when left out */
  fromDay?: string;
  /** months from this UTC month on ('2026-11'); no month rows when left out */
  fromMonth?: string;
  /** only the other hosts' rows (the refresh); every host's, this one's included, otherwise */
  othersOnly: boolean;
}

export interface SharedFleet {
  /** this daemon's host id (CLAWPULSE_HOST) */
  readonly host: string;
  /** the spend in the shared usage aggregate; throws when the database cannot be read */
  spend(q: SpendQuery): HostSpend;
  /**
   * takes (or keeps) the fleet-alerts leadership: true while this daemon holds it. Never throws:
   * the database unreachable is `false` (the lock went, or goes, with the connection)
   */
  lead(): boolean;
  /** gives the leadership up (stop), so another daemon takes it at its next tick */
  release(): void;
}

/**
 * The hosts of a shared store as /health shows them (`fleet.hosts`): each daemon's heartbeat and
 * the health it reported with it (host-heartbeat.ts), read from `clawpulse_hosts`.
 *
 * Staleness is judged on the database's clock (its `now()` read with the rows), the same clock that
 * stamped the heartbeats: hosts whose clocks drift do not look stale or alive by mistake.
 */
import type { SourceHealth } from '../ingest/source.js';

/** how often a daemon on a shared store reports (5 s) */
export const HEARTBEAT_MS = 5000;
/** a host is stale after this many intervals without a heartbeat */
export const STALE_INTERVALS = 3;

/** a row of clawpulse_hosts as `pg` returns it (bigint as a string, timestamptz as a Date) */
export interface HostRow {
  host: string;
  hostname: string | null;
  pid: number | null;
  started_at: Date | null;
  heartbeat_at: Date | null;
  stopped_at: Date | null;
  health: HostHealth | null;
  last_seq: string | number | null;
}

/** what a daemon writes into `health` with each heartbeat: the summary of its /health */
export interface HostHealth {
  status?: string;
  version?: string;
  uptimeMs?: number;
  sources?: SourceHealth[];
  sinks?: Array<{ id: string; kind: string; breaker: string; lastError?: string }>;
  sessions?: Record<string, number>;
  store?: { events?: number; lastSeq?: number; error?: string };
}

export interface FleetHost {
  host: string;
  hostname?: string;
  pid?: number;
  /** the last heartbeat (epoch ms); 0 when the host never sent one */
  heartbeatAt: number;
  /** no heartbeat for STALE_INTERVALS × the interval, or the daemon stopped */
  stale: boolean;
  /** the host's newest seq in the shared store */
  lastSeq: number;
  /** its sources as it last reported them */
  sources: SourceHealth[];
  /** its own status as it last reported it (ok, degraded, down) */
  status?: string;
  /** when its daemon stopped cleanly (it is not coming back by itself) */
  stoppedAt?: number;
}

export interface FleetHealth {
  hosts: FleetHost[];
}

export function toFleetHosts(
  rows: readonly HostRow[],
  dbNow: number,
  heartbeatMs = HEARTBEAT_MS,
): FleetHost[] {
  const staleAfter = STALE_INTERVALS * heartbeatMs;
  return rows.map((r) => {
    const heartbeatAt = r.heartbeat_at?.getTime() ?? 0;
    const stoppedAt = r.stopped_at?.getTime();
    // a stop older than the last start is a previous run's
    const stopped = stoppedAt !== undefined && stoppedAt >= (r.started_at?.getTime() ?? 0);
    return {
      host: r.host,
      ...(r.hostname ? { hostname: r.hostname } : {}),
      ...(r.pid != null ? { pid: r.pid } : {}),
      heartbeatAt,
      stale: stopped || heartbeatAt === 0 || dbNow - heartbeatAt > staleAfter,
      lastSeq: r.last_seq == null ? 0 : Number(r.last_seq),
      sources: Array.isArray(r.health?.sources) ? r.health.sources : [],
      ...(typeof r.health?.status === 'string' ? { status: r.health.status } : {}),
      ...(stopped ? { stoppedAt } : {}),
    };
  });
}

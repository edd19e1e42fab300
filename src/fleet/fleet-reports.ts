/**
 * What `clawpulse serve` reads straight from the shared store instead of its local mirror: the
 * usage aggregate every daemon folds (all hosts: `createPgUsageReader`) and every host's alerts
 * (the PostgreSQL alerts' fleet reader). The mirror holds only the events; rules run and usage is
 * folded in the daemons, so serve's /api/usage, /api/alerts (the badge's counts with it) and the
 * clawpulse_usage_* counters on /metrics come from here.
 *
 * Alerts are shown as the fleet view keys its sessions: an alert's `sessionKey` becomes
 * `<host>|<key>` (rekey.ts) so the Alerts view's link opens the session, and `session=<host>|<key>`
 * filters on that host's session.
 *
 * One synchronous connection (sync-pg, like the daemons' store), opened at first use and kept: a
 * database that is down when serve starts (or later) makes those routes answer 503 saying so;
 * the next request tries again. It writes nothing but the schema, as every reader does.
 */
import type { Alert } from '../alerts/alert.js';
import { scopedKey, splitScope } from '../model/session-scope.js';
import type { AlertFilter, AlertStore } from '../store/alert-store.js';
import type { EventStore } from '../store/event-store.js';
import { applyMigrations } from '../store/pg/migrations.js';
import { createPgAlerts } from '../store/pg/pg-alerts.js';
import { createPgUsageReader } from '../store/pg/pg-usage.js';
import { openSyncPg, type SyncPg } from '../store/pg/sync-pg.js';
import type { UsageStore } from '../store/usage-store.js';

export interface FleetReports {
  /** what the HTTP app's usage and alerts routes read */
  readonly store: Required<Pick<EventStore, 'usage' | 'alerts'>>;
  close(): void;
}

/** the rows' writer in the alerts table: a fleet reader records nothing under it */
const READER = 'clawpulse serve';

/** every host's alerts, each keyed as the fleet view keys its session; read only */
export function fleetAlerts(all: AlertStore): AlertStore {
  const readOnly = (what: string): never => {
    throw new Error(`alerts ${what}: each host's daemon keeps its own; the fleet view only lists them`);
  };
  const scoped = (a: Alert): Alert =>
    a.sessionKey !== undefined && a.host ? { ...a, sessionKey: scopedKey(a.host, a.sessionKey) } : a;
  return {
    record: () => readOnly('record'),
    resolve: () => readOnly('resolve'),
    prune: () => readOnly('prune'),
    // an id is unique per host only: the fleet lists, it does not look one up
    get: () => readOnly('get by id'),
    counts: () => all.counts(),
    list(filter: AlertFilter = {}) {
      if (filter.sessionKey === undefined) return all.list(filter).map(scoped);
      // `<host>|<key>`: that host's session (the same key may live on other hosts too)
      const { scope, rest } = splitScope(filter.sessionKey);
      if (scope === undefined) return [];
      return all
        .list({ ...filter, sessionKey: rest })
        .filter((a) => a.host === scope)
        .map(scoped);
    },
  };
}

export function openFleetReports(url: string): FleetReports {
  let pg: SyncPg | undefined;
  let usage: UsageStore | undefined;
  let alerts: AlertStore | undefined;
  let closed = false;
  const connection = (): SyncPg => {
    if (closed) throw new Error('the fleet reports are closed');
    if (!pg) {
      const c = openSyncPg(url, { applicationName: 'clawpulse serve (reports)' });
      try {
        // a database no daemon has written into yet: empty tables, not "relation does not exist"
        applyMigrations(c);
      } catch (err) {
        c.close();
        throw err;
      }
      pg = c;
    }
    return pg;
  };
  return {
    store: {
      usage: () => {
        const c = connection();
        usage ??= createPgUsageReader(c);
        return usage;
      },
      alerts: () => {
        const c = connection();
        alerts ??= fleetAlerts(createPgAlerts(c, READER, { allHosts: true }));
        return alerts;
      },
    },
    close() {
      closed = true;
      pg?.close();
      pg = undefined;
    },
  };
}

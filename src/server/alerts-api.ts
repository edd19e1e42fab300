/**
 * GET /api/alerts: the stored alerts, firing first (newest first), then resolved (most recently
 * resolved first), with the counts the dashboard's badge shows. Parameters: state=firing|resolved,
 * rule=<rule>, session=<key>, limit=1..1000 (100). A store that keeps no alerts lists none; one
 * that cannot be read answers 503 with the reason. `clawpulse serve` lists every host's alerts
 * (src/fleet/fleet-reports.ts), each with its `host`.
 */
import { Hono } from 'hono';
import { ALERT_RULES, type Alert, type AlertRule, type AlertState } from '../alerts/alert.js';
import { type AlertCounts, DEFAULT_ALERTS_LIST, MAX_ALERTS_LIST } from '../store/alert-store.js';
import type { EventStore } from '../store/event-store.js';
import { jsonError } from './errors.js';

export interface AlertsResponse {
  now: number;
  counts: AlertCounts;
  alerts: Alert[];
}

const STATES: readonly AlertState[] = ['firing', 'resolved'];

export function createAlertRoutes(deps: { store: Pick<EventStore, 'alerts'>; now: () => number }): Hono {
  const api = new Hono();
  api.get('/alerts', (c) => {
    const state = c.req.query('state');
    const rule = c.req.query('rule');
    const session = c.req.query('session');
    const limitRaw = c.req.query('limit');
    if (state !== undefined && !STATES.includes(state as AlertState))
      return jsonError(c, 400, 'bad_request', 'state must be firing or resolved');
    if (rule !== undefined && !ALERT_RULES.includes(rule as AlertRule))
      return jsonError(c, 400, 'bad_request', `rule must be one of ${ALERT_RULES.join(', ')}`);
    if (
      limitRaw !== undefined &&
      (!/^\d{1,5}$/.test(limitRaw) || Number(limitRaw) < 1 || Number(limitRaw) > MAX_ALERTS_LIST)
    )
      return jsonError(c, 400, 'bad_request', `limit must be 1..${MAX_ALERTS_LIST}`);
    let body: AlertsResponse;
    try {
      const store = typeof deps.store.alerts === 'function' ? deps.store.alerts() : undefined;
      body = store
        ? {
            now: deps.now(),
            counts: store.counts(),
            alerts: store.list({
              ...(state ? { state: state as AlertState } : {}),
              ...(rule ? { rule: rule as AlertRule } : {}),
              ...(session ? { sessionKey: session } : {}),
              limit: limitRaw ? Number(limitRaw) : DEFAULT_ALERTS_LIST,
            }),
          }
        : {
            now: deps.now(),
            counts: {
              firing: 0,
              resolved: 0,
              firingByRule: Object.fromEntries(ALERT_RULES.map((r) => [r, 0])) as Record<AlertRule, number>,
            },
            alerts: [],
          };
    } catch (err) {
      // a store that cannot be read now (the shared database down): say so, the next request retries
      return jsonError(c, 503, 'unavailable', `the alerts could not be read: ${(err as Error).message}`);
    }
    return c.json(body);
  });
  return api;
}

/**
 * Alerts in the dashboard: the header badge (how many fire now) and the Alerts view (firing
 * first, then resolved: rule, severity, the session as a link, value against threshold, when).
 * Both read GET /api/alerts, polled every few seconds (alerts change at the pace of the rules,
 * not of the event stream).
 */
import { useEffect, useState } from 'react';
import type { Alert } from '../../src/alerts/alert.js';
import { shortKey } from '../../src/render/format.js';
import type { AlertsResponse } from '../../src/server/alerts-api.js';
import { fmtCost, fmtDuration, fmtTime } from './format.js';
import './alerts.css';

const POLL_MS = 5000;
const LIST_LIMIT = 200;

/** the alerts as the API lists them, polled; undefined until the first answer */
export function useAlerts(url = `/api/alerts?limit=${LIST_LIMIT}`): AlertsResponse | undefined {
  const [body, setBody] = useState<AlertsResponse>();
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const r = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
        if (r.ok) {
          const b = (await r.json()) as AlertsResponse;
          if (!stopped && Array.isArray(b?.alerts)) setBody(b);
        }
      } catch {
        // the daemon is gone: the stream's chip says so
      }
      if (!stopped) timer = setTimeout(poll, POLL_MS);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [url]);
  return body;
}

/** the header badge: the count of firing alerts; opens and closes the Alerts view */
export function AlertsBadge({
  alerts,
  open,
  onToggle,
}: {
  alerts: AlertsResponse | undefined;
  open: boolean;
  onToggle: () => void;
}) {
  const firing = alerts?.counts.firing ?? 0;
  const critical = alerts?.alerts.some((a) => a.state === 'firing' && a.severity === 'critical') ?? false;
  return (
    <button
      type="button"
      className={`alerts-badge${firing ? (critical ? ' crit' : ' warn') : ''}${open ? ' on' : ''}`}
      data-testid="alerts-badge"
      data-firing={firing}
      aria-pressed={open}
      onClick={onToggle}
      title={
        firing
          ? `${firing} alert${firing === 1 ? '' : 's'} firing: show them`
          : 'no alert firing: show the alerts'
      }
    >
      <span aria-hidden="true">⚑</span> <b>{firing}</b> alert{firing === 1 ? '' : 's'}
    </button>
  );
}

function measured(a: Alert): string {
  if (a.value === undefined) return '';
  const money = a.unit === 'usd' || a.unit === 'usd/h';
  const fmt = (v: number) => (money ? fmtCost(v) : a.unit === 's' ? fmtDuration(v * 1000) : String(v));
  const per = a.unit === 'usd/h' ? '/h' : a.unit && !money && a.unit !== 's' ? ` ${a.unit}` : '';
  return a.threshold !== undefined
    ? `${fmt(a.value)}${per} of ${fmt(a.threshold)}${per}`
    : `${fmt(a.value)}${per}`;
}

function when(a: Alert, now: number): string {
  if (a.state === 'resolved' && a.resolvedAt !== undefined)
    return `resolved ${fmtTime(a.resolvedAt)} (after ${fmtDuration(a.resolvedAt - a.firedAt)})`;
  return `since ${fmtTime(a.firedAt)} (${fmtDuration(now - a.firedAt)})`;
}

function AlertRow({ a, now, onSelect }: { a: Alert; now: number; onSelect: (key: string) => void }) {
  const scope = a.sessionKey ?? a.label ?? (a.agentId ? `agent ${a.agentId}` : 'fleet');
  return (
    <li
      className={`alert-row al-${a.state} al-${a.severity}`}
      data-testid="alert-row"
      data-rule={a.rule}
      data-state={a.state}
    >
      <span className={`al-sev al-sev-${a.severity}`}>
        {a.state === 'resolved' ? 'resolved' : a.severity}
      </span>
      <span className="al-rule">{a.rule}</span>
      <span className="al-scope">
        {a.sessionKey ? (
          <button
            type="button"
            className="al-link"
            onClick={() => onSelect(a.sessionKey as string)}
            title={a.sessionKey}
          >
            {a.label ?? shortKey(a.sessionKey)}
          </button>
        ) : (
          scope
        )}
        {/* whose alert: in the fleet view (serve) every host's are listed */}
        {a.host && (
          <span className="muted small" data-testid="alert-host">
            {' '}
            · {a.host}
          </span>
        )}
      </span>
      <span className="al-value" data-testid="alert-value">
        {measured(a)}
      </span>
      <span className="al-when">{when(a, now)}</span>
      <span className="al-msg">
        {a.message}
        {a.action && <b className="al-action"> · {a.action}</b>}
      </span>
    </li>
  );
}

/** the Alerts view: firing alerts first (newest first), then resolved (most recent first) */
export function AlertsView({
  alerts,
  onSelect,
}: {
  alerts: AlertsResponse | undefined;
  onSelect: (key: string) => void;
}) {
  if (!alerts) return <p className="muted">loading alerts…</p>;
  const firing = alerts.alerts.filter((a) => a.state === 'firing');
  const resolved = alerts.alerts.filter((a) => a.state === 'resolved');
  return (
    <div className="alerts-view" data-testid="alerts-view">
      <h2 className="al-head">
        Alerts{' '}
        <span className="muted small">
          {alerts.counts.firing} firing · {alerts.counts.resolved} resolved
        </span>
      </h2>
      {firing.length === 0 && (
        <p className="muted" data-testid="alerts-none">
          No alert firing.
        </p>
      )}
      {firing.length > 0 && (
        <ul className="alert-list" aria-label="firing alerts">
          {firing.map((a) => (
            <AlertRow key={a.id} a={a} now={alerts.now} onSelect={onSelect} />
          ))}
        </ul>
      )}
      {resolved.length > 0 && (
        <>
          <h3 className="al-sub">Resolved</h3>
          <ul className="alert-list" aria-label="resolved alerts">
            {resolved.map((a) => (
              <AlertRow key={a.id} a={a} now={alerts.now} onSelect={onSelect} />
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

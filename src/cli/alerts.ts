/**
 * `clawpulse alerts [--json] [--all]`: the alerts firing now (with --all, the resolved ones too,
 * most recent first). From the running daemon's /api/alerts when one runs, else from the store
 * (saying so on stderr). `--json` prints the /api/alerts body as it is, plus `source`.
 */
import { existsSync } from 'node:fs';
import type { Alert } from '../alerts/alert.js';
import type { Config } from '../config/config.js';
import { displayStore } from '../config/store-env.js';
import { formatDuration } from '../model/format.js';
import type { AlertsResponse } from '../server/alerts-api.js';
import type { AlertStore } from '../store/alert-store.js';
import { openPgAlerts } from '../store/pg/pg-alerts.js';
import { openAlertsFile } from '../store/sqlite-alerts.js';
import { findDaemon, getJson } from './daemon-link.js';

const LIMIT = 1000;

export interface AlertsOptions {
  json?: boolean;
  all?: boolean;
}

/** the store's alerts over a connection of its own (no daemon running) */
export type AlertsOpener = (config: Readonly<Config>) => { alerts: AlertStore; close(): void } | undefined;

const openFromConfig: AlertsOpener = (config) => {
  const s = config.store;
  // the shared store: this host's alerts (CLAWPULSE_HOST)
  if (s.engine === 'postgres') return openPgAlerts(s.url, config.host);
  return existsSync(s.path) ? openAlertsFile(s.path) : undefined;
};

export async function listAlerts(
  config: Readonly<Config>,
  opts: AlertsOptions,
  now = Date.now(),
  open: AlertsOpener = openFromConfig,
): Promise<number> {
  const query = opts.all ? `?limit=${LIMIT}` : `?state=firing&limit=${LIMIT}`;
  const link = findDaemon(config);
  let body: AlertsResponse | undefined;
  let source: 'daemon' | 'store' = 'store';
  if (link?.url) {
    try {
      const r = await getJson<AlertsResponse>(link, config, `/api/alerts${query}`);
      if (r.status === 200) {
        body = r.body;
        source = 'daemon';
      } else
        process.stderr.write(`clawpulse: the running ${link.kind} answered ${r.status}; reading the store\n`);
    } catch (err) {
      process.stderr.write(
        `clawpulse: the running ${link.kind} (pid ${link.pid}) did not answer (${(err as Error).message}); reading the store\n`,
      );
    }
  }
  if (!body) {
    if (!link)
      process.stderr.write(`clawpulse: no daemon running: reading the store ${displayStore(config.store)}\n`);
    let opened: ReturnType<AlertsOpener>;
    try {
      opened = open(config);
    } catch (err) {
      process.stderr.write(
        `clawpulse: cannot read the alerts in ${displayStore(config.store)}: ${(err as Error).message}\n`,
      );
      return 1;
    }
    if (!opened) {
      if (opts.json) process.stdout.write(`${JSON.stringify({ source, now, counts: null, alerts: [] })}\n`);
      else process.stdout.write(`no store yet at ${displayStore(config.store)} (start clawpulse first)\n`);
      return 0;
    }
    try {
      const a = opened.alerts;
      body = {
        now,
        counts: a.counts(),
        alerts: a.list(opts.all ? { limit: LIMIT } : { state: 'firing', limit: LIMIT }),
      };
    } finally {
      opened.close();
    }
  }
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ source, ...body }, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(formatAlerts(body, Boolean(opts.all)));
  return 0;
}

/** the table a person reads: firing first, then resolved; one line each */
export function formatAlerts(body: AlertsResponse, all: boolean): string {
  const { alerts, counts, now } = body;
  if (!alerts.length) {
    return all
      ? 'no alerts stored\n'
      : `no alerts firing${counts.resolved ? ` (${counts.resolved} resolved: --all)` : ''}\n`;
  }
  const head = ['STATE', 'SEVERITY', 'RULE', 'SESSION', 'VALUE', 'SINCE', 'MESSAGE'];
  const rows = alerts.map((a) => [
    a.state.toUpperCase(),
    a.severity,
    a.rule,
    a.sessionKey ?? a.label ?? (a.agentId ? `agent ${a.agentId}` : 'fleet'),
    measured(a),
    a.state === 'firing'
      ? `${formatDuration(Math.max(0, now - a.firedAt))} ago`
      : `resolved ${formatDuration(Math.max(0, now - (a.resolvedAt ?? now)))} ago`,
    a.action ? `${a.message} [${a.action}]` : a.message,
  ]);
  const widths = head.map((h, i) =>
    i === head.length - 1 ? 0 : Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)),
  );
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const summary = `${counts.firing} firing${all ? `, ${counts.resolved} resolved` : ''}`;
  return `${[line(head), ...rows.map(line)].join('\n')}\n${summary}\n`;
}

function measured(a: Alert): string {
  if (a.value === undefined) return '';
  const money = a.unit === 'usd' || a.unit === 'usd/h';
  const fmt = (v: number) => (money ? `$${v.toFixed(2)}` : String(v));
  const unit = a.unit === 'usd/h' ? '/h' : a.unit && !money ? ` ${a.unit}` : '';
  return a.threshold !== undefined
    ? `${fmt(a.value)}${unit} / ${fmt(a.threshold)}${unit}`
    : `${fmt(a.value)}${unit}`;
}

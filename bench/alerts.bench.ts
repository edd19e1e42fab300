/**
 * Alerts benchmark (issue 19): what the alert engine costs ingest, and how soon an event's alert
 * is at the webhook.
 *
 *  - ingest: the recorded OpenClaw sessions (as the OTLP export bench uses them), copied into
 *    many sessions, into a pipeline with and without the alert engine (every rule on, session,
 *    daily and monthly budgets set low enough to fire, a recording destination), alternating,
 *    same run. CPU ms of the pipeline calls; the ratio is the figure.
 *  - latency: a run that fails (agent.finished outcome error), one every 250 ms (the webhook
 *    destination's own pace is 5 a second): event → alert delivered is from the `ingest` call to
 *    the webhook receiver on 127.0.0.1 having the request's body (HMAC-signed, as configured).
 *
 *   npm run bench -- alerts
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Alert, AlertDestination } from '../src/alerts/alert.js';
import { createAlertDestinations } from '../src/alerts/destinations/index.js';
import { createAlertEngine } from '../src/alerts/engine.js';
import { budgetRule } from '../src/alerts/rules/budget.js';
import { costVelocityRule } from '../src/alerts/rules/cost-velocity.js';
import { errorBurstRule } from '../src/alerts/rules/error-burst.js';
import { loopRule } from '../src/alerts/rules/loop.js';
import type { Rule } from '../src/alerts/rules/rule.js';
import { runFailedRule } from '../src/alerts/rules/run-failed.js';
import { stuckRule } from '../src/alerts/rules/stuck.js';
import { createSpendTracker } from '../src/alerts/spend.js';
import { loadConfig } from '../src/config/config.js';
import { systemClock } from '../src/infra/clock.js';
import { silentLogger } from '../src/infra/logger.js';
import type { PulseEvent } from '../src/model/events.js';
import type { Pipeline } from '../src/pipeline.js';
import { cleanUp, makePipeline, recordedEvents } from '../src/sinks/otlp/test-kit.js';
import { cpuMs } from './support.js';

/** copy `i` of the recorded events: every session, run and key its own, times moved to now */
function copy(events: readonly PulseEvent[], i: number, shift: number): PulseEvent[] {
  const k = (s: string) => `${s}#${i}`;
  return events.map((e) => {
    const c = {
      ...e,
      ts: e.ts + shift,
      sessionKey: k(e.sessionKey),
      dedupeKey: `${i}/${e.dedupeKey}`,
    } as PulseEvent & Record<string, unknown>;
    if ('runId' in c && typeof c.runId === 'string') c.runId = k(c.runId);
    if ('parentKey' in c && typeof c.parentKey === 'string') c.parentKey = k(c.parentKey);
    if ('childKey' in c && typeof c.childKey === 'string') c.childKey = k(c.childKey);
    return c;
  });
}

function allRules(p: Pipeline): Rule[] {
  const getSession = (k: string) => p.tracker.get(k);
  const spend = createSpendTracker(Date.now());
  p.subscribe((u) => spend.add(u.events));
  return [
    stuckRule(),
    runFailedRule({ maxEventAgeMs: 1e12, getSession }),
    errorBurstRule({ count: 10, windowMs: 300_000 }),
    costVelocityRule({ fleetUsdPerHour: 20, sessionUsdPerHour: 5, getSession }),
    loopRule({ repeat: 5, failStreak: 4, maxEventAgeMs: 1e12, getSession }),
    budgetRule({
      budgets: () => ({
        fleetDailyUsd: 50,
        fleetMonthlyUsd: 500,
        sessionUsd: 0.5,
        agentDailyUsd: { '*': 20 },
        labelUsd: {},
        warnPercent: 80,
        action: 'none',
      }),
      spend,
      getSession,
      allSessions: () => p.tracker.all(),
    }),
  ];
}

async function ingestCost(copies: number, batch: number) {
  const recorded = recordedEvents();
  const span = Math.max(...recorded.map((e) => e.ts)) - Math.min(...recorded.map((e) => e.ts));
  const shift = Date.now() - Math.max(...recorded.map((e) => e.ts));
  const sets = Array.from({ length: copies }, (_, i) => copy(recorded, i, shift));
  const events = sets.flat();
  const runOnce = (withAlerts: boolean) => {
    const p = makePipeline(systemClock);
    let alerts = 0;
    if (withAlerts) {
      const dest: AlertDestination = {
        name: 'count',
        send: async () => {
          alerts++;
        },
        health: () => ({ id: 'count', kind: 'count', breaker: 'closed', requests: 0, failures: 0 }),
      };
      const engine = createAlertEngine({
        rules: allRules(p),
        store: (p.store as { alerts?: () => import('../src/store/alert-store.js').AlertStore }).alerts?.(),
        destinations: () => [dest],
        clock: systemClock,
        logger: silentLogger,
      });
      p.subscribe((u) => engine.update(u));
    }
    const t0 = cpuMs();
    for (let i = 0; i < events.length; i += batch) p.ingest(events.slice(i, i + batch));
    return { ms: cpuMs() - t0, alerts };
  };
  // alternate, best of 3 each: the machine is shared
  const without: number[] = [];
  const withA: number[] = [];
  let fired = 0;
  for (let r = 0; r < 3; r++) {
    without.push(runOnce(false).ms);
    const w = runOnce(true);
    withA.push(w.ms);
    fired = w.alerts;
  }
  const best = (xs: number[]) => Math.min(...xs);
  return {
    events: events.length,
    recordingSpanS: Math.round(span / 1000),
    alertsFired: fired,
    ingestMs: best(without),
    ingestWithAlertsMs: best(withA),
    ratio: best(withA) / best(without),
  };
}

async function latency(samples: number) {
  const arrivals = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const a = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Partial<Alert>;
        if (a.sessionKey && a.state === 'firing') arrivals.set(a.sessionKey, performance.now());
      } catch {
        // not ours
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const config = loadConfig({
    ALERT_WEBHOOK_URL: url,
    ALERT_WEBHOOK_SECRET: 'bench-secret',
    LOG_LEVEL: 'silent',
  });
  const destinations = createAlertDestinations(
    { alertDestinations: config.alertDestinations, mattermost: config.mattermost },
    { clock: systemClock, logger: silentLogger },
  );
  const p = makePipeline(systemClock);
  const engine = createAlertEngine({
    rules: [runFailedRule({ maxEventAgeMs: 900_000, getSession: (k) => p.tracker.get(k) })],
    destinations: () => destinations,
    clock: systemClock,
    logger: silentLogger,
  });
  p.subscribe((u) => engine.update(u));
  const sent = new Map<string, number>();
  for (let i = 0; i < samples; i++) {
    const key = `agent:main:bench-${i}`;
    const ts = Date.now();
    const base = { source: 'demo', agentId: 'main', sessionKey: key, runId: `r${i}` } as const;
    p.ingest([{ ...base, type: 'agent.started', ts, dedupeKey: `s${i}` } as PulseEvent]);
    sent.set(key, performance.now());
    p.ingest([
      {
        ...base,
        type: 'agent.finished',
        ts,
        outcome: 'error',
        error: '529',
        dedupeKey: `f${i}`,
      } as PulseEvent,
    ]);
    await new Promise((r) => setTimeout(r, 250));
  }
  const t0 = Date.now();
  while (arrivals.size < samples && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 20));
  const ms = [...sent].map(([k, at]) => (arrivals.get(k) ?? Number.NaN) - at).filter(Number.isFinite);
  ms.sort((a, b) => a - b);
  const q = (f: number) => ms[Math.min(ms.length - 1, Math.floor(f * ms.length))] ?? Number.NaN;
  for (const d of destinations) await d.stop?.();
  await new Promise((r) => server.close(() => r(undefined)));
  return { samples, delivered: ms.length, p50Ms: q(0.5), p99Ms: q(0.99), maxMs: ms.at(-1) ?? Number.NaN };
}

export async function run(): Promise<Record<string, unknown>> {
  try {
    const cost = await ingestCost(Number(process.argv[4] ?? 200), 200);
    const lat = await latency(Number(process.argv[5] ?? 100));
    return {
      'ingest: events': cost.events,
      'ingest: alerts fired (with the engine)': cost.alertsFired,
      'ingest: CPU ms without alerts': cost.ingestMs,
      'ingest: CPU ms with every rule + budgets': cost.ingestWithAlertsMs,
      'ingest: with / without': cost.ratio,
      'event → alert at webhook: samples delivered': lat.delivered,
      'event → alert at webhook: p50 ms': lat.p50Ms,
      'event → alert at webhook: p99 ms': lat.p99Ms,
      'event → alert at webhook: max ms': lat.maxMs,
    };
  } finally {
    cleanUp();
  }
}

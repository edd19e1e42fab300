/**
 * `clawpulse serve`'s parts: the dashboard, API and SSE of every host writing into a shared
 * PostgreSQL store, with no OpenClaw source of its own.
 *
 *   PostgreSQL ─(LISTEN + seq reads per host)─► fleet source ─► pipeline (local store + tracker)
 *              ─► HTTP (the daemon's app: API, SSE, dashboard)          clawpulse_hosts ─► /health fleet
 *
 * The serve keeps its own EventStore, a local SQLite mirror of what it read (a cache file, or
 * :memory:): the server, SSE resume by seq and the dashboard work on it unchanged, and the
 * per-host offsets saved with the events let a restart read only what is new. Mattermost stays
 * with the daemon that follows a session (one writer per box); steer and abort too (409 here).
 * Alert rules run and usage is folded in the daemons too: serve's /api/usage, /api/alerts (and
 * the badge's counts) and the clawpulse_usage_* counters on /metrics read the shared store's
 * (every host's: fleet-reports.ts), not the mirror.
 */
import type { Config } from '../config/config.js';
import { metricsFrom, modelHealth } from '../daemon/health.js';
import { defaultUiDir } from '../daemon/outputs.js';
import { ActionError, type SessionActions } from '../dispatch/session-actions.js';
import { type Clock, systemClock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import { createSessionTracker, type SessionTracker } from '../model/tracker.js';
import { createPipeline, type Pipeline, restoreModel } from '../pipeline.js';
import { buildHealthReport, type HealthReport } from '../server/health.js';
import { createHttpApp, type RunningHttpServer, startHttpServer } from '../server/http-app.js';
import type { EventStore } from '../store/event-store.js';
import { createGuardedStore } from '../store/store-guard.js';
import { VERSION } from '../version.js';
import { type FleetHealth, HEARTBEAT_MS, toFleetHosts } from './fleet-hosts.js';
import { openFleetReports } from './fleet-reports.js';
import { createFleetSource, type FleetSource } from './fleet-source.js';

export interface FleetServeOptions {
  /** the shared store (postgres://…) */
  url: string;
  /** the local mirror: a SQLite file, or ':memory:' (a restart reads everything again) */
  cachePath: string;
  logger: Logger;
  clock?: Clock;
  uiDir?: string;
  tickMs?: number;
  pollMs?: number;
  /** the daemons' heartbeat interval, for staleness (5 s) */
  heartbeatMs?: number;
}

export interface FleetServeHealth extends HealthReport {
  pipeline: ReturnType<Pipeline['stats']> & { droppedByArbiter: number };
  model: ReturnType<typeof modelHealth>;
  fleet: FleetHealth;
}

export interface FleetServe {
  readonly port: number;
  readonly pipeline: Pipeline;
  readonly store: EventStore;
  readonly source: FleetSource;
  health(): FleetServeHealth;
  stop(reason?: string): Promise<void>;
}

/** steer/abort act through the gateway of the host that follows the session: not from here */
export function fleetActions(tracker: SessionTracker): SessionActions {
  const refuse = (key: string): never => {
    const host = tracker.get(key)?.host;
    if (!host) throw new ActionError(`no such session: ${key}`, 404);
    throw new ActionError(`followed by host ${host}: act there (its clawpulse or dispatch)`, 409);
  };
  return {
    steer: async (key) => refuse(key),
    abort: async (key) => refuse(key),
  };
}

export async function startFleetServe(
  config: Readonly<Config>,
  opts: FleetServeOptions,
): Promise<FleetServe> {
  const { logger } = opts;
  const clock = opts.clock ?? systemClock;
  const heartbeatMs = opts.heartbeatMs ?? HEARTBEAT_MS;
  const store = createGuardedStore(opts.cachePath, {
    logger: logger.child({ part: 'store' }),
    now: () => clock.now(),
  });
  // finished, quiet sessions are kept as briefs; their whole state is read back from the mirror
  const tracker = createSessionTracker(config.model, { load: (key) => store.loadSnapshot(key) });
  store.setLiveModel(() => tracker.all());
  restoreModel(store, tracker, logger);
  const pipeline = createPipeline({
    store,
    tracker,
    logger: logger.child({ part: 'pipeline' }),
    now: () => clock.now(),
  });
  const source = createFleetSource({
    url: opts.url,
    sink: pipeline,
    offsets: store,
    logger,
    clock,
    pollMs: opts.pollMs,
  });

  const startedAt = clock.now();
  const fleet = (): FleetHealth => {
    const h = source.hostRows();
    if (!h) return { hosts: [] };
    // the hosts table is re-read every 5 s; the events serve has read since are newer than its
    // last_seq, so the fresher of the two is the host's newest seq we know of
    const read = source.offsets();
    return {
      hosts: toFleetHosts(h.rows, h.dbNow, heartbeatMs).map((f) => ({
        ...f,
        lastSeq: Math.max(f.lastSeq, read.get(f.host) ?? 0),
      })),
    };
  };
  const health = (): FleetServeHealth => {
    const report = buildHealthReport({
      startedAt,
      now: clock.now(),
      version: VERSION,
      sources: [source.health()],
      sinks: [],
      store,
      tracker,
    });
    const f = fleet();
    const pipe = { ...pipeline.stats(), droppedByArbiter: 0 };
    // a host whose daemon went quiet without stopping is a hole in the view
    const quiet = f.hosts.some((h) => h.stale && h.stoppedAt === undefined);
    const status = report.status === 'ok' && (quiet || pipe.storeError) ? 'degraded' : report.status;
    return { ...report, status, pipeline: pipe, model: modelHealth(tracker), fleet: f };
  };

  // opened at the first request (a database down at start does not stop serve)
  const reports = openFleetReports(opts.url);
  const { app, sse } = createHttpApp({
    pipeline,
    store,
    reports: reports.store,
    config: config.http,
    logger,
    health,
    metrics: () => metricsFrom(health()),
    actions: fleetActions(tracker),
    modelLimits: config.model,
    uiDir: opts.uiDir ?? defaultUiDir(),
    clock,
  });
  let http: RunningHttpServer | undefined;
  if (!config.http.disabled)
    http = await startHttpServer(app, { host: config.http.host, port: config.http.port });

  await source.start();

  const tickMs = opts.tickMs ?? 1000;
  let tickTimer: unknown;
  const scheduleTick = () => {
    tickTimer = clock.setTimeout(() => {
      try {
        pipeline.tick(clock.now());
      } catch (err) {
        logger.error({ err }, 'tick failed');
      }
      scheduleTick();
    }, tickMs);
  };
  scheduleTick();

  let stopping: Promise<void> | undefined;
  return {
    port: http?.port ?? 0,
    pipeline,
    store,
    source,
    health,
    stop(reason = 'stop') {
      stopping ??= (async () => {
        logger.info({ reason }, 'clawpulse serve shutting down');
        clock.clearTimeout(tickTimer);
        sse.closeAll();
        await source.stop();
        pipeline.flushSnapshots();
        sse.dispose();
        await http?.close();
        reports.close();
        store.close();
      })();
      return stopping;
    },
  };
}

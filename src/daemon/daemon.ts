/**
 * The daemon: the only place that constructs and wires the parts.
 *
 *   sources ─► arbiter ─► pipeline (store + tracker) ─► sinks, HTTP (API, SSE, dashboard), OTLP in
 *
 * Shutdown order (DESIGN.md): stop accepting → end SSE streams → stop sources and save offsets
 * → flush sinks (mark open boxes interrupted) → close HTTP → close the store.
 *
 * Tests and the e2e/bench harnesses start it in-process with `startDaemon(config, { logger })`,
 * or as a process with `node --import tsx src/cli/main.ts start` (env vars as config).
 */
import type { Config } from '../config/config.js';
import { redactConfig } from '../config/config.js';
import { startHostHeartbeat } from '../fleet/host-heartbeat.js';
import { routeSessionActions } from '../gateway/routed-actions.js';
import { type Clock, systemClock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { Source, SourceHealth } from '../ingest/source.js';
import { createSessionTracker } from '../model/tracker.js';
import { createPipeline, type Pipeline, restoreModel } from '../pipeline.js';
import type { EventStore } from '../store/event-store.js';
import { openStore, storeName } from '../store/open-store.js';
import { createDaemonUsage } from '../usage/daemon-usage.js';
import { VERSION } from '../version.js';
import { createDaemonAlerts } from './alerts.js';
import { createDaemonDispatch, type DaemonDispatch } from './dispatch.js';
import { buildHealth, type DaemonHealth } from './health.js';
import { createDaemonMonitor } from './monitor.js';
import { createDaemonOtlp } from './otlp.js';
import { createOutputs, type Outputs } from './outputs.js';
import { createArbitratedSources, namedGatewayLinks } from './sources.js';

/** a source that can stop reading while the store does not keep up (files, sqlite) */
interface Pausable {
  pause(): void;
  resume(): void;
}

export interface DaemonOptions {
  logger: Logger;
  clock?: Clock;
  /** folder of the built dashboard (ui/dist); found next to the package when omitted */
  uiDir?: string;
  /** how often the model is told the time (idle → done, stuck) */
  tickMs?: number;
}

export interface Daemon {
  readonly pipeline: Pipeline;
  readonly store: EventStore;
  readonly sources: readonly Source[];
  /** the HTTP port actually bound (HEALTH_PORT=any picks a free one; 0 when HEALTH_PORT=0 turned HTTP off) */
  readonly port: number;
  health(): DaemonHealth;
  stop(reason?: string): Promise<void>;
}

export async function startDaemon(config: Readonly<Config>, opts: DaemonOptions): Promise<Daemon> {
  const { logger } = opts;
  const clock = opts.clock ?? systemClock;
  logger.info(`clawpulse ${VERSION} starting`);
  // the whole configuration (secrets redacted) only at debug: at info it buried the first lines
  logger.debug({ config: redactConfig(config as Config) }, 'configuration');

  // SQLite: watched (a deleted, replaced or read-only store file is reported, a deleted one written
  // again); PostgreSQL: this host's writer (a second daemon with the same CLAWPULSE_HOST is refused)
  const store = openStore(config, {
    role: 'daemon',
    logger: logger.child({ part: 'store' }),
    now: () => clock.now(),
  });
  // finished, quiet sessions are kept as briefs; their whole state is read back from the store
  const tracker = createSessionTracker(config.model, { load: (key) => store.loadSnapshot(key) });
  // a store written again without its history is seeded with the live model
  store.setLiveModel?.(() => tracker.all());
  const replayed = restoreModel(store, tracker, logger);
  if (replayed) logger.info({ replayed }, 'replayed the events stored after the last snapshot');
  const pipeline = createPipeline({
    store,
    tracker,
    logger: logger.child({ part: 'pipeline' }),
    now: () => clock.now(),
    // usage reports and cost when the source has none (src/usage)
    ...createDaemonUsage(config, store, logger.child({ part: 'usage' })),
  });

  // OTLP export of sessions (traces, metrics, logs); the agent metrics on /metrics
  const otlp = createDaemonOtlp(config, { pipeline, logger, clock });
  // alert rules, budgets and their guard, alert destinations (src/daemon/alerts.ts)
  const alerts = createDaemonAlerts(config, { pipeline, store, logger, clock, actions: () => actions });
  // one gateway connection for the gateway source and dispatch
  const dispatch: DaemonDispatch = createDaemonDispatch(config, {
    pipeline,
    store,
    logger,
    clock,
    lifecycle: alerts.lifecycle(otlp.emitter),
  });
  const { sources, arbiter } = createArbitratedSources(config, {
    sink: pipeline,
    offsets: store,
    logger,
    clock,
    gatewayConnection: dispatch.connection,
  });
  // steer/abort reach each session's own gateway: OPENCLAW_GATEWAYS by scope, plain keys dispatch's
  const actions = routeSessionActions({
    local: dispatch.actions,
    gateways: namedGatewayLinks(sources),
    session: (key) => pipeline.tracker.get(key),
    logger,
  });
  // while the store does not take events (disk full, read-only) the sources that can pause do:
  // their offsets say where to resume. The gateway and OTLP cannot; the pipeline holds theirs
  pipeline.onFlow((accepting) => {
    for (const s of sources) {
      const p = s as Partial<Pausable>;
      if (accepting) p.resume?.();
      else p.pause?.();
    }
  });

  const startedAt = clock.now();
  let outputs: Outputs | undefined;
  const health = (): DaemonHealth =>
    buildHealth({
      sources,
      pipeline,
      store,
      outputs,
      arbiter,
      dispatch: alerts.withDispatch(otlp.withDispatch(dispatch)),
      startedAt,
      now: clock.now(),
    });
  outputs = await createOutputs(config, {
    pipeline,
    store,
    logger,
    clock,
    health,
    arbiter,
    dispatch: { ...alerts.withDispatch(otlp.withDispatch(dispatch)), actions },
    uiDir: opts.uiDir,
  });

  for (const s of sources) {
    try {
      await s.start();
    } catch (err) {
      // a source that cannot start (missing dir, bad token) is reported in /health, never fatal
      logger.error({ err, source: s.id }, 'source failed to start');
    }
  }
  dispatch.start();
  // uploads to the agent-monitor platform when configured (src/daemon/monitor.ts)
  const monitor = createDaemonMonitor(config, {
    logger,
    clock,
    tracker: pipeline.tracker,
    gateway: dispatch.connection,
  });
  monitor.start();
  alerts.start();
  // on a shared store: this host's heartbeat and health for `clawpulse serve` (src/fleet)
  const heartbeat =
    config.store.engine === 'postgres'
      ? startHostHeartbeat({ url: config.store.url, host: config.host, health, logger, clock })
      : undefined;

  const tickMs = opts.tickMs ?? 1000;
  let tickTimer: unknown;
  const scheduleTick = () => {
    tickTimer = clock.setTimeout(() => {
      try {
        pipeline.tick(clock.now());
        dispatch.tick(clock.now());
        otlp.tick(clock.now());
        alerts.tick(clock.now());
      } catch (err) {
        logger.error({ err }, 'tick failed');
      }
      scheduleTick();
    }, tickMs);
  };
  scheduleTick();

  logger.info(
    { sources: sources.map((s) => `${s.id}:${s.health().state}`), db: storeName(config) },
    config.http.disabled
      ? 'clawpulse running without HTTP (HEALTH_PORT=0)'
      : `clawpulse running: dashboard http://${config.http.host}:${outputs.port}/`,
  );

  let stopping: Promise<void> | undefined;
  async function stop(reason = 'stop'): Promise<void> {
    stopping ??= (async () => {
      logger.info({ reason }, 'clawpulse shutting down');
      clock.clearTimeout(tickTimer);
      await outputs?.stopAccepting();
      for (const s of sources) {
        try {
          await s.stop();
        } catch (err) {
          logger.error({ err, source: s.id }, 'source failed to stop cleanly');
        }
      }
      pipeline.interruptAll(clock.now(), `clawpulse stopped (${reason})`);
      await monitor.stop();
      await heartbeat?.stop();
      await dispatch.stop();
      await alerts.stop();
      // after interruptAll: the sessions' last states and open spans go out
      await otlp.stop();
      await outputs?.flushAndClose();
      pipeline.flushSnapshots();
      store.close();
      logger.info('clawpulse stopped');
    })();
    return stopping;
  }

  return {
    pipeline,
    store,
    sources,
    port: outputs.port,
    health,
    stop,
  };
}

export type { SourceHealth };

/**
 * Dispatch in the daemon: the gateway connection it shares with the gateway source, the
 * lifecycle outputs (Loki, webhook), and the service that follows labels. Kept apart from
 * daemon.ts so the wiring there stays a list of parts.
 */
import type { Config } from '../config/config.js';
import type { GatewayCaller } from '../dispatch/gateway-ops.js';
import type { LifecycleEmitter } from '../dispatch/lifecycle.js';
import { createDispatchService, type DispatchService, type DispatchStats } from '../dispatch/service.js';
import type { SessionActions } from '../dispatch/session-actions.js';
import { createGatewayConnection, type GatewayConnection } from '../gateway/connection.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { Pipeline } from '../pipeline.js';
import type { SinkHealth } from '../server/health.js';
import { createLifecycleSinks } from '../sinks/lifecycle-sinks.js';
import type { EventStore } from '../store/event-store.js';
import { selectedSources } from './sources.js';

export interface DaemonDispatch {
  readonly connection: GatewayConnection;
  readonly actions: SessionActions;
  start(): void;
  tick(now: number): void;
  /** stops following, waits (bounded) for steps under way, flushes the lifecycle outputs */
  stop(): Promise<void>;
  stats(): DispatchStats & { gateway: string };
  /** the lifecycle outputs' /health rows */
  sinks(): SinkHealth[];
  /** the lifecycle outputs' Prometheus lines */
  metrics(): string;
}

/** "following files and the SQLite store": what the daemon still reads while no gateway answers */
export function whileNoGateway(config: Readonly<Config>): string {
  const selected = selectedSources(config.sources.mode);
  const others = (['files', 'sqlite'] as const)
    .filter((s) => selected.includes(s))
    .map((s) => (s === 'files' ? 'files' : 'the SQLite store'));
  return others.length ? `following ${others.join(' and ')}` : 'no other source configured (SOURCES)';
}

export function createDaemonDispatch(
  config: Readonly<Config>,
  deps: {
    pipeline: Pipeline;
    store: EventStore;
    logger: Logger;
    clock: Clock;
    /** another output of the lifecycle events (the OTLP logs) */
    lifecycle?: LifecycleEmitter;
  },
): DaemonDispatch {
  const { logger, clock } = deps;
  const connection = createGatewayConnection({
    url: config.sources.gatewayUrl,
    token: config.sources.gatewayToken,
    stateDir: config.sources.stateDir,
    logger,
    clock,
    name: 'gateway',
    whileDown: whileNoGateway(config),
  });
  // without the gateway source (SOURCES=files,…) the connection starts on dispatch's first call
  const gateway: GatewayCaller = {
    request: (method, params, opts) => {
      if (connection.status().state === 'stopped') connection.start();
      return connection.request(method, params, opts);
    },
    hasMethod: (m) => connection.hasMethod(m),
  };
  const d = config.dispatch;
  const lifecycle = createLifecycleSinks(
    {
      lokiUrl: d.lokiUrl,
      lokiTenant: d.lokiTenant,
      lokiUsername: d.lokiUsername,
      lokiPassword: d.lokiPassword,
      webhookUrl: d.webhookUrl,
      webhookSecret: d.webhookSecret,
      host: d.host,
      breakerThreshold: config.mattermost.breakerThreshold,
      breakerCooldownMs: config.mattermost.breakerCooldownMs,
    },
    { clock, logger: logger.child({ part: 'lifecycle' }) },
  );
  const service: DispatchService = createDispatchService({
    ledger: deps.store.ledger(),
    gateway,
    pipeline: deps.pipeline,
    emitter: deps.lifecycle ? fanOut(lifecycle.emitter, deps.lifecycle) : lifecycle.emitter,
    logger,
    clock,
    host: d.host,
    verifyTimeoutMs: d.verifyTimeoutMs,
    retryBackoffMs: d.retryBackoffMs,
  });
  return {
    connection,
    actions: service.actions,
    start: () => {
      try {
        service.start();
      } catch (err) {
        logger.error({ err }, 'dispatch could not start; labels are not followed');
      }
    },
    tick: (now) => service.tick(now),
    async stop() {
      service.stop();
      await Promise.race([service.idle(), new Promise((r) => setTimeout(r, 5000).unref())]);
      await lifecycle.stop().catch((err) => logger.warn({ err }, 'lifecycle outputs did not flush'));
      await connection.stop().catch(() => {});
    },
    stats: () => ({ ...service.stats(), gateway: connection.status().state }),
    sinks: () => lifecycle.health(),
    metrics: () => lifecycle.metrics(),
  };
}

/** one emit to several outputs; each is called apart, so one that throws costs the others nothing */
function fanOut(...emitters: LifecycleEmitter[]): LifecycleEmitter {
  return {
    emit(e) {
      for (const x of emitters) {
        try {
          x.emit(e);
        } catch {
          // emitters never throw by contract; a broken one must not stop the rest
        }
      }
    },
  };
}

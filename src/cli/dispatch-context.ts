/**
 * Sets up a dispatch command's context in a CLI process: the ledger in the store (its own
 * connection: the SQLite file, or this host's ledger in the shared PostgreSQL store), the gateway
 * connected on first use (one try, no reconnect loop), the running
 * daemon's model when there is one (else the store's), and lifecycle sinks for the events a
 * command sends when no daemon does. `close()` ends all of it; sinks get a short flush.
 */
import pino from 'pino';
import type { Config } from '../config/config.js';
import type { DispatchContext } from '../dispatch/context.js';
import type { GatewayCaller } from '../dispatch/gateway-ops.js';
import { daemonView, storeView } from '../dispatch/live.js';
import { createGatewayConnection, type GatewayConnection } from '../gateway/connection.js';
import { systemClock } from '../infra/clock.js';
import { readLivePid } from '../infra/pidfile.js';
import { createLifecycleSinks } from '../sinks/lifecycle-sinks.js';
import type { EventStore } from '../store/event-store.js';
import { openLedger, openStore } from '../store/open-store.js';
import { hostForUrl } from './start.js';

export interface CliDispatch {
  ctx: DispatchContext;
  close(): Promise<void>;
}

/** whether a daemon runs and answers: its base URL, or undefined */
export async function runningDaemon(config: Readonly<Config>): Promise<string | undefined> {
  if (!readLivePid(config.pidFile)) return undefined;
  const base = `http://${hostForUrl(config.http.host)}:${config.http.port}`;
  try {
    const res = await fetch(`${base}/health`, {
      headers: config.http.dashboardToken ? { authorization: `Bearer ${config.http.dashboardToken}` } : {},
      signal: AbortSignal.timeout(3000),
    });
    return res.status === 200 || res.status === 503 ? base : undefined;
  } catch {
    return undefined;
  }
}

export async function openCliDispatch(config: Readonly<Config>): Promise<CliDispatch> {
  const { ledger, close: closeLedger } = openLedger(config);
  const daemon = await runningDaemon(config);
  const logger = pino({ level: process.env.LOG_LEVEL === 'debug' ? 'debug' : 'silent' });

  let store: EventStore | undefined;
  const getStore = () => {
    store ??= openStore(config, { role: 'cli' });
    return store;
  };
  const fromStore = storeView(
    {
      loadSnapshot: (k) => getStore().loadSnapshot(k),
      snapshotSeq: () => getStore().snapshotSeq(),
      readSession: (k, l) => getStore().readSession(k, l),
    },
    config.model,
  );
  const live = daemon ? daemonView(daemon, config.http.dashboardToken, fromStore) : fromStore;

  let conn: GatewayConnection | undefined;
  let connecting: Promise<GatewayCaller> | undefined;
  const gateway = (): Promise<GatewayCaller> => {
    connecting ??= (async () => {
      conn = createGatewayConnection({
        url: config.sources.gatewayUrl,
        token: config.sources.gatewayToken,
        stateDir: config.sources.stateDir,
        logger,
        reconnect: false,
        name: 'dispatch',
      });
      conn.start();
      try {
        await conn.ready(15_000);
      } catch (err) {
        throw new Error(
          `cannot reach the OpenClaw gateway at ${config.sources.gatewayUrl}: ${(err as Error).message}`,
        );
      }
      return conn;
    })();
    return connecting;
  };

  const sinks = daemon
    ? undefined
    : createLifecycleSinks(
        {
          lokiUrl: config.dispatch.lokiUrl,
          lokiTenant: config.dispatch.lokiTenant,
          lokiUsername: config.dispatch.lokiUsername,
          lokiPassword: config.dispatch.lokiPassword,
          webhookUrl: config.dispatch.webhookUrl,
          webhookSecret: config.dispatch.webhookSecret,
          host: config.dispatch.host,
          stopTimeoutMs: 3000,
        },
        { clock: systemClock, logger },
      );

  const ctx: DispatchContext = {
    ledger,
    gateway,
    live,
    daemonRunning: Boolean(daemon),
    now: () => Date.now(),
    host: config.dispatch.host,
    emitter: sinks?.emitter ?? { emit: () => {} },
    minRuntimeMs: config.dispatch.minRuntimeMs,
    retryBackoffMs: config.dispatch.retryBackoffMs,
  };
  return {
    ctx,
    async close() {
      await sinks?.stop().catch(() => {});
      await conn?.stop().catch(() => {});
      store?.close();
      closeLedger();
    },
  };
}

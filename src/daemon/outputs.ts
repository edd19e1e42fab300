/**
 * The daemon's outputs: the HTTP server (health, metrics, API, SSE, dashboard, OTLP receiver)
 * and the Mattermost status boxes. Mattermost is optional: without MM_URL/MM_TOKEN, or with a
 * bad token, the daemon runs on and /health says why.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/config.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { SourceArbiter } from '../ingest/arbiter.js';
import { createOtlpReceiver } from '../ingest/otlp/otlp-app.js';
import type { SourceHealth } from '../ingest/source.js';
import type { Pipeline } from '../pipeline.js';
import { loadToolLabels } from '../render/tool-labels.js';
import type { SinkHealth } from '../server/health.js';
import { createHttpApp, startHttpServer } from '../server/http-app.js';
import { createMattermostSink } from '../sinks/mattermost/sink.js';
import type { EventStore } from '../store/event-store.js';
import type { DaemonDispatch } from './dispatch.js';
import type { DaemonHealth } from './health.js';
import { metricsFrom } from './health.js';

export interface Outputs {
  port: number;
  sinks(): SinkHealth[];
  /** the OTLP receiver, reported beside the sources */
  receivers(): SourceHealth[];
  /** ends SSE streams (browsers reconnect to the next daemon) */
  stopAccepting(): Promise<void>;
  /** delivers final states (boxes marked interrupted), then closes HTTP */
  flushAndClose(): Promise<void>;
}

/** ui/dist next to the package, from src/ (tsx) or dist/ (built) */
export function defaultUiDir(): string | undefined {
  for (const rel of ['../ui/dist', '../../ui/dist']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}/index.html`)) return dir;
  }
  return undefined;
}

export async function createOutputs(
  config: Readonly<Config>,
  deps: {
    pipeline: Pipeline;
    store: EventStore;
    logger: Logger;
    clock: Clock;
    health: () => DaemonHealth;
    arbiter: SourceArbiter;
    /** dispatch's Steer/Abort actions and its lifecycle metrics */
    dispatch?: Pick<DaemonDispatch, 'actions' | 'metrics'>;
    uiDir?: string;
  },
): Promise<Outputs> {
  const { pipeline, store, logger, clock } = deps;
  const toolLabels = loadToolLabels(config.model.toolLabelsFile);

  const mattermost =
    config.mattermost.url && config.mattermost.token
      ? createMattermostSink({
          config: config.mattermost,
          pipeline,
          store,
          logger: logger.child({ sink: 'mattermost' }),
          clock,
          toolLabels,
          modelLimits: config.model,
        })
      : undefined;
  if (!mattermost)
    logger.info('Mattermost not configured (MM_URL / MM_TOKEN): status boxes off, dashboard and terminal on');

  const otlp = createOtlpReceiver({
    sink: deps.arbiter.sinkFor('otlp'),
    logger,
    token: config.http.otlpToken,
    maxBodyBytes: config.http.otlpMaxBodyBytes,
    clock,
  });

  const sinks = (): SinkHealth[] => {
    if (!mattermost) return [];
    const h = mattermost.health();
    return [
      {
        id: 'mattermost',
        kind: 'mattermost',
        breaker: h.breaker?.state ?? 'closed',
        requests: h.requests,
        failures: h.failures,
        queued: h.boxes.waiting,
        // the last failure (a 429 too) and when, kept after recovery; detail.reason is what is wrong now
        ...(h.lastError !== undefined ? { lastError: h.lastError, lastErrorAt: h.lastErrorAt } : {}),
        ...(h.lastSuccessAt !== undefined ? { lastSuccessAt: h.lastSuccessAt } : {}),
        detail: {
          state: h.state,
          ...(h.reason ? { reason: h.reason } : {}),
          mode: h.mode,
          modeReason: h.modeReason,
          boxes: h.boxes,
          rateLimited: h.rateLimited,
          late: h.late,
          url: h.url,
        },
      },
    ];
  };
  const { app, sse } = createHttpApp({
    pipeline,
    store,
    config: config.http,
    logger,
    health: deps.health,
    metrics: () => metricsFrom(deps.health(), deps.dispatch?.metrics),
    actions: deps.dispatch?.actions,
    extraApps: [otlp.app],
    modelLimits: config.model,
    uiDir: deps.uiDir ?? defaultUiDir(),
    clock,
  });
  // HEALTH_PORT=0: no HTTP server at all (the original Live Status's switch); the app still
  // exists so the SSE hub's listener is uniform, it just never listens
  const http = config.http.disabled
    ? undefined
    : await startHttpServer(app, { host: config.http.host, port: config.http.port });
  if (!http) logger.info('HTTP server off (HEALTH_PORT=0): no dashboard, API, /health or OTLP receiver');

  if (mattermost) {
    try {
      await mattermost.start();
    } catch (err) {
      logger.error({ err }, 'Mattermost sink failed to start; running without status boxes');
    }
  }

  return {
    port: http?.port ?? 0,
    sinks,
    receivers: () => {
      const o = otlp.stats();
      return [
        {
          id: 'otlp',
          kind: 'otlp',
          // a receiver is always ready (it has nothing to be behind on), unless HTTP is off
          state: http ? 'live' : 'stopped',
          lagMs: 0,
          lastEventAt: o.lastEventAt,
          malformed: o.malformed,
          anomalies: o.anomalies,
          detail: http
            ? `POST /v1/metrics, /v1/traces: ${o.requests} requests, ${o.events} events, ${o.unauthorized} unauthorized, ${o.tooLarge} too large`
            : 'off: no HTTP server (HEALTH_PORT=0)',
        },
      ];
    },
    async stopAccepting() {
      sse.closeAll();
    },
    async flushAndClose() {
      if (mattermost) {
        try {
          await mattermost.stop();
        } catch (err) {
          logger.error({ err }, 'Mattermost sink failed to flush');
        }
      }
      sse.dispose();
      await http?.close();
    },
  };
}

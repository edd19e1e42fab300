/**
 * The daemon's HTTP face: /health, /metrics, the JSON API, the SSE stream, the login page
 * and the dashboard files. Built from its dependencies (createHttpApp) and started apart
 * (startHttpServer) so tests drive the app in-process or over real sockets.
 */

import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { type Config, isLoopback } from '../config/config.js';
import type { SessionActions } from '../dispatch/session-actions.js';
import { type Clock, systemClock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { TrackerLimits } from '../model/session.js';
import type { Pipeline } from '../pipeline.js';
import type { EventStore } from '../store/event-store.js';
import { createActionRoutes } from './actions.js';
import { createAlertRoutes } from './alerts-api.js';
import { createApiRoutes } from './api.js';
import { authMiddleware, isAuthorized, loginHandlers } from './auth.js';
import { jsonError } from './errors.js';
import type { HealthReport, MetricsInput } from './health.js';
import { renderMetrics } from './metrics.js';
import { createSseHub, type SseHub, type SseHubOptions } from './sse-hub.js';
import { createStaticHandler } from './static.js';
import { createUsageRoutes, usageMetrics } from './usage-api.js';

export interface HttpAppDeps {
  pipeline: Pipeline;
  store: EventStore;
  config: Config['http'];
  logger: Logger;
  health: () => HealthReport;
  metrics: () => MetricsInput;
  /**
   * Apps mounted before the dashboard auth (e.g. the OTLP receiver, which checks OTLP_TOKEN
   * itself): they must do their own authentication.
   */
  extraApps?: Array<Hono>;
  /** the model's limits, so the dashboard's local copy of a session caps lines the same way */
  modelLimits?: TrackerLimits;
  /** steer/abort a running session (through the gateway); without it those routes answer 503 */
  actions?: SessionActions;
  /**
   * where /api/usage, /api/alerts and the clawpulse_usage_* counters on /metrics read: the store
   * by default; `clawpulse serve` gives the shared store's (every host's), its store being a mirror
   */
  reports?: Pick<EventStore, 'usage' | 'alerts'>;
  /** the built dashboard; without it `/` answers a JSON 404 saying so */
  uiDir?: string;
  clock?: Clock;
  /** tuning for tests and benchmarks (heartbeat, buffer bound, replay page ...) */
  sse?: Partial<
    Pick<
      SseHubOptions,
      | 'heartbeatMs'
      | 'chunkBytes'
      | 'stallMs'
      | 'stallCheckMs'
      | 'replayPageSize'
      | 'cacheBytes'
      | 'maxReplay'
      | 'retryMs'
      | 'minShare'
      | 'busyChunkBytes'
      | 'turnBytes'
      | 'snapshotPage'
    >
  >;
}

export function createHttpApp(deps: HttpAppDeps): { app: Hono; sse: SseHub } {
  const clock = deps.clock ?? systemClock;
  const log = deps.logger.child({ component: 'http' });
  const reports = deps.reports ?? deps.store;
  const sse = createSseHub({
    pipeline: deps.pipeline,
    store: deps.store,
    clock,
    logger: log,
    maxClients: deps.config.sseMaxClients,
    maxAgeMs: deps.config.sseMaxAgeMs,
    ...deps.sse,
  });
  const app = new Hono();

  // request log: method, path and status only (never headers, cookies or query strings)
  app.use('*', async (c, next) => {
    const t0 = performance.now();
    await next();
    if (c.req.path !== '/api/stream') {
      log.debug(
        {
          method: c.req.method,
          path: c.req.path,
          status: c.res.status,
          ms: Math.round(performance.now() - t0),
        },
        'http',
      );
    }
  });
  app.use('*', async (c, next) => {
    await next();
    c.res.headers.set('x-content-type-options', 'nosniff');
    c.res.headers.set('referrer-policy', 'no-referrer');
    if (!c.res.headers.has('x-frame-options')) c.res.headers.set('x-frame-options', 'DENY');
  });

  // a parameter given twice (`after=1&after=2`) is ambiguous: which one a reader takes is
  // the reader's choice, so no route takes either
  app.use('*', async (c, next) => {
    const q = c.req.url.indexOf('?');
    if (q >= 0) {
      const seen = new Set<string>();
      for (const k of new URL(c.req.url).searchParams.keys()) {
        if (seen.has(k))
          return jsonError(c, 400, 'bad_request', `query parameter "${k}" given more than once`);
        seen.add(k);
      }
    }
    return next();
  });

  const token = deps.config.dashboardToken;
  // the full report (paths, URLs, error texts) is for the dashboard's users: with a token set it
  // needs the token (off loopback as on: a loopback listener with a token is most likely behind
  // a proxy); without one, only a loopback listener shows it. Everyone else gets the status.
  app.get('/health', (c) => {
    const report = deps.health();
    const code = report.status === 'down' ? 503 : 200;
    const full = token
      ? isAuthorized(token, c.req.header('authorization'), c.req.header('cookie'))
      : isLoopback(deps.config.host);
    return full ? c.json(report, code) : c.json({ status: report.status }, code);
  });

  for (const extra of deps.extraApps ?? []) app.route('/', extra);

  app.use('*', authMiddleware(token));
  if (token) {
    const login = loginHandlers(token, { clock, logger: log });
    app.get('/login', login.get);
    app.post('/login', login.post);
  }

  app.get('/metrics', (c) =>
    c.body(renderMetrics(deps.metrics(), sse.stats(), usageMetrics(reports, log)), 200, {
      'content-type': 'text/plain; version=0.0.4; charset=utf-8',
    }),
  );
  app.get('/api/stream', (c) =>
    sse.handle(c.req.raw, (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing),
  );
  // before the read API: its catch-all answers every other /api path with a 404
  app.route('/api', createAlertRoutes({ store: reports, now: () => clock.now() }));
  app.route('/api', createUsageRoutes({ store: reports, now: () => clock.now() }));
  app.route(
    '/api',
    createActionRoutes({
      actions: deps.actions,
      logger: log,
      token,
      listenHost: deps.config.host,
    }),
  );
  app.route(
    '/api',
    createApiRoutes({
      pipeline: deps.pipeline,
      store: deps.store,
      now: () => clock.now(),
      limits: deps.modelLimits,
    }),
  );

  const serveUi = deps.uiDir ? createStaticHandler(deps.uiDir) : undefined;
  app.get('*', async (c) => {
    if (!serveUi) return jsonError(c, 404, 'not_found', 'no such route');
    const res = await serveUi(c);
    res.headers.set(
      'content-security-policy',
      "default-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
    return res;
  });

  app.notFound((c) => jsonError(c, 404, 'not_found', 'no such route'));
  app.onError((err, c) => {
    log.error({ err, path: c.req.path }, 'request failed');
    return jsonError(c, 500, 'internal', 'internal error');
  });
  return { app, sse };
}

export interface RunningHttpServer {
  port: number;
  close(): Promise<void>;
}

/** Listens on host:port (port 0 = any free port). Close ends open streams too. */
export function startHttpServer(app: Hono, opts: { host: string; port: number }): Promise<RunningHttpServer> {
  return new Promise((resolveStart, reject) => {
    const server = serve({ fetch: app.fetch, hostname: opts.host, port: opts.port }) as Server;
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      const port = (server.address() as AddressInfo).port;
      resolveStart({
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections?.();
          }),
      });
    });
  });
}

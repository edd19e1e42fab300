/**
 * Test wiring for the HTTP server, the dashboard e2e test and the dashboard benchmark: a real
 * SQLite store in a temp dir, the real tracker and pipeline, the app, and helpers that make
 * catalog events and read an SSE stream over a real socket.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Hono } from 'hono';
import type { Config } from '../../src/config/config.js';
import type { SessionActions } from '../../src/dispatch/session-actions.js';
import { type Clock, ManualClock } from '../../src/infra/clock.js';
import { type Logger, silentLogger } from '../../src/infra/logger.js';
import type { PulseEvent } from '../../src/model/events.js';
import { createSessionTracker } from '../../src/model/tracker.js';
import type { SummaryOptions } from '../../src/model/tracker-summaries.js';
import { createPipeline, type Pipeline } from '../../src/pipeline.js';
import { countSessions, type HealthReport, type MetricsInput } from '../../src/server/health.js';
import {
  createHttpApp,
  type HttpAppDeps,
  type RunningHttpServer,
  startHttpServer,
} from '../../src/server/http-app.js';
import type { SseHub } from '../../src/server/sse-hub.js';
import type { EventStore } from '../../src/store/event-store.js';
import { createSqliteStore } from '../../src/store/sqlite-store.js';

export interface Harness {
  dir: string;
  store: EventStore;
  pipeline: Pipeline;
  clock: Clock;
  app: Hono;
  sse: SseHub;
  server?: RunningHttpServer;
  url: string;
  close(): Promise<void>;
}

export async function createHarness(
  opts: {
    http?: Partial<Config['http']>;
    clock?: Clock;
    logger?: Logger;
    listen?: boolean;
    uiDir?: string;
    sse?: HttpAppDeps['sse'];
    actions?: SessionActions;
    /** keep finished, quiet sessions as briefs (the daemon's tracker); off by default */
    briefs?: Partial<SummaryOptions>;
    /** what /health reports (default: every source live); gets the default report to change */
    health?: (base: HealthReport) => HealthReport;
  } = {},
): Promise<Harness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawpulse-server-'));
  const store = createSqliteStore(path.join(dir, 'store.sqlite'));
  const clock = opts.clock ?? new ManualClock(1_763_700_000_000);
  const tracker = createSessionTracker(
    {
      maxStatusLines: 15,
      idleTimeoutMs: 60_000,
      maxSessionDurationMs: 1_800_000,
      stuckAfterMs: 300_000,
    },
    // finished sessions as briefs, read back from the store (as the daemon does)
    opts.briefs ? { load: (k) => store.loadSnapshot(k), ...opts.briefs } : undefined,
  );
  const logger = opts.logger ?? silentLogger;
  const pipeline = createPipeline({ store, tracker, logger, now: () => clock.now() });
  const baseHealth = (): HealthReport => ({
    status: 'ok',
    uptimeMs: 1000,
    sources: [{ id: 'files', kind: 'files', state: 'live', lagMs: 12, malformed: 0 }],
    sinks: [{ id: 'mattermost', kind: 'mattermost', breaker: 'closed', requests: 3, failures: 1 }],
    store: store.stats(),
    sessions: countSessions(tracker),
  });
  const health = (): HealthReport => (opts.health ? opts.health(baseHealth()) : baseHealth());
  const metrics = (): MetricsInput => ({
    pipeline: pipeline.stats(),
    sources: health().sources,
    sinks: health().sinks,
    sessions: countSessions(tracker),
    store: store.stats(),
  });
  const { app, sse } = createHttpApp({
    pipeline,
    store,
    config: {
      port: 0,
      host: '127.0.0.1',
      otlpMaxBodyBytes: 1 << 20,
      sseMaxClients: 50,
      sseMaxAgeMs: 3_600_000,
      ...opts.http,
    },
    logger,
    health,
    metrics,
    uiDir: opts.uiDir,
    actions: opts.actions,
    clock,
    sse: opts.sse,
  });
  const server = opts.listen ? await startHttpServer(app, { host: '127.0.0.1', port: 0 }) : undefined;
  return {
    dir,
    store,
    pipeline,
    clock,
    app,
    sse,
    server,
    url: server ? `http://127.0.0.1:${server.port}` : 'http://local',
    async close() {
      sse.dispose();
      await server?.close();
      store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Makes catalog events for one session with unique dedupe keys. */
export function sessionEvents(sessionKey: string, agentId = 'main', at: () => number = () => Date.now()) {
  let n = 0;
  const base = () => ({
    ts: at(),
    source: 'demo' as const,
    sessionKey,
    agentId,
    dedupeKey: `${sessionKey}#${++n}#${Math.random()}`,
  });
  const runId = 'run-1';
  return {
    seen: (extra: Partial<Extract<PulseEvent, { type: 'session.seen' }>> = {}): PulseEvent => ({
      ...base(),
      type: 'session.seen',
      ...extra,
    }),
    started: (): PulseEvent => ({ ...base(), type: 'agent.started', runId }),
    text: (text: string): PulseEvent => ({ ...base(), type: 'assistant.text', runId, text }),
    tool: (callId: string, name: string, args?: string): PulseEvent => ({
      ...base(),
      type: 'tool.call',
      runId,
      callId,
      name,
      args,
    }),
    toolOk: (callId: string, name: string, durationMs = 120): PulseEvent => ({
      ...base(),
      type: 'tool.output',
      runId,
      callId,
      name,
      durationMs,
    }),
    toolErr: (callId: string, name: string, error: string): PulseEvent => ({
      ...base(),
      type: 'tool.error',
      runId,
      callId,
      name,
      error,
      durationMs: 40,
    }),
    tokens: (input: number, output: number, costUsd: number): PulseEvent => ({
      ...base(),
      type: 'llm.tokens',
      runId,
      input,
      output,
      cacheRead: 0,
      cacheWrite: 0,
      reasoning: 0,
      costUsd,
    }),
    spawn: (childKey: string, label: string): PulseEvent => ({
      ...base(),
      type: 'subagent.spawned',
      parentKey: sessionKey,
      childKey,
      label,
    }),
    finished: (outcome: 'ok' | 'error' = 'ok', error?: string): PulseEvent => ({
      ...base(),
      type: 'agent.finished',
      runId,
      outcome,
      error,
    }),
  };
}

export interface SseMessage {
  event: string;
  id?: string;
  data: string;
  retry?: number;
}

export interface SseReader {
  status: number;
  headers: http.IncomingHttpHeaders;
  body?: string;
  messages: SseMessage[];
  comments: string[];
  ended: boolean;
  /** resolves when pred holds (checked on every message); rejects after timeoutMs */
  waitFor(pred: (r: SseReader) => boolean, timeoutMs?: number): Promise<void>;
  res: http.IncomingMessage;
  close(): void;
}

/** Opens an SSE stream over a real socket and parses it as a browser would. */
export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      const waiters = new Set<() => void>();
      const r: SseReader = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        messages: [],
        comments: [],
        ended: false,
        res,
        waitFor(pred, timeoutMs = 5000) {
          if (pred(r)) return Promise.resolve();
          return new Promise((ok, fail) => {
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`SSE condition not met in ${timeoutMs} ms (${r.messages.length} messages)`));
            }, timeoutMs);
            const check = () => {
              if (pred(r)) {
                clearTimeout(timer);
                waiters.delete(check);
                ok();
              }
            };
            waiters.add(check);
          });
        },
        close() {
          req.destroy();
        },
      };
      const notify = () => {
        for (const w of [...waiters]) w();
      };
      res.setEncoding('utf8');
      if (r.status !== 200) {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => {
          r.body = body;
          resolve(r);
        });
        return;
      }
      let buf = '';
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i = buf.indexOf('\n\n');
        while (i >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const msg: SseMessage = { event: 'message', data: '' };
          const data: string[] = [];
          let hasField = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) r.comments.push(line.slice(1).trim());
            else {
              const c = line.indexOf(':');
              const field = c < 0 ? line : line.slice(0, c);
              const value = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
              hasField = true;
              if (field === 'event') msg.event = value;
              else if (field === 'id') msg.id = value;
              else if (field === 'data') data.push(value);
              else if (field === 'retry') msg.retry = Number(value);
            }
          }
          msg.data = data.join('\n');
          if (hasField) r.messages.push(msg);
          i = buf.indexOf('\n\n');
        }
        notify();
      });
      res.on('end', () => {
        r.ended = true;
        notify();
      });
      res.on('close', () => {
        r.ended = true;
        notify();
      });
      resolve(r);
    });
    req.on('error', reject);
  });
}

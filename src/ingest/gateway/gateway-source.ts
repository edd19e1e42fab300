/**
 * The OpenClaw gateway WebSocket source: over the gateway connection (src/gateway/connection.ts:
 * handshake, reconnect with backoff, tick watchdog) it subscribes to session events, maps frames
 * to PulseEvents (src/openclaw/gateway) and hands them to the pipeline. After every reconnect it
 * backfills what it missed from chat.history with the same dedupeKeys as the live path. Bad
 * frames are counted and skipped, never fatal.
 */
import {
  type BackoffOptions,
  type ConnectionStatus,
  createGatewayConnection,
  type GatewayConnection,
  type GatewayHello,
} from '../../gateway/connection.js';
import { type Clock, systemClock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import type { PulseEvent } from '../../model/events.js';
import { scopedKey } from '../../model/session-scope.js';
import { type EventFrame, skippableEvent } from '../../openclaw/gateway/frames.js';
import { createGatewayMapper } from '../../openclaw/gateway/mapper.js';
import { createSanitizer, logAnomalies } from '../sanitize.js';
import type { IngestSink, OffsetReader, Source, SourceHealth, SourceState } from '../source.js';
import { createIngestBatcher } from './ingest-batcher.js';
import { createResumeState } from './resume.js';
import { scopeEvents } from './scope-events.js';

export interface GatewaySourceDeps {
  url: string;
  /**
   * A gateway named in OPENCLAW_GATEWAYS: the source is `gateway:<name>` and every session key
   * it emits is scoped by the name (scope-events.ts). Without it: the single gateway, plain keys.
   */
  name?: string;
  token?: string;
  stateDir?: string;
  sink: IngestSink;
  offsets: OffsetReader;
  logger: Logger;
  clock?: Clock;
  random?: () => number;
  backoff?: BackoffOptions;
  /** sessions asked for in sessions.subscribe (default 50) */
  subscribeLimit?: number;
  /** messages per chat.history request in a backfill (default 200) */
  historyLimit?: number;
  /** sessions backfilled at most after one reconnect (default 25, newest first) */
  maxBackfillSessions?: number;
  handshakeTimeoutMs?: number;
  /** offsets are saved with the events at most this often (default 1000 ms) */
  offsetEveryMs?: number;
  /**
   * SOURCES=auto with the default URL: nothing listening there is standby, not down (the files
   * and SQLite readers follow OpenClaw); a URL the user set is expected to answer
   */
  optional?: boolean;
  /**
   * A connection shared with dispatch: start() starts it, stop() leaves it to its owner. Without
   * one the source makes its own from the fields above and stops it with itself.
   */
  connection?: GatewayConnection;
}

export type StateListener = (health: SourceHealth) => void;

export interface GatewaySource extends Source {
  /** the OPENCLAW_GATEWAYS name (undefined for the single gateway) */
  readonly gatewayName?: string;
  /** its connection, for the actions on its sessions (steer, abort) */
  readonly connection: GatewayConnection;
  onStateChange(listener: StateListener): () => void;
  stats(): {
    frames: number;
    events: number;
    malformed: number;
    reconnects: number;
    backfills: number;
    protocol?: number;
  };
}

export function createGatewaySource(deps: GatewaySourceDeps): GatewaySource {
  const clock = deps.clock ?? systemClock;
  const name = deps.name;
  const id = name ? `gateway:${name}` : 'gateway';
  const log = deps.logger.child({ source: id, url: deps.url });
  /** the model's key of a session this gateway calls `key` */
  const modelKey = (key: string): string => (name ? scopedKey(name, key) : key);
  const mapper = createGatewayMapper();
  const resume = createResumeState(deps.url, deps.offsets);
  const listeners = new Set<StateListener>();
  const owned = !deps.connection;
  const conn =
    deps.connection ??
    createGatewayConnection({
      url: deps.url,
      token: deps.token,
      stateDir: deps.stateDir,
      logger: deps.logger,
      clock,
      random: deps.random,
      backoff: deps.backoff,
      handshakeTimeoutMs: deps.handshakeTimeoutMs,
      name: id,
    });

  let state: SourceState = 'stopped';
  let detail = 'not started';
  let running = false;
  let everLive = false;
  let backfills = 0;
  let detach: Array<() => void> = [];
  const sane = createSanitizer({ now: () => clock.now(), onAnomaly: logAnomalies(log) });
  const batcher = createIngestBatcher({
    sink: deps.sink,
    resume,
    clock,
    log,
    offsetEveryMs: deps.offsetEveryMs ?? 1000,
    sane,
  });
  // scoped before the batcher: the resume offsets and the pipeline see the model's keys
  const push = name
    ? (events: readonly PulseEvent[]) => batcher.push(scopeEvents(name, events))
    : batcher.push;

  function setState(s: SourceState, d: string): void {
    const changed = s !== state || d !== detail;
    state = s;
    detail = d;
    if (!changed) return;
    const h = health();
    for (const l of listeners) {
      try {
        l(h);
      } catch (err) {
        log.error({ err }, 'gateway state listener failed');
      }
    }
  }

  function health(): SourceHealth {
    const now = clock.now();
    const { malformed, reconnects } = conn.stats();
    const h: SourceHealth = {
      id,
      kind: 'gateway',
      state,
      // live: how late the newest event reached us; otherwise: how stale our view is
      lagMs: resume.lastEventTs
        ? state === 'live'
          ? batcher.arrivalLag()
          : Math.max(0, now - resume.lastEventTs)
        : 0,
      malformed,
      anomalies: sane.anomalies,
      detail: reconnects ? `${detail}; ${reconnects} reconnects` : detail,
      inputs: resume.sessions.size,
    };
    if (resume.lastEventTs) h.lastEventAt = resume.lastEventTs;
    return h;
  }

  function onConnectionState(s: ConnectionStatus): void {
    // the source is live once its session rows are in, not at the handshake (see onSessions)
    if (s.state === 'live') return;
    batcher.flush();
    // optional (SOURCES=auto, default URL): no gateway running is a setup without one, not a
    // failure; a refused token or protocol still is
    if (s.state === 'down' && s.unreachable && deps.optional)
      setState(
        'standby',
        `no gateway at ${deps.url} (optional: the default URL, nothing set it): ${s.detail}`,
      );
    else setState(s.state, s.detail);
  }

  function onEvent(f: EventFrame): void {
    push(mapper.mapEvent(f, clock.now()));
  }

  /** replies are for this handshake's socket only: a later socket has its own subscribe */
  function current(hello: GatewayHello): boolean {
    const s = conn.status();
    return running && s.state === 'live' && s.hello === hello;
  }

  /** runs a reply handler; a throw costs that reply only (as a malformed frame once did) */
  function guarded<A>(what: string, fn: (a: A) => void): (a: A) => void {
    return (a) => {
      try {
        fn(a);
      } catch (err) {
        log.warn({ err }, `could not handle the ${what} reply; skipped`);
      }
    };
  }

  /** after every handshake: subscribe (or list), then backfill what the gap may have missed */
  function onLive(hello: GatewayHello): void {
    const limit = deps.subscribeLimit ?? 50;
    const list = () =>
      conn.request('sessions.list', { limit }).then(
        guarded('sessions.list', (p) => onSessions(hello, p)),
        guarded('sessions.list', () => onSessions(hello, undefined)),
      );
    conn.request('sessions.subscribe', { limit }).then(
      guarded('sessions.subscribe', (p) => {
        // 2026.9 answers with the session list; 2026.7 only with {subscribed:true}; gateways
        // before 2026.7 have no subscribe at all (then we live on broadcast agent/chat events)
        if (hasSessionList(p)) onSessions(hello, p);
        else if (current(hello)) list();
      }),
      guarded('sessions.subscribe', (err: Error) => {
        if (!current(hello)) return; // the socket dropped: the next handshake subscribes again
        log.info({ error: err.message }, 'sessions.subscribe refused; using sessions.list');
        list();
      }),
    );
  }

  function onSessions(hello: GatewayHello, payload: unknown): void {
    if (!current(hello)) return;
    const { events, rows } = mapper.mapSessionList(payload, clock.now());
    const backfill = everLive || resume.hasHistory();
    const targets = backfill
      ? rows
          .filter((r) => r.updatedAt !== undefined && r.updatedAt > resume.since(modelKey(r.key)))
          .sort((a, b) => (b.updatedAt ?? 0) - (a.updatedAt ?? 0))
          .slice(0, deps.maxBackfillSessions ?? 25)
      : [];
    const since = new Map(targets.map((r) => [r.key, resume.since(modelKey(r.key))]));
    push(events);
    everLive = true;
    const server = hello.serverVersion ? `, gateway ${hello.serverVersion}` : '';
    setState('live', `protocol ${hello.protocol}${server}, ${rows.length} sessions`);
    for (const r of targets) {
      backfills++;
      conn.request('chat.history', { sessionKey: r.key, limit: deps.historyLimit ?? 200 }).then(
        guarded('chat.history', (p) => {
          if (running) push(mapper.mapHistory(r.key, p, since.get(r.key) ?? 0, clock.now()));
        }),
        (err: Error) =>
          log.warn(
            { sessionKey: r.key, error: err.message },
            'chat.history failed; that session is not backfilled',
          ),
      );
    }
  }

  return {
    id,
    kind: 'gateway',
    ...(name ? { gatewayName: name } : {}),
    connection: conn,
    async start() {
      if (running) return;
      running = true;
      detach = [
        conn.onStateChange(onConnectionState),
        conn.onLive(onLive),
        // skippable frames (ticks, health, most task updates) map to nothing: never parse them
        conn.onEvent(onEvent, { skip: skippableEvent }),
      ];
      const s = conn.status();
      if (s.state === 'live' && s.hello) {
        // a shared connection may be up already: subscribe on it now
        setState('starting', s.detail);
        onLive(s.hello);
      } else if (s.state !== 'stopped') setState(s.state, s.detail);
      conn.start();
    },
    async stop() {
      if (!running) return;
      running = false;
      for (const off of detach) off();
      detach = [];
      batcher.flush(true);
      if (owned) await conn.stop();
      setState('stopped', 'stopped');
    },
    health,
    onStateChange(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    stats() {
      const { frames, malformed, reconnects } = conn.stats();
      const protocol = conn.status().hello?.protocol;
      return {
        frames,
        events: batcher.delivered(),
        malformed,
        reconnects,
        backfills,
        ...(protocol !== undefined ? { protocol } : {}),
      };
    },
  };
}

function hasSessionList(p: unknown): boolean {
  const o = p as { sessions?: unknown; list?: { sessions?: unknown } } | undefined;
  return Array.isArray(o?.sessions) || Array.isArray(o?.list?.sessions);
}

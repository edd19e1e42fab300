/**
 * The OpenClaw gateway WebSocket source: connects as a read-only backend observer, subscribes
 * to session events, maps frames to PulseEvents (src/openclaw/gateway) and hands them to the
 * pipeline. Reconnects with capped, jittered backoff; after a reconnect it backfills what it
 * missed from chat.history with the same dedupeKeys as the live path. A tick watchdog closes a
 * silent connection (code 4000). Bad frames are counted and skipped, never fatal.
 */
import WebSocket from 'ws';
import { type Clock, systemClock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import { resolveGatewayToken } from '../../openclaw/gateway/config-token.js';
import {
  type GatewayFrame,
  parseFrame,
  type ResFrame,
  requestFrame,
  skippableEvent,
} from '../../openclaw/gateway/frames.js';
import { createGatewayMapper } from '../../openclaw/gateway/mapper.js';
import {
  connectParams,
  describeConnectFailure,
  protocolOutOfRange,
  readHello,
} from '../../openclaw/gateway/protocol.js';
import type { IngestSink, OffsetReader, Source, SourceHealth, SourceState } from '../source.js';
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
import { createIngestBatcher } from './ingest-batcher.js';
import { createResumeState } from './resume.js';

export interface GatewaySourceDeps {
  url: string;
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
}

export type StateListener = (health: SourceHealth) => void;

export interface GatewaySource extends Source {
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

interface Conn {
  n: number;
  ws: WebSocket;
  phase: 'challenge' | 'hello' | 'subscribe' | 'live';
  reqNo: number;
  pending: Map<string, (f: ResFrame) => void>;
  lastFrameAt: number;
  tickMs: number;
  timer?: unknown;
  dead: boolean;
}

const CLIENT_VERSION = '0.1.0';

export function createGatewaySource(deps: GatewaySourceDeps): GatewaySource {
  const clock = deps.clock ?? systemClock;
  const random = deps.random ?? Math.random;
  const backoff = deps.backoff ?? DEFAULT_BACKOFF;
  const log = deps.logger.child({ source: 'gateway', url: deps.url });
  const mapper = createGatewayMapper();
  let tokenInfo = resolveGatewayToken({ token: deps.token, stateDir: deps.stateDir });
  const resume = createResumeState(deps.url, deps.offsets);
  const listeners = new Set<StateListener>();

  let state: SourceState = 'stopped';
  let detail = 'not started';
  let conn: Conn | undefined;
  let connNo = 0;
  let attempt = 0;
  let reconnectTimer: unknown;
  let stopped = true;
  let everLive = false;
  let protocol: number | undefined;
  let serverVersion: string | undefined;
  const counters = { frames: 0, malformed: 0, reconnects: 0, backfills: 0 };
  const batcher = createIngestBatcher({
    sink: deps.sink,
    resume,
    clock,
    log,
    offsetEveryMs: deps.offsetEveryMs ?? 1000,
  });
  const push = batcher.push;

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
    const h: SourceHealth = {
      id: 'gateway',
      kind: 'gateway',
      state,
      // live: how late the newest event reached us; otherwise: how stale our view is
      lagMs: resume.lastEventTs
        ? state === 'live'
          ? batcher.arrivalLag()
          : Math.max(0, now - resume.lastEventTs)
        : 0,
      malformed: counters.malformed,
      detail: counters.reconnects ? `${detail}; ${counters.reconnects} reconnects` : detail,
      inputs: resume.sessions.size,
    };
    if (resume.lastEventTs) h.lastEventAt = resume.lastEventTs;
    return h;
  }

  // ── connection ──
  function connect(): void {
    reconnectTimer = undefined;
    if (stopped) return;
    // re-read openclaw.json on every attempt: a rotated token is picked up without a restart
    if (connNo > 0 && !deps.token) tokenInfo = resolveGatewayToken({ stateDir: deps.stateDir });
    const n = ++connNo;
    let ws: WebSocket;
    try {
      ws = new WebSocket(deps.url, { maxPayload: 64 * 1024 * 1024, perMessageDeflate: false });
    } catch (err) {
      scheduleReconnect(`cannot connect to ${deps.url}: ${(err as Error).message}`);
      return;
    }
    const c: Conn = {
      n,
      ws,
      phase: 'challenge',
      reqNo: 0,
      pending: new Map(),
      lastFrameAt: clock.now(),
      tickMs: 0,
      dead: false,
    };
    conn = c;
    c.timer = clock.setTimeout(() => {
      if (c.phase !== 'live') fail(c, `no handshake from ${deps.url} within ${handshakeMs()}ms`);
    }, handshakeMs());
    ws.on('message', (data, isBinary) => onMessage(c, isBinary ? String(data) : data.toString()));
    ws.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? '';
      const msg = code && /^E[A-Z]+$/.test(code) ? `connect ${code} ${deps.url}` : err.message;
      fail(c, msg);
    });
    ws.on('close', (code, reason) => {
      fail(c, `connection closed (${code}${reason.length ? ` ${reason.toString().slice(0, 120)}` : ''})`);
    });
  }

  function handshakeMs(): number {
    return deps.handshakeTimeoutMs ?? 15_000;
  }

  /** ends a connection once (error/close/timeout/watchdog all land here) and schedules the next */
  function fail(c: Conn, why: string, closeCode = 1000): void {
    if (c.dead) return;
    c.dead = true;
    if (c.timer !== undefined) clock.clearTimeout(c.timer);
    try {
      if (c.ws.readyState === WebSocket.OPEN) c.ws.close(closeCode, why.slice(0, 60));
      else if (c.ws.readyState === WebSocket.CONNECTING) c.ws.terminate();
    } catch {
      // already closing
    }
    batcher.flush();
    if (conn === c) conn = undefined;
    if (stopped) return;
    log.warn({ why }, 'gateway connection ended');
    scheduleReconnect(why);
  }

  function scheduleReconnect(why: string): void {
    if (stopped || reconnectTimer !== undefined) return;
    attempt++;
    counters.reconnects++;
    const delay = backoffDelay(attempt, backoff, random);
    setState('down', `${why}; retry ${attempt} in ${delay}ms`);
    reconnectTimer = clock.setTimeout(connect, delay);
  }

  function send(c: Conn, method: string, params: unknown, onRes: (f: ResFrame) => void): void {
    const id = `${c.n}.${++c.reqNo}`;
    c.pending.set(id, onRes);
    c.ws.send(requestFrame(id, method, params));
  }

  function onMessage(c: Conn, text: string): void {
    if (c.dead) return;
    counters.frames++;
    c.lastFrameAt = clock.now();
    if (c.phase === 'live' && skippableEvent(text)) return;
    const parsed = parseFrame(text);
    if (!parsed.ok) {
      counters.malformed++;
      if (counters.malformed <= 5 || counters.malformed % 1000 === 0) {
        log.warn(
          { error: parsed.error, sample: text.slice(0, 200), malformed: counters.malformed },
          'skipped a malformed gateway frame',
        );
      }
      return;
    }
    try {
      onFrame(c, parsed.frame);
    } catch (err) {
      counters.malformed++;
      log.warn({ err }, 'could not handle a gateway frame; skipped');
    }
  }

  function onFrame(c: Conn, f: GatewayFrame): void {
    if (f.type === 'res') {
      const cb = c.pending.get(f.id);
      if (cb) {
        c.pending.delete(f.id);
        cb(f);
      }
      return;
    }
    if (f.type !== 'event') return;
    if (f.event === 'connect.challenge') {
      if (c.phase !== 'challenge') return;
      c.phase = 'hello';
      const params = connectParams({
        token: tokenInfo.token,
        clientVersion: CLIENT_VERSION,
        platform: process.platform,
      });
      send(c, 'connect', params, (res) => onHello(c, res));
      return;
    }
    if (c.phase === 'challenge' || c.phase === 'hello') return;
    push(mapper.mapEvent(f, clock.now()));
  }

  function onHello(c: Conn, res: ResFrame): void {
    if (!res.ok) {
      const failure = describeConnectFailure(res.error, tokenInfo.origin, tokenInfo.token);
      log.error({ kind: failure.kind }, failure.message);
      fail(c, failure.message);
      return;
    }
    const hello = readHello(res.payload);
    if ('error' in hello) {
      fail(c, hello.error);
      return;
    }
    const bad = protocolOutOfRange(hello.protocol);
    if (bad) {
      fail(c, bad.message);
      return;
    }
    protocol = hello.protocol;
    serverVersion = hello.serverVersion;
    c.tickMs = hello.tickIntervalMs;
    c.phase = 'subscribe';
    attempt = 0;
    armWatchdog(c);
    const limit = deps.subscribeLimit ?? 50;
    const list = () =>
      send(c, 'sessions.list', { limit }, (l) => onSessions(c, l.ok ? l.payload : undefined));
    send(c, 'sessions.subscribe', { limit }, (r) => {
      // 2026.9 answers with the session list; 2026.7 only with {subscribed:true}; gateways
      // before 2026.7 have no subscribe at all (then we live on broadcast agent/chat events)
      if (r.ok && hasSessionList(r.payload)) onSessions(c, r.payload);
      else {
        if (!r.ok) log.info({ error: r.error?.message }, 'sessions.subscribe refused; using sessions.list');
        list();
      }
    });
  }

  function onSessions(c: Conn, payload: unknown): void {
    if (c.dead) return;
    const { events, rows } = mapper.mapSessionList(payload, clock.now());
    const backfill = everLive || resume.hasHistory();
    const targets = backfill
      ? rows
          .filter((r) => r.updatedAt !== undefined && r.updatedAt > resume.since(r.key))
          .sort((a, b) => (b.updatedAt ?? 0) - (a.updatedAt ?? 0))
          .slice(0, deps.maxBackfillSessions ?? 25)
      : [];
    const since = new Map(targets.map((r) => [r.key, resume.since(r.key)]));
    push(events);
    c.phase = 'live';
    everLive = true;
    setState(
      'live',
      `protocol ${protocol}${serverVersion ? `, gateway ${serverVersion}` : ''}, ${rows.length} sessions`,
    );
    for (const r of targets) {
      counters.backfills++;
      send(c, 'chat.history', { sessionKey: r.key, limit: deps.historyLimit ?? 200 }, (h) => {
        if (!h.ok) {
          log.warn(
            { sessionKey: r.key, error: h.error?.message },
            'chat.history failed; that session is not backfilled',
          );
          return;
        }
        push(mapper.mapHistory(r.key, h.payload, since.get(r.key) ?? 0, clock.now()));
      });
    }
  }

  /** closes (4000) a connection that stays silent for 2 × tickIntervalMs; re-arms on activity */
  function armWatchdog(c: Conn): void {
    if (c.timer !== undefined) clock.clearTimeout(c.timer);
    const limit = 2 * c.tickMs;
    const check = (): void => {
      if (c.dead) return;
      const idle = clock.now() - c.lastFrameAt;
      if (idle >= limit) {
        fail(c, `no tick from the gateway for ${idle}ms (tickIntervalMs ${c.tickMs})`, 4000);
        return;
      }
      c.timer = clock.setTimeout(check, limit - idle);
    };
    c.timer = clock.setTimeout(check, limit);
  }

  return {
    id: 'gateway',
    kind: 'gateway',
    async start() {
      if (!stopped) return;
      stopped = false;
      if (tokenInfo.problem) log.warn({ problem: tokenInfo.problem }, `gateway token: ${tokenInfo.origin}`);
      setState('starting', `connecting to ${deps.url} (token from ${tokenInfo.origin})`);
      connect();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (reconnectTimer !== undefined) clock.clearTimeout(reconnectTimer);
      reconnectTimer = undefined;
      const c = conn;
      conn = undefined;
      batcher.flush(true);
      if (c && !c.dead) {
        const closed = new Promise<void>((resolve) => {
          c.ws.once('close', () => resolve());
          // a safety cap on a peer that never answers the close handshake (not a test wait)
          setTimeout(resolve, 1000).unref();
        });
        fail(c, 'stopped');
        if (c.ws.readyState !== WebSocket.CLOSED) await closed;
      }
      setState('stopped', 'stopped');
    },
    health,
    onStateChange(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    stats: () => ({
      ...counters,
      events: batcher.delivered(),
      ...(protocol !== undefined ? { protocol } : {}),
    }),
  };
}

function hasSessionList(p: unknown): boolean {
  const o = p as { sessions?: unknown; list?: { sessions?: unknown } } | undefined;
  return Array.isArray(o?.sessions) || Array.isArray(o?.list?.sessions);
}

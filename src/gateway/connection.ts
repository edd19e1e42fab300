/**
 * The one WebSocket connection to the OpenClaw gateway that the gateway source (src/ingest/gateway)
 * and dispatch share: handshake as a backend operator, reconnect with capped jittered backoff,
 * requests by id (waiting for live while down), event frames to listeners. One socket at a time
 * lives in attempt.ts; the requests across sockets in requests.ts; the listeners in event-fanout.ts.
 */
import { type Clock, systemClock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import { resolveGatewayToken } from '../openclaw/gateway/config-token.js';
import type { EventFrame, GatewayErrorShape } from '../openclaw/gateway/frames.js';
import { DEFAULT_SCOPES, type Hello } from '../openclaw/gateway/protocol.js';
import { type Attempt, type EndKind, openAttempt } from './attempt.js';
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
import { createEventFanout, type EventListenOptions } from './event-fanout.js';
import {
  createRequestTable,
  DEFAULT_REQUEST_TIMEOUT_MS,
  GatewayRequestError,
  type RequestOptions,
  unavailable,
} from './requests.js';

export type { BackoffOptions } from './backoff.js';
export type { EventListenOptions } from './event-fanout.js';
export { GatewayRequestError } from './requests.js';

export interface GatewayConnectionOptions {
  url: string;
  /** else resolved from openclaw.json via resolveGatewayToken (re-read on every reconnect) */
  token?: string;
  stateDir?: string;
  logger: Logger;
  clock?: Clock;
  random?: () => number;
  backoff?: BackoffOptions;
  handshakeTimeoutMs?: number;
  /** default ['operator.read','operator.write','operator.admin'] */
  scopes?: string[];
  /** false: no reconnect; the first failure is final (for one-shot CLI use). default true */
  reconnect?: boolean;
  /** label for logs, e.g. 'gateway' or 'dispatch' */
  name?: string;
  /** what goes on while no gateway answers, for the one log line that says so ("following files") */
  whileDown?: string;
  /** the wait before trying again after the gateway rejected the token or the protocol (default 5 min) */
  rejectedRetryMs?: number;
}

/** a rejected token or protocol does not fix itself in seconds: try again this rarely */
export const REJECTED_RETRY_MS = 5 * 60_000;

/** how many retryable refusals a one-shot connection waits out (its ready() timeout bounds it too) */
const MAX_ONE_SHOT_RETRIES = 20;

export type GatewayHello = Hello;

export type ConnectionState = 'stopped' | 'starting' | 'live' | 'down';

export interface ConnectionStatus {
  state: ConnectionState;
  /** for people: "connecting to …", "protocol 4, gateway 2026.9.6", "<why>; retry 3 in 4000ms" */
  detail: string;
  /** the last hello-ok (kept while down: what the gateway said it serves) */
  hello?: GatewayHello;
  reconnects: number;
  lastError?: string;
  /** the last attempt found nothing listening (no gateway running), not a refusal */
  unreachable?: boolean;
}

export interface GatewayConnection {
  start(): void;
  stop(): Promise<void>;
  status(): ConnectionStatus;
  /** resolves once live; rejects after timeoutMs (default 30 s), when stopped, or on a final failure */
  ready(timeoutMs?: number): Promise<GatewayHello>;
  /**
   * Sends once live (waiting up to opts.timeoutMs, default 30 s in all). Resolves with the ok
   * payload; rejects with GatewayRequestError: the gateway's code for {ok:false}, 'UNAVAILABLE'
   * (retryable) for a timeout or a lost connection. expectFinal: resolve on the first reply whose
   * payload.status is not "accepted" (`agent` replies twice under one id); onAccepted gets the first.
   */
  request<T = unknown>(method: string, params: unknown, opts?: RequestOptions): Promise<T>;
  /** whether hello-ok features.methods lists it; undefined when the gateway did not say */
  hasMethod(method: string): boolean | undefined;
  /** every event frame after the handshake; `skip` lets frames nobody wants go unparsed */
  onEvent(listener: (frame: EventFrame, rawText: string) => void, o?: EventListenOptions): () => void;
  /** after each successful handshake (first connect and every reconnect) */
  onLive(listener: (hello: GatewayHello) => void): () => void;
  onStateChange(listener: (s: ConnectionStatus) => void): () => void;
  stats(): { frames: number; malformed: number; reconnects: number };
}

export function createGatewayConnection(o: GatewayConnectionOptions): GatewayConnection {
  const clock = o.clock ?? systemClock;
  const reconnect = o.reconnect ?? true;
  const log = o.logger.child({ gateway: o.name ?? 'gateway', url: o.url });
  let token = resolveGatewayToken({ token: o.token, stateDir: o.stateDir });
  const counters = { frames: 0, malformed: 0, reconnects: 0 };
  const events = createEventFanout(log, counters);
  const stateListeners = new Set<(s: ConnectionStatus) => void>();
  const liveListeners = new Set<(h: GatewayHello) => void>();

  let state: ConnectionState = 'stopped';
  let detail = 'not started';
  let hello: GatewayHello | undefined;
  let methods: Set<string> | undefined;
  let lastError: string | undefined;
  let attempt: Attempt | undefined;
  let attempts = 0;
  let failures = 0; // since the last live: the backoff step
  let lastKind: EndKind | undefined;
  /** retryable refusals a one-shot (reconnect: false) connection waited out */
  let oneShotRetries = 0;
  let reqNo = 0;
  let reconnectTimer: unknown;
  let running = false;
  /**
   * the failure last logged (kind, and the message for a refusal): the same failure again is
   * not logged again, so a daemon without a gateway says so once instead of every retry
   */
  let reported: string | undefined;
  /** set when nothing will bring the connection back: stopped, or failed without reconnect */
  let final: GatewayRequestError | undefined;

  const requests = createRequestTable({
    clock,
    log,
    send(method, params) {
      if (state !== 'live' || !attempt) return undefined;
      const id = `${attempt.n}.${++reqNo}`;
      return attempt.send(id, method, params) ? id : undefined;
    },
    downDetail: () => detail,
  });

  function status(): ConnectionStatus {
    const s: ConnectionStatus = { state, detail, reconnects: counters.reconnects };
    if (hello) s.hello = hello;
    if (lastError !== undefined) s.lastError = lastError;
    if (state === 'down' && lastKind === 'unreachable') s.unreachable = true;
    return s;
  }

  function setState(s: ConnectionState, d: string): void {
    if (s === state && d === detail) return;
    state = s;
    detail = d;
    notify(stateListeners, status(), 'gateway state listener failed');
  }

  function notify<A>(listeners: Set<(a: A) => void>, arg: A, what: string): void {
    for (const l of listeners) {
      try {
        l(arg);
      } catch (err) {
        log.error({ err }, what);
      }
    }
  }

  function connect(): void {
    reconnectTimer = undefined;
    if (!running) return;
    // re-read openclaw.json on every attempt: a rotated token is picked up without a restart
    if (attempts > 0 && !o.token) token = resolveGatewayToken({ stateDir: o.stateDir });
    const n = ++attempts;
    try {
      attempt = openAttempt({
        n,
        url: o.url,
        clock,
        log,
        handshakeMs: o.handshakeTimeoutMs ?? 15_000,
        token,
        scopes: o.scopes ?? DEFAULT_SCOPES,
        counters,
        events,
        onRes: requests.onRes,
        onLive: (h) => wentLive(h),
        onEnd: (why, refusal, kind) => ended(n, why, refusal, kind),
      });
    } catch (err) {
      ended(n, `cannot connect to ${o.url}: ${(err as Error).message}`, undefined, 'other');
    }
  }

  function wentLive(h: GatewayHello): void {
    failures = 0;
    reported = undefined;
    log.info(
      { protocol: h.protocol, ...(h.serverVersion ? { version: h.serverVersion } : {}) },
      `gateway connected at ${o.url}`,
    );
    hello = h;
    methods = h.methods ? new Set(h.methods) : undefined;
    setState('live', `protocol ${h.protocol}${h.serverVersion ? `, gateway ${h.serverVersion}` : ''}`);
    notify(liveListeners, h, 'gateway live listener failed');
    requests.live();
  }

  function ended(n: number, why: string, refusal?: GatewayErrorShape, kind: EndKind = 'other'): void {
    lastKind = kind;
    if (attempt?.n === n) attempt = undefined;
    requests.dropSent(why);
    if (!running) return;
    lastError = why;
    if (reconnect) report(kind, why, state === 'live');
    if (reconnect) scheduleReconnect(why, kind);
    else if (transient(refusal) && oneShotRetries < MAX_ONE_SHOT_RETRIES) {
      // a gateway still starting refuses with a retryable UNAVAILABLE ("startup-sidecars",
      // seen from 2026.9.6 right after its port opens): a one-shot caller waits it out, within
      // its own ready() timeout, instead of failing
      oneShotRetries++;
      const delay = Math.min(5_000, Math.max(250, refusal?.retryAfterMs ?? 1_000));
      setState('down', `${why}; retry in ${delay}ms`);
      reconnectTimer = clock.setTimeout(connect, delay);
    } else giveUp(why, refusal);
  }

  function transient(refusal: GatewayErrorShape | undefined): boolean {
    return refusal !== undefined && (refusal.retryable === true || refusal.code === 'UNAVAILABLE');
  }

  /** logs a failure once per change: the same refusal or the same absence stays quiet */
  function report(kind: EndKind, why: string, wasLive: boolean): void {
    const key = kind === 'unreachable' ? kind : `${kind}\u0000${why}`;
    if (key === reported) {
      log.debug({ why }, 'gateway still unavailable');
      return;
    }
    reported = key;
    const retryS = Math.round((o.rejectedRetryMs ?? REJECTED_RETRY_MS) / 1000);
    const meanwhile = o.whileDown ? `; ${o.whileDown}` : '';
    if (kind === 'unreachable') log.warn(`no gateway at ${o.url}${meanwhile}; will connect when it starts`);
    else if (kind === 'auth')
      log.error(
        `${why}: set OPENCLAW_GATEWAY_TOKEN (or gateway.auth.token in openclaw.json)${meanwhile}; trying again every ${retryS} s`,
      );
    else if (kind === 'protocol') log.error(`${why}${meanwhile}; trying again every ${retryS} s`);
    else log.warn({ why }, wasLive ? 'gateway connection lost; reconnecting' : 'gateway connection failed');
  }

  function scheduleReconnect(why: string, kind: EndKind): void {
    if (reconnectTimer !== undefined) return;
    failures++;
    counters.reconnects++;
    const delay =
      kind === 'auth' || kind === 'protocol'
        ? (o.rejectedRetryMs ?? REJECTED_RETRY_MS)
        : backoffDelay(failures, o.backoff ?? DEFAULT_BACKOFF, o.random ?? Math.random);
    setState('down', `${why}; retry ${failures} in ${delay}ms`);
    reconnectTimer = clock.setTimeout(connect, delay);
  }

  function giveUp(why: string, refusal?: GatewayErrorShape): void {
    final = refusal
      ? new GatewayRequestError('connect', refusal.code ?? 'UNAVAILABLE', why, {
          retryable: refusal.retryable,
          details: refusal.details,
        })
      : unavailable('connect', why);
    setState('down', why);
    requests.failAll(final);
  }

  function ready(timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS): Promise<GatewayHello> {
    if (state === 'live' && hello) return Promise.resolve(hello);
    if (final) return Promise.reject(final);
    return requests.whenLive(timeoutMs).then(() => hello as GatewayHello);
  }

  return {
    start() {
      if (running) return;
      running = true;
      final = undefined;
      failures = 0;
      reported = undefined;
      // no token is no news while no gateway answers; a rejection says where the token came from
      if (token.problem) log.debug({ problem: token.problem }, `gateway token: ${token.origin}`);
      setState('starting', `connecting to ${o.url} (token from ${token.origin})`);
      connect();
    },
    async stop() {
      if (!running) return;
      running = false;
      if (reconnectTimer !== undefined) clock.clearTimeout(reconnectTimer);
      reconnectTimer = undefined;
      final = new GatewayRequestError('connect', 'UNAVAILABLE', 'the gateway connection was stopped');
      requests.failAll(final);
      const a = attempt;
      attempt = undefined;
      if (a) await a.close('stopped');
      setState('stopped', 'stopped');
    },
    status,
    ready,
    request<T>(method: string, params: unknown, opts: RequestOptions = {}): Promise<T> {
      if (final) {
        const { code, message, retryable } = final;
        return Promise.reject(new GatewayRequestError(method, code, message, { retryable }));
      }
      return requests.add(method, params, opts) as Promise<T>;
    },
    hasMethod: (method) => (methods ? methods.has(method) : undefined),
    onEvent: (listener, opts) => events.add(listener, opts),
    onLive(l) {
      liveListeners.add(l);
      return () => liveListeners.delete(l);
    },
    onStateChange(l) {
      stateListeners.add(l);
      return () => stateListeners.delete(l);
    },
    stats: () => ({
      frames: counters.frames,
      malformed: counters.malformed,
      reconnects: counters.reconnects,
    }),
  };
}

/** one-shot use (CLI commands): connect without reconnecting, run fn, always stop */
export async function withGateway<T>(
  o: Omit<GatewayConnectionOptions, 'reconnect'> & { timeoutMs?: number },
  fn: (c: GatewayConnection) => Promise<T>,
): Promise<T> {
  const { timeoutMs, ...rest } = o;
  const c = createGatewayConnection({ ...rest, reconnect: false });
  c.start();
  try {
    await c.ready(timeoutMs);
    return await fn(c);
  } finally {
    await c.stop();
  }
}

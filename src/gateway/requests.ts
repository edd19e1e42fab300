/**
 * The requests of one gateway connection, across its reconnects (and the ready() callers that
 * wait with them): a request made while the connection is down waits for it to be live; a sent one waits for its reply by id. One timer per
 * request covers both waits, so a caller's timeout is the total it waits. A connection that drops
 * fails its sent requests (the gateway forgets them with the socket); waiting ones keep waiting.
 */
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import { type GatewayErrorShape, isObj, type ResFrame } from '../openclaw/gateway/frames.js';

export class GatewayRequestError extends Error {
  override name = 'GatewayRequestError';
  code: string;
  retryable?: boolean;
  details?: unknown;
  method: string;
  constructor(
    method: string,
    code: string,
    message: string,
    extra: { retryable?: boolean; details?: unknown } = {},
  ) {
    super(message);
    this.method = method;
    this.code = code;
    if (extra.retryable !== undefined) this.retryable = extra.retryable;
    if (extra.details !== undefined) this.details = extra.details;
  }
}

/** the error of a request the gateway could not answer: it was down, the socket dropped, no reply */
export function unavailable(method: string, message: string): GatewayRequestError {
  return new GatewayRequestError(method, 'UNAVAILABLE', message, { retryable: true });
}

export function fromErrorShape(method: string, e: GatewayErrorShape | undefined): GatewayRequestError {
  return new GatewayRequestError(method, e?.code ?? 'UNKNOWN', e?.message ?? `${method} failed`, {
    retryable: e?.retryable,
    details: e?.details,
  });
}

export interface RequestOptions {
  timeoutMs?: number;
  expectFinal?: boolean;
  onAccepted?: (payload: unknown) => void;
}

interface Entry {
  method: string;
  params: unknown;
  opts: RequestOptions;
  timeoutMs: number;
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: unknown;
  /** set once sent: the request id the reply will carry */
  id?: string;
}

export interface RequestTable {
  add(method: string, params: unknown, opts: RequestOptions): Promise<unknown>;
  /** resolves when the connection is next live; rejects after timeoutMs or on failAll */
  whenLive(timeoutMs: number): Promise<void>;
  /** the connection is live: send what waits, wake whenLive callers */
  live(): void;
  /** true when the reply settled a request (its promise reactions are pending) */
  onRes(f: ResFrame): boolean;
  /** the socket dropped: its sent requests fail, waiting ones stay */
  dropSent(why: string): void;
  /** nothing will bring the connection back (stopped, or a failure without reconnect) */
  failAll(err: GatewayRequestError): void;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export function createRequestTable(d: {
  clock: Clock;
  log: Logger;
  /** transmits now and returns the request id, or undefined when not live (the request waits) */
  send(method: string, params: unknown): string | undefined;
  /** why a waiting request is still waiting, for its timeout message */
  downDetail(): string;
}): RequestTable {
  const waiting = new Set<Entry>();
  const sent = new Map<string, Entry>();
  const liveWaiters = new Set<{ resolve(): void; reject(e: Error): void; timer: unknown }>();

  function settle(e: Entry): void {
    d.clock.clearTimeout(e.timer);
    waiting.delete(e);
    if (e.id !== undefined) sent.delete(e.id);
  }

  function trySend(e: Entry): boolean {
    const id = d.send(e.method, e.params);
    if (id === undefined) return false;
    e.id = id;
    waiting.delete(e);
    sent.set(id, e);
    return true;
  }

  function timedOut(e: Entry): void {
    settle(e);
    e.reject(
      unavailable(
        e.method,
        e.id === undefined
          ? `${e.method}: the gateway was not live within ${e.timeoutMs}ms (${d.downDetail()})`
          : `${e.method}: no reply from the gateway within ${e.timeoutMs}ms`,
      ),
    );
  }

  return {
    add(method, params, opts) {
      return new Promise((resolve, reject) => {
        const timeoutMs = opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
        const e: Entry = { method, params, opts, timeoutMs, resolve, reject, timer: undefined };
        e.timer = d.clock.setTimeout(() => timedOut(e), timeoutMs);
        if (!trySend(e)) waiting.add(e);
      });
    },
    whenLive(timeoutMs) {
      return new Promise((resolve, reject) => {
        const w = { resolve, reject, timer: undefined as unknown };
        w.timer = d.clock.setTimeout(() => {
          liveWaiters.delete(w);
          reject(
            unavailable('connect', `the gateway was not live within ${timeoutMs}ms (${d.downDetail()})`),
          );
        }, timeoutMs);
        liveWaiters.add(w);
      });
    },
    live() {
      for (const w of liveWaiters) {
        d.clock.clearTimeout(w.timer);
        w.resolve();
      }
      liveWaiters.clear();
      for (const e of [...waiting]) if (!trySend(e)) return;
    },
    onRes(f) {
      const e = sent.get(f.id);
      if (!e) return false; // timed out already, or not ours
      // `agent` answers twice under one id: {status:"accepted"} at once, the outcome at the end
      if (f.ok && e.opts.expectFinal && isObj(f.payload) && f.payload.status === 'accepted') {
        try {
          e.opts.onAccepted?.(f.payload);
        } catch (err) {
          d.log.error({ err, method: e.method }, 'onAccepted listener failed');
        }
        return false;
      }
      settle(e);
      if (f.ok) e.resolve(f.payload);
      else e.reject(fromErrorShape(e.method, f.error));
      return true;
    },
    dropSent(why) {
      for (const e of [...sent.values()]) {
        settle(e);
        e.reject(unavailable(e.method, `${e.method}: connection lost before the reply (${why})`));
      }
    },
    failAll(err) {
      for (const w of liveWaiters) {
        d.clock.clearTimeout(w.timer);
        w.reject(err);
      }
      liveWaiters.clear();
      const all = [...waiting, ...sent.values()];
      for (const e of all) {
        settle(e);
        e.reject(new GatewayRequestError(e.method, err.code, err.message, { retryable: err.retryable }));
      }
    },
  };
}

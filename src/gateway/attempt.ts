/**
 * One WebSocket to the gateway, from open to close: the handshake (connect.challenge → connect →
 * hello-ok, within handshakeMs), then frames routed to the connection, and a tick watchdog that
 * closes a silent socket with 4000. Error, close, timeout and watchdog all end it through one
 * `end`, once; the connection decides whether to try again.
 */
import WebSocket from 'ws';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { ResolvedToken } from '../openclaw/gateway/config-token.js';
import {
  type GatewayErrorShape,
  type GatewayFrame,
  parseFrame,
  type ResFrame,
  requestFrame,
} from '../openclaw/gateway/frames.js';
import {
  connectParams,
  describeConnectFailure,
  type Hello,
  protocolOutOfRange,
  readHello,
} from '../openclaw/gateway/protocol.js';
import type { EventFanout } from './event-fanout.js';

const CLIENT_VERSION = '0.1.0';

export interface AttemptDeps {
  n: number;
  url: string;
  clock: Clock;
  log: Logger;
  handshakeMs: number;
  token: ResolvedToken;
  scopes: readonly string[];
  counters: { frames: number; malformed: number };
  /** event frames once the handshake is done; `skip` is read on every frame (listeners change it) */
  events: Pick<EventFanout, 'skip' | 'deliver'>;
  /** replies to requests sent after the handshake; true when one settled a request's promise */
  onRes(f: ResFrame): boolean;
  onLive(hello: Hello): void;
  /** `refusal`: the gateway's error when it refused our connect; `kind`: what sort of end */
  onEnd(why: string, refusal?: GatewayErrorShape, kind?: EndKind): void;
}

/**
 * Why an attempt ended, for the connection's logging and backoff: `unreachable` (nothing
 * listens: refused, no such host), `auth` (token rejected), `protocol` (no common version),
 * `other` (a drop, a timeout, a close).
 */
export type EndKind = 'unreachable' | 'auth' | 'protocol' | 'other';

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
]);

export interface Attempt {
  readonly n: number;
  /** sends a request frame; false when the socket is not open */
  send(id: string, method: string, params: unknown): boolean;
  /** ends the attempt (no onEnd retry decision is made here) and resolves once the socket closed */
  close(why: string): Promise<void>;
}

/** opens the socket; throws when `ws` cannot even start (a malformed URL) */
export function openAttempt(d: AttemptDeps): Attempt {
  const { clock, counters, events } = d;
  const ws = new WebSocket(d.url, { maxPayload: 64 * 1024 * 1024, perMessageDeflate: false });
  let phase: 'challenge' | 'hello' | 'live' = 'challenge';
  const connectId = `${d.n}.0`; // the connection numbers its own requests from `${n}.1`
  let dead = false;
  let lastFrameAt = clock.now();
  let timer: unknown = clock.setTimeout(() => {
    if (phase !== 'live') end(`no handshake from ${d.url} within ${d.handshakeMs}ms`);
  }, d.handshakeMs);

  function end(why: string, closeCode = 1000, refusal?: GatewayErrorShape, kind: EndKind = 'other'): void {
    if (dead) return;
    dead = true;
    if (timer !== undefined) clock.clearTimeout(timer);
    try {
      if (ws.readyState === WebSocket.OPEN) ws.close(closeCode, why.slice(0, 60));
      else if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    } catch {
      // already closing
    }
    d.onEnd(why, refusal, kind);
  }

  /**
   * Frames that arrived after a reply settled a request wait here until the promise reactions
   * to that reply have run (setImmediate: after every microtask): a caller then sees the reply
   * before the events the gateway sent after it, as it would with callbacks (the gateway source
   * maps the subscribe rows before the events that follow them; dispatch learns a run's outcome
   * before that run's next frames).
   */
  let backlog: string[] | undefined;

  function onMessage(text: string): void {
    if (dead) return;
    counters.frames++;
    lastFrameAt = clock.now();
    if (backlog) backlog.push(text);
    else handle(text);
  }

  function handle(text: string): void {
    // the hot path: most of a busy gateway's frames are events; skip the unwanted before parsing
    if (phase === 'live' && events.skip?.(text)) return;
    const parsed = parseFrame(text);
    if (!parsed.ok) {
      counters.malformed++;
      if (counters.malformed <= 5 || counters.malformed % 1000 === 0) {
        d.log.warn(
          { error: parsed.error, sample: text.slice(0, 200), malformed: counters.malformed },
          'skipped a malformed gateway frame',
        );
      }
      return;
    }
    try {
      onFrame(parsed.frame, text);
    } catch (err) {
      counters.malformed++;
      d.log.warn({ err }, 'could not handle a gateway frame; skipped');
    }
  }

  function holdFrames(): void {
    if (backlog) return;
    backlog = [];
    setImmediate(drain);
  }

  function drain(): void {
    const texts = backlog ?? [];
    backlog = undefined;
    for (let i = 0; i < texts.length; i++) {
      if (dead) return;
      handle(texts[i] as string);
      // another reply settled: the rest waits behind its reactions in turn (handle() may set it)
      const again = backlog as string[] | undefined;
      if (again) {
        for (let j = i + 1; j < texts.length; j++) again.push(texts[j] as string);
        return;
      }
    }
  }

  function onFrame(f: GatewayFrame, text: string): void {
    if (f.type === 'res') {
      if (phase === 'hello' && f.id === connectId) onHello(f);
      else if (phase === 'live' && d.onRes(f)) holdFrames();
      return;
    }
    if (f.type !== 'event') return;
    if (phase === 'live') {
      events.deliver(f, text);
      return;
    }
    if (f.event !== 'connect.challenge' || phase !== 'challenge') return;
    phase = 'hello';
    const params = connectParams({
      token: d.token.token,
      clientVersion: CLIENT_VERSION,
      platform: process.platform,
      scopes: d.scopes,
    });
    ws.send(requestFrame(connectId, 'connect', params));
  }

  function onHello(res: ResFrame): void {
    if (!res.ok) {
      // the connection logs it (once per change, not on every retry)
      const failure = describeConnectFailure(res.error, d.token.origin, d.token.token);
      end(failure.message, 1000, res.error ?? {}, failure.kind);
      return;
    }
    const hello = readHello(res.payload);
    if ('error' in hello) {
      end(hello.error);
      return;
    }
    const bad = protocolOutOfRange(hello.protocol);
    if (bad) {
      end(bad.message, 1000, undefined, 'protocol');
      return;
    }
    phase = 'live';
    armWatchdog(hello.tickIntervalMs);
    d.onLive(hello);
  }

  /** closes (4000) a socket silent for 2 × tickIntervalMs; re-arms on activity */
  function armWatchdog(tickMs: number): void {
    if (timer !== undefined) clock.clearTimeout(timer);
    const limit = 2 * tickMs;
    const check = (): void => {
      if (dead) return;
      const idle = clock.now() - lastFrameAt;
      if (idle >= limit) end(`no tick from the gateway for ${idle}ms (tickIntervalMs ${tickMs})`, 4000);
      else timer = clock.setTimeout(check, limit - idle);
    };
    timer = clock.setTimeout(check, limit);
  }

  ws.on('message', (data, isBinary) => onMessage(isBinary ? String(data) : data.toString()));
  ws.on('error', (err: NodeJS.ErrnoException) => {
    const code = err.code ?? '';
    end(
      code && /^E[A-Z_]+$/.test(code) ? `connect ${code} ${d.url}` : err.message,
      1000,
      undefined,
      UNREACHABLE.has(code) ? 'unreachable' : 'other',
    );
  });
  ws.on('close', (code, reason) => {
    end(`connection closed (${code}${reason.length ? ` ${reason.toString().slice(0, 120)}` : ''})`);
  });

  return {
    n: d.n,
    send(id, method, params) {
      if (dead || phase !== 'live' || ws.readyState !== WebSocket.OPEN) return false;
      ws.send(requestFrame(id, method, params));
      return true;
    },
    async close(why) {
      if (ws.readyState === WebSocket.CLOSED) {
        end(why);
        return;
      }
      const closed = new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        // a safety cap on a peer that never answers the close handshake (not a test wait)
        setTimeout(resolve, 1000).unref();
      });
      end(why);
      await closed;
    },
  };
}

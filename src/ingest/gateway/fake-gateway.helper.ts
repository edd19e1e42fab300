/**
 * Test/bench support: a real `ws` server on 127.0.0.1:0 that behaves like the OpenClaw gateway
 * handshake (connect.challenge → connect → hello-ok → sessions.subscribe) and lets the test
 * push captured frames and answer any other method (`methods`). Also loads the captured frames
 * of test/fixtures/openclaw/<v>/ws-frames.jsonl.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type WebSocket, WebSocketServer } from 'ws';

export interface FixtureFrames {
  hello: Record<string, unknown>;
  subscribe: Record<string, unknown>;
  /** every event frame the gateway sent after the handshake, in order */
  events: Array<Record<string, unknown>>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
export const FIXTURES_DIR = path.resolve(here, '../../../test/fixtures/openclaw');

export function loadFixtureFrames(version: 'v2026.9.6' | 'v2026.7.35'): FixtureFrames {
  const lines = fs
    .readFileSync(path.join(FIXTURES_DIR, version, 'ws-frames.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean);
  const out: FixtureFrames = { hello: {}, subscribe: {}, events: [] };
  const reqMethods = new Map<string, string>();
  for (const line of lines) {
    const { dir, frame } = JSON.parse(line) as { dir: string; frame: Record<string, unknown> };
    if (dir === 'out' && frame.type === 'req') reqMethods.set(String(frame.id), String(frame.method));
    if (dir !== 'in') continue;
    if (frame.type === 'res') {
      const m = reqMethods.get(String(frame.id));
      if (m === 'connect') out.hello = frame.payload as Record<string, unknown>;
      if (m === 'sessions.subscribe') out.subscribe = frame.payload as Record<string, unknown>;
    } else if (frame.type === 'event' && frame.event !== 'connect.challenge') {
      out.events.push(frame);
    }
  }
  return out;
}

export interface FakeConn {
  ws: WebSocket;
  connectParams?: Record<string, unknown>;
  requests: Array<{ method: string; params: unknown }>;
  closeCode?: number;
  closed: Promise<number>;
  live: boolean;
  send(frame: unknown): void;
  sendRaw(text: string): void;
}

/** how a `methods` handler answers; it may answer twice (`agent`: accepted, then the outcome) */
export interface FakeReply {
  ok(payload?: unknown): void;
  /** `extra` goes into the error shape: details, retryable, retryAfterMs */
  error(code: string, message: string, extra?: Record<string, unknown>): void;
}

export type FakeMethod = (
  // biome-ignore lint/suspicious/noExplicitAny: a handler reads whatever params its test sends
  params: any,
  conn: FakeConn,
  reply: FakeReply,
) => void;

/** what the fake serves on its own; hello-ok features.methods lists these and `methods` */
const BUILTIN_METHODS = ['sessions.subscribe', 'sessions.list', 'chat.history'];

export interface FakeGatewayOptions {
  /** the token the server accepts; undefined = any */
  token?: string;
  /** refuses connect number n (1-based) with this error, e.g. a gateway still starting */
  connectError?: (n: number) => Record<string, unknown> | undefined;
  /** the protocol versions the server speaks (default 3-4) */
  protocol?: { min: number; max: number };
  hello?: Record<string, unknown>;
  tickIntervalMs?: number;
  /** sessions.subscribe payload for connection n (1-based) */
  subscribe?: (n: number) => unknown;
  /** sessions.list payload for connection n */
  list?: (n: number) => unknown;
  /** chat.history payload */
  history?: (sessionKey: string, n: number) => unknown;
  /** called when a connection finished the handshake and its subscribe was answered */
  onLive?: (c: FakeConn, n: number) => void;
  /** further methods (after the built-in ones, before the "unknown method" error) */
  methods?: Record<string, FakeMethod>;
}

export interface FakeGateway {
  url: string;
  port: number;
  conns: FakeConn[];
  close(): Promise<void>;
}

export async function startFakeGateway(o: FakeGatewayOptions = {}, port = 0): Promise<FakeGateway> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const conns: FakeConn[] = [];
  const range = o.protocol ?? { min: 3, max: 4 };
  wss.on('connection', (ws) => {
    const n = conns.length + 1;
    let resolveClosed!: (code: number) => void;
    const c: FakeConn = {
      ws,
      requests: [],
      live: false,
      closed: new Promise<number>((r) => {
        resolveClosed = r;
      }),
      send: (f) => ws.readyState === ws.OPEN && ws.send(JSON.stringify(f)),
      sendRaw: (t) => ws.readyState === ws.OPEN && ws.send(t),
    };
    conns.push(c);
    ws.on('close', (code) => {
      c.closeCode = code;
      resolveClosed(code);
    });
    ws.on('message', (data) => {
      const req = JSON.parse(String(data)) as { id: string; method: string; params: Record<string, unknown> };
      c.requests.push({ method: req.method, params: req.params });
      const res = (ok: boolean, body: Record<string, unknown>) =>
        c.send({ type: 'res', id: req.id, ok, ...body });
      if (req.method === 'connect') {
        c.connectParams = req.params;
        const refusal = o.connectError?.(n);
        if (refusal) return res(false, { error: refusal });
        const min = Number(req.params.minProtocol);
        const max = Number(req.params.maxProtocol);
        if (max < range.min || min > range.max) {
          return res(false, {
            error: {
              code: 'INVALID_REQUEST',
              message: 'protocol mismatch',
              details: { minProtocol: range.min, maxProtocol: range.max },
            },
          });
        }
        const auth = req.params.auth as { token?: string } | undefined;
        if (o.token !== undefined && auth?.token !== o.token) {
          return res(false, {
            error: { code: 'UNAUTHORIZED', message: 'unauthorized: gateway token mismatch' },
          });
        }
        const hello: Record<string, unknown> = {
          ...(o.hello ?? { type: 'hello-ok', server: { version: 'fake' } }),
          protocol: Math.min(max, range.max),
        };
        hello.policy = { tickIntervalMs: o.tickIntervalMs ?? 30_000 };
        hello.features = advertise(hello.features, o.methods);
        return res(true, { payload: hello });
      }
      if (req.method === 'sessions.subscribe') {
        res(true, { payload: o.subscribe?.(n) ?? { subscribed: true, list: { sessions: [] } } });
        c.live = true;
        o.onLive?.(c, n);
        return;
      }
      if (req.method === 'sessions.list') {
        return res(true, { payload: o.list?.(n) ?? { sessions: [] } });
      }
      if (req.method === 'chat.history') {
        return res(true, { payload: o.history?.(String(req.params.sessionKey), n) ?? { messages: [] } });
      }
      const handler = o.methods?.[req.method];
      if (handler) {
        return handler(req.params, c, {
          ok: (payload) => res(true, { payload }),
          error: (code, message, extra) => res(false, { error: { ...extra, code, message } }),
        });
      }
      return res(false, { error: { code: 'INVALID_REQUEST', message: `unknown method ${req.method}` } });
    });
    c.send({ type: 'event', event: 'connect.challenge', payload: { nonce: `nonce-${n}`, ts: Date.now() } });
  });
  const addr = wss.address();
  const actualPort = typeof addr === 'object' && addr ? addr.port : port;
  return {
    url: `ws://127.0.0.1:${actualPort}`,
    port: actualPort,
    conns,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of conns) c.ws.terminate();
        wss.close(() => resolve());
      }),
  };
}

/** hello-ok `features`: a captured hello keeps its real method list, plus the test's methods */
function advertise(
  features: unknown,
  methods: Record<string, FakeMethod> | undefined,
): Record<string, unknown> {
  const f = features && typeof features === 'object' ? { ...(features as Record<string, unknown>) } : {};
  const listed = Array.isArray(f.methods) ? (f.methods as string[]) : BUILTIN_METHODS;
  f.methods = [...new Set([...listed, ...Object.keys(methods ?? {})])];
  return f;
}

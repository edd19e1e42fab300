/**
 * What the strict fakes of chat services (fake-slack.ts, fake-discord.ts, fake-telegram.ts)
 * share: a real HTTP server on 127.0.0.1:0 that records every request (raw body, parsed JSON,
 * the status it got) and answers through the fake's handler; a fixed-window rate limit on the
 * fake's clock (pass the test's ManualClock `now` so Retry-After follows the test's time); and
 * injected failures (the next N requests answered 500/503 or dropped).
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRequest {
  method: string;
  /** path without the query */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  raw: Buffer;
  /** the body parsed as JSON, when it is JSON */
  json?: unknown;
  /** the status answered; -1 for a dropped connection */
  status?: number;
  at: number;
}

export interface FakeReply {
  status: number;
  headers?: Record<string, string>;
  /** an object is sent as JSON, a string as text/plain */
  body?: unknown;
}

export interface FakeService {
  url: string;
  received: FakeRequest[];
  /** the next n requests get this status (or their connection dropped) before the handler runs */
  failNext(n: number, mode?: 500 | 502 | 503 | 'drop'): void;
  close(): Promise<void>;
}

export async function startFakeService(
  handle: (req: FakeRequest) => FakeReply,
  now: () => number = Date.now,
): Promise<FakeService> {
  const received: FakeRequest[] = [];
  const faults = { n: 0, mode: 500 as 500 | 502 | 503 | 'drop' };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://fake');
      const raw = Buffer.concat(chunks);
      let json: unknown;
      try {
        json = raw.length ? JSON.parse(raw.toString('utf8')) : undefined;
      } catch {
        json = undefined;
      }
      const rec: FakeRequest = {
        method: req.method ?? '',
        path: u.pathname,
        query: u.searchParams,
        headers: req.headers,
        raw,
        json,
        at: now(),
      };
      received.push(rec);
      if (faults.n > 0) {
        faults.n--;
        if (faults.mode === 'drop') {
          rec.status = -1;
          req.socket.destroy();
          return;
        }
        rec.status = faults.mode;
        res.writeHead(faults.mode, { 'content-type': 'text/plain' });
        res.end('injected failure');
        return;
      }
      const reply = handle(rec);
      rec.status = reply.status;
      const text =
        reply.body === undefined
          ? ''
          : typeof reply.body === 'string'
            ? reply.body
            : JSON.stringify(reply.body);
      const type =
        reply.body === undefined
          ? {}
          : { 'content-type': typeof reply.body === 'string' ? 'text/plain' : 'application/json' };
      res.writeHead(reply.status, { ...type, ...reply.headers });
      res.end(text);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    failNext(n, mode = 500) {
      faults.n = n;
      faults.mode = mode;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** at most `max` requests per key in each `windowMs` window (fixed windows on the fake's clock) */
export function windowLimit(o: { max: number; windowMs: number; now: () => number }) {
  const windows = new Map<string, { start: number; count: number }>();
  return {
    /** counts a request; when over the limit, how long until the window ends */
    hit(key: string): { limited: false } | { limited: true; retryAfterMs: number } {
      const t = o.now();
      let w = windows.get(key);
      if (!w || t >= w.start + o.windowMs) {
        w = { start: t, count: 0 };
        windows.set(key, w);
      }
      if (w.count >= o.max) return { limited: true, retryAfterMs: w.start + o.windowMs - t };
      w.count++;
      return { limited: false };
    },
  };
}

/** the media type of a request, without parameters (charset) */
export function mediaType(req: FakeRequest): string {
  const ct = req.headers['content-type'];
  return (Array.isArray(ct) ? ct[0] : ct)?.split(';')[0]?.trim().toLowerCase() ?? '';
}

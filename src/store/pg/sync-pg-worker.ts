/**
 * The worker thread behind `sync-pg.ts`: holds one `pg` connection and runs the main thread's
 * statements on it, one at a time, in the order they were posted.
 *
 * While the database cannot be reached it answers every statement at once with 'unavailable'
 * and reconnects in the background (backoff 200 ms doubling to 5 s), so the blocked main
 * thread never waits on a dead server. Each connection has a number (`conn`); a statement that
 * names another number (its transaction began on a connection since lost) is refused: the
 * server rolled that transaction back, and its COMMIT on a new connection would "succeed"
 * with nothing in it.
 */
import { workerData } from 'node:worker_threads';
import pg from 'pg';
import { type PgReply, type PgRequest, type PgWorkerData, READY, REPLIES } from './sync-pg-protocol.js';

const data = workerData as PgWorkerData;
const signal = new Int32Array(data.signal);
const port = data.port;

/** int8 (count(*), bigint columns) as numbers: seqs and counts stay far below 2^53 */
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

let client: pg.Client | undefined;
/** the number of the current (or last) connection */
let conn = 0;
/** why the database cannot be reached, while it cannot */
let down: { message: string; code?: string } | undefined;
let connecting: Promise<void> | undefined;
let retryTimer: NodeJS.Timeout | undefined;
let backoffMs = 200;
let closed = false;

/** SQLSTATE classes that mean the connection or the server is gone, not that the SQL is wrong */
const unavailableState = (code: string): boolean =>
  code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300';

function isUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return unavailableState(code);
  // no SQLSTATE: a socket error (ECONNREFUSED, ECONNRESET ...) or "Connection terminated"
  return true;
}

function lose(err: unknown): void {
  const e = err as { message?: string; code?: string };
  down = { message: e.message || String(err), ...(e.code ? { code: e.code } : {}) };
  const c = client;
  client = undefined;
  if (c) {
    c.removeAllListeners('error');
    c.on('error', () => {});
    void c.end().catch(() => {});
  }
  scheduleRetry();
}

function scheduleRetry(): void {
  if (closed || retryTimer || connecting) return;
  retryTimer = setTimeout(() => {
    retryTimer = undefined;
    void connect();
  }, backoffMs);
  backoffMs = Math.min(backoffMs * 2, 5000);
}

function connect(): Promise<void> {
  if (connecting) return connecting;
  const c = new pg.Client({
    connectionString: data.url,
    application_name: data.applicationName,
    connectionTimeoutMillis: data.connectTimeoutMs,
    keepAlive: true,
    types,
  });
  // errors between statements (the server went away): the next statement learns of it
  c.on('error', (err) => {
    if (client === c) lose(err);
  });
  connecting = c
    .connect()
    .then(() => {
      if (closed) {
        void c.end().catch(() => {});
        return;
      }
      client = c;
      conn++;
      down = undefined;
      backoffMs = 200;
    })
    .catch((err: unknown) => {
      c.removeAllListeners('error');
      c.on('error', () => {});
      void c.end().catch(() => {});
      const e = err as { message?: string; code?: string };
      down = { message: e.message || String(err), ...(e.code ? { code: e.code } : {}) };
    })
    .finally(() => {
      connecting = undefined;
      if (!client) scheduleRetry();
    });
  return connecting;
}

function reply(r: PgReply): void {
  port.postMessage(r);
  Atomics.add(signal, REPLIES, 1);
  Atomics.notify(signal, REPLIES);
}

const unavailable = (id: number, message: string, code?: string): PgReply => ({
  id,
  ok: false,
  kind: 'unavailable',
  message,
  ...(code ? { code } : {}),
  conn,
});

/** params as pg wants them: structured clone turned Buffers into plain Uint8Arrays */
const prepare = (params: readonly unknown[]): unknown[] =>
  params.map((p) => (p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p) : p));

async function run(req: PgRequest): Promise<PgReply> {
  switch (req.op) {
    case 'connect':
      if (!client) await connect();
      return client
        ? { id: req.id, ok: true, rows: [], conn }
        : unavailable(req.id, down?.message ?? 'not connected', down?.code);
    case 'reset':
      if (client) lose(new Error('a statement did not answer in time: connection dropped'));
      return { id: req.id, ok: true, rows: [], conn };
    case 'close': {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      const c = client;
      client = undefined;
      if (c) await c.end().catch(() => {});
      return { id: req.id, ok: true, rows: [], conn };
    }
    case 'query': {
      const c = client;
      if (!c) return unavailable(req.id, down?.message ?? 'not connected', down?.code);
      if (req.conn !== undefined && req.conn !== conn)
        return unavailable(req.id, 'the connection was lost during the transaction (rolled back)');
      try {
        const res = await c.query({ text: req.sql, values: prepare(req.params) });
        // a multi-statement text answers an array of results: the last one's rows
        const last = Array.isArray(res) ? res[res.length - 1] : res;
        return { id: req.id, ok: true, rows: (last?.rows ?? []) as Record<string, unknown>[], conn };
      } catch (err) {
        const e = err as { message?: string; code?: string; detail?: string };
        if (isUnavailable(err)) {
          if (client === c) lose(err);
          return unavailable(req.id, e.message || String(err), e.code);
        }
        return {
          id: req.id,
          ok: false,
          kind: 'sql',
          message: e.message || String(err),
          ...(e.code ? { code: e.code } : {}),
          ...(e.detail ? { detail: e.detail } : {}),
          conn,
        };
      }
    }
  }
}

/** statements run one after another; a reset does not wait (it ends the one that hangs) */
let queue: Promise<unknown> = Promise.resolve();
port.on('message', (req: PgRequest) => {
  if (req.op === 'reset') {
    void run(req).then(reply);
    return;
  }
  queue = queue.then(() => run(req).then(reply));
});
Atomics.store(signal, READY, 1);
Atomics.notify(signal, READY);

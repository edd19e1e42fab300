/**
 * A synchronous PostgreSQL client, for a store contract that is synchronous on purpose (the
 * SQLite store's): a worker thread (`sync-pg-worker.ts`) holds the `pg` connection; the main
 * thread posts a statement and blocks on `Atomics.wait` until the worker's reply is there, then
 * takes it with `receiveMessageOnPort`.
 *
 * Nothing blocks long:
 * - every call has a timeout (`timeoutMs`, 5 s by default): past it the call throws
 *   `PgUnavailable` ("PostgreSQL at host:port did not answer in 5 s") and the connection is
 *   dropped (an open transaction with it: the server rolls it back);
 * - while the database cannot be reached, the worker answers `PgUnavailable` at once and
 *   reconnects in the background, with backoff.
 * A statement that fails as SQL throws `PgError` with its SQLSTATE in `.code`.
 *
 * Values cross a structured clone: bigint/int8 columns come back as numbers, json/jsonb as
 * objects, timestamptz as Date, bytea as Uint8Array (not Buffer).
 *
 * The worker file sits next to this module: `.js` in the built dist/, `.ts` under tsx or vitest
 * (`workerEntry`).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { type PgReply, type PgRequest, READY, REPLIES } from './sync-pg-protocol.js';

export interface SyncPg {
  /**
   * One statement (or several separated by ';' without params: the last one's rows); rows as
   * objects. Throws PgUnavailable when the database cannot be reached, PgError (with .code, the
   * SQLSTATE) for SQL errors.
   */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): R[];
  /**
   * BEGIN … COMMIT on one connection, ROLLBACK when fn throws; nested calls reuse the open
   * transaction. `fn` must be synchronous. If the connection is lost inside, the statements
   * after throw PgUnavailable (the server rolled the transaction back).
   */
  transaction<T>(fn: (q: SyncPg) => T): T;
  /** the URL without its password */
  readonly url: string;
  /** host:port (or the socket folder), for messages */
  readonly where: string;
  /** true inside `transaction` */
  inTransaction(): boolean;
  /**
   * the number of the connection the last statement ran on: it changes after a reconnect, so
   * a caller holding session state (an advisory lock) knows to take it again
   */
  connection(): number;
  /** runs `fn` with a longer (or shorter) timeout per call: a migration building an index */
  withTimeout<T>(ms: number, fn: () => T): T;
  close(): void;
}

export interface SyncPgOptions {
  /** how long one call may block (5000 by default) */
  timeoutMs?: number;
  /** shown in pg_stat_activity ('clawpulse' by default) */
  applicationName?: string;
}

/** the database cannot be reached now (refused, gone, timed out): try again later */
export class PgUnavailable extends Error {
  constructor(
    message: string,
    public readonly code?: string,
  ) {
    super(message);
    this.name = 'PgUnavailable';
  }
}

/** a statement PostgreSQL refused; `code` is the SQLSTATE (23505 unique violation ...) */
export class PgError extends Error {
  constructor(
    message: string,
    public readonly code?: string,
    public readonly detail?: string,
  ) {
    super(message);
    this.name = 'PgError';
  }
}

/** a request before it gets its id */
type PgCall = PgRequest extends infer T ? (T extends PgRequest ? Omit<T, 'id'> : never) : never;

export const DEFAULT_PG_TIMEOUT_MS = 5000;
/** how long the worker may take to start (it loads pg, and under tsx compiles itself) */
const BOOT_TIMEOUT_MS = 30_000;

/** the URL without its password, and where it points (host:port or socket folder) */
export function describePgUrl(url: string): { url: string; where: string } {
  try {
    const u = new URL(url);
    const hadPassword = u.password !== '';
    u.password = '';
    const socket = u.searchParams.get('host');
    const host = u.hostname ? decodeURIComponent(u.hostname) : (socket ?? 'localhost');
    const safe = hadPassword ? u.toString() : url;
    return { url: safe, where: `${host}:${u.port || '5432'}` };
  } catch {
    return { url: url.replace(/:[^:@/]*@/, '@'), where: 'an unparsable URL' };
  }
}

/**
 * The worker next to this module. Built (dist/, `.js`) it is loaded as is. Under tsx or vitest
 * (`.ts`), Node 20 does not apply tsx's hooks to a worker's entry even with `--import tsx`
 * (ERR_UNKNOWN_FILE_EXTENSION), so a small bootstrap registers tsx in the worker first.
 */
function workerEntry(): { entry: URL | string; eval: boolean } {
  if (!import.meta.url.endsWith('.ts'))
    return { entry: new URL('./sync-pg-worker.js', import.meta.url), eval: false };
  const target = new URL('./sync-pg-worker.ts', import.meta.url).href;
  // tsx's ESM build of its API (its CommonJS build cannot load from an eval'd worker)
  const cjs = createRequire(import.meta.url).resolve('tsx/esm/api');
  const mjs = cjs.replace(/\.cjs$/, '.mjs');
  const api = existsSync(mjs) ? pathToFileURL(mjs).href : 'tsx/esm/api';
  const code = `import(${JSON.stringify(api)}).then((t) => { t.register(); return import(${JSON.stringify(target)}); });`;
  return { entry: code, eval: true };
}

export function openSyncPg(url: string, opts: SyncPgOptions = {}): SyncPg {
  let timeoutMs = opts.timeoutMs ?? DEFAULT_PG_TIMEOUT_MS;
  const { url: safeUrl, where } = describePgUrl(url);
  const signalBuf = new SharedArrayBuffer(8);
  const signal = new Int32Array(signalBuf);
  const { port1: port, port2 } = new MessageChannel();
  const entry = workerEntry();
  const worker = new Worker(entry.entry, {
    eval: entry.eval,
    workerData: {
      url,
      applicationName: opts.applicationName ?? 'clawpulse',
      connectTimeoutMs: timeoutMs,
      port: port2,
      signal: signalBuf,
    },
    transferList: [port2],
  });
  worker.unref();
  /** set when the worker died (seen only when the main thread's event loop runs) */
  let dead: string | undefined;
  worker.on('error', (err) => {
    dead = err.message;
  });
  worker.on('exit', (code) => {
    dead ??= `exited with code ${code}`;
  });
  let nextId = 0;
  let closed = false;
  let lastConn = 0;
  /** the connection the open transaction began on */
  let txConn: number | undefined;

  const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`;

  /** blocks until the reply to `id` is there, or `ms` passed (undefined) */
  function waitFor(id: number, ms: number): PgReply | undefined {
    const deadline = Date.now() + ms;
    for (;;) {
      for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
        const r = m.message as PgReply;
        if (r.id === id) return r;
      }
      // read the counter, then look again: a reply posted in between changed the counter
      const seen = Atomics.load(signal, REPLIES);
      const m = receiveMessageOnPort(port);
      if (m) {
        const r = m.message as PgReply;
        if (r.id === id) return r;
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      Atomics.wait(signal, REPLIES, seen, left);
    }
  }

  function call(req: PgCall, ms: number = timeoutMs): PgReply {
    if (closed) throw new PgUnavailable(`PostgreSQL client for ${safeUrl} is closed`);
    if (dead) throw new PgUnavailable(`PostgreSQL client for ${safeUrl}: its worker ${dead}`);
    const id = ++nextId;
    port.postMessage({ ...req, id } as PgRequest);
    const r = waitFor(id, ms);
    if (!r) {
      // the statement may still run: drop the connection so it cannot commit later
      port.postMessage({ id: ++nextId, op: 'reset' } satisfies PgRequest);
      throw new PgUnavailable(`PostgreSQL at ${where} did not answer in ${seconds(ms)}`, 'ETIMEDOUT');
    }
    lastConn = r.conn;
    return r;
  }

  function fail(r: Extract<PgReply, { ok: false }>): never {
    if (r.kind === 'unavailable')
      throw new PgUnavailable(`PostgreSQL at ${where} is unavailable: ${r.message}`, r.code);
    throw new PgError(r.message, r.code, r.detail);
  }

  function query<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): R[] {
    const r = call({
      op: 'query',
      sql,
      params,
      ...(txConn !== undefined ? { conn: txConn } : {}),
    });
    if (!r.ok) fail(r);
    return r.rows as R[];
  }

  const self: SyncPg = {
    url: safeUrl,
    where,
    query,
    transaction<T>(fn: (q: SyncPg) => T): T {
      if (txConn !== undefined) return fn(self);
      const begin = call({ op: 'query', sql: 'BEGIN', params: [] });
      if (!begin.ok) fail(begin);
      txConn = begin.conn;
      try {
        const out = fn(self);
        query('COMMIT');
        return out;
      } catch (err) {
        try {
          query('ROLLBACK');
        } catch {
          // the connection is gone (the server rolled back) or the ROLLBACK timed out (reset)
        }
        throw err;
      } finally {
        txConn = undefined;
      }
    },
    inTransaction: () => txConn !== undefined,
    connection: () => lastConn,
    withTimeout(ms, fn) {
      const before = timeoutMs;
      timeoutMs = ms;
      try {
        return fn();
      } finally {
        timeoutMs = before;
      }
    },
    close() {
      if (closed) return;
      try {
        if (!dead) {
          const id = ++nextId;
          port.postMessage({ id, op: 'close' } satisfies PgRequest);
          waitFor(id, timeoutMs);
        }
      } finally {
        closed = true;
        port.close();
        void worker.terminate();
      }
    },
  };

  // the worker listens before anything is posted, then connects once: a wrong URL, a refused
  // password or a server that is not there fails here, with its reason
  if (Atomics.wait(signal, READY, 0, BOOT_TIMEOUT_MS) === 'timed-out' && Atomics.load(signal, READY) !== 1) {
    void worker.terminate();
    throw new PgUnavailable(`PostgreSQL client for ${safeUrl}: its worker did not start in 30 s`);
  }
  const first = call({ op: 'connect' }, timeoutMs + 1000);
  if (!first.ok) {
    closed = true;
    port.close();
    void worker.terminate();
    fail(first);
  }
  return self;
}

/**
 * The dashboard's live stream (Server-Sent Events).
 *
 * A client gets a `snapshot` (every live session's summary, the first page of the list, the
 * whole model's counts and a cursor for the rest: `session-list.ts`), then one `pulse` message
 * per stored event (`id:` = store seq) and `sessions` messages with the summaries that changed
 * (and the counts, at most twice a second).
 *
 * Every client is served from the store by seq, at its own pace: it has a cursor (the last
 * seq it was sent), and when its socket wants more (the stream's `pull`) it gets the next
 * frames after the cursor, at most `chunkBytes` at a time, from a cache of encoded pages
 * shared by all clients (`sse-pages.ts`). So a client that falls behind (a burst, a slow
 * link, a resume with Last-Event-ID) costs a cursor and one chunk in memory, never a queue
 * that grows, and it is never dropped for being behind: it reads on from the store and
 * catches up. Only a client that reads nothing for `stallMs` (60 s) while it has data waiting
 * is closed (its socket reset, so the kernel frees what it holds too).
 *
 * The pipeline listener does O(1) work per batch (it notes the changed sessions and asks for
 * a turn); encoding and writing happen in the hub's turns. A turn serves each waiting client
 * once (round robin) and measures what it cost, socket writes included. While the rest of the
 * process is busy (an ingest burst), turns are spaced so that the stream takes at most
 * `minShare` (10 %) of the time: ingest keeps its pace and the clients catch up from the store
 * afterwards. When the process is otherwise idle the turns run back to back.
 */
import { performance } from 'node:perf_hooks';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { Pipeline, PipelineUpdate } from '../pipeline.js';
import type { EventStore } from '../store/event-store.js';
import { DEFAULT_PAGE, snapshotSessions, totalsOf } from './session-list.js';
import { createPageCache } from './sse-pages.js';
import { type SessionsMessage, type SessionTotals, type SnapshotMessage, summaryOf } from './summary.js';

export interface SseHubOptions {
  pipeline: Pipeline;
  store: EventStore;
  clock: Clock;
  logger: Logger;
  maxClients: number;
  maxAgeMs: number;
  heartbeatMs?: number;
  /** bytes handed to one client at a time (its whole in-memory queue): 128 KiB */
  chunkBytes?: number;
  /** a client that has read nothing for this long while data waits for it is closed: 60 s */
  stallMs?: number;
  /** how often stalled clients are looked for: 5 s */
  stallCheckMs?: number;
  /** events per page of the shared frame cache (and per store read): 256 */
  replayPageSize?: number;
  /** the shared frame cache's size: 16 MiB */
  cacheBytes?: number;
  /** a resume further back than this is cut: a `gap` message says what was skipped */
  maxReplay?: number;
  /** reconnect delay hint sent to browsers (ms) */
  retryMs?: number;
  /** events sent with the snapshot for the live feed */
  recentEvents?: number;
  /** rows of the list the snapshot carries besides the live sessions (200); the rest are paged */
  snapshotPage?: number;
  /** the share of a busy process the stream may take (0.05) */
  minShare?: number;
  /** bytes per client and turn while the process is busy (16 KiB: the socket takes them at once) */
  busyChunkBytes?: number;
  /** bytes one turn hands out, all clients together (2 MiB): a turn costs milliseconds, not more */
  turnBytes?: number;
  /** for the max-age jitter (tests pin it) */
  random?: () => number;
}

export interface SseStats {
  clients: number;
  accepted: number;
  rejected: number;
  /** clients closed because they read nothing for the stall limit while data waited */
  droppedSlow: number;
  closedAge: number;
  badLastEventId: number;
  /** clients whose cursor is behind the store (catching up) */
  behind: number;
  /** bytes handed to clients and not yet taken by their sockets, all clients together */
  queuedBytes: number;
  /** the shared frame cache */
  cacheBytes: number;
  storeReads: number;
}

export interface SseHub {
  /**
   * answers one GET /api/stream request (503 JSON at the client cap). `socket` (the Node
   * response, when served by @hono/node-server) lets a stalled client be cut at once.
   */
  handle(req: Request, socket?: SseSocket): Response;
  stats(): SseStats;
  /** stops accepting and ends every stream with a retry hint (browsers reconnect to the next daemon) */
  closeAll(): void;
  /** stops listening to the pipeline */
  dispose(): void;
}

/** the parts of a Node ServerResponse the hub uses */
export interface SseSocket {
  destroy(): void;
  writableFinished?: boolean;
  socket?: { resetAndDestroy?: () => void } | null;
}

interface Client {
  id: number;
  controller: ReadableStreamDefaultController<Uint8Array>;
  /** seq of the last event handed to it */
  cursor: number;
  /** its socket asked for more (pull) and has been given nothing since */
  wants: boolean;
  /** when it was last given something it has not asked past yet (clock ms) */
  busySince: number;
  /** sessions changed that it has not been sent (it was busy or behind) */
  pending: Set<string>;
  closed: boolean;
  ageTimer: unknown;
  socket?: SseSocket;
}

const enc = new TextEncoder();
const MAX_PACE_MS = 1000;
/** the counts every `sessions` message may carry are walked at most this often */
const TOTALS_EVERY_MS = 500;

/**
 * How long the stream waits after a turn that cost `costMs` while the rest of the process was
 * busy `othersBusy` (0..1) of the time: the stream takes what the others leave, and at least
 * `minShare` of a busy process.
 */
export function paceDelayMs(costMs: number, othersBusy: number, minShare: number): number {
  const share = Math.min(1, Math.max(minShare, 1 - othersBusy));
  return share >= 1 ? 0 : (costMs * (1 - share)) / share;
}

export function createSseHub(o: SseHubOptions): SseHub {
  const heartbeatMs = o.heartbeatMs ?? 15_000;
  const chunkBytes = o.chunkBytes ?? 128 * 1024;
  const stallMs = o.stallMs ?? 60_000;
  const stallCheckMs = o.stallCheckMs ?? 5000;
  const maxReplay = o.maxReplay ?? 100_000;
  const retryMs = o.retryMs ?? 2000;
  const recentEvents = o.recentEvents ?? 50;
  const snapshotPage = o.snapshotPage ?? DEFAULT_PAGE;
  const minShare = o.minShare ?? 0.05;
  const busyChunkBytes = Math.min(chunkBytes, o.busyChunkBytes ?? 16 * 1024);
  const turnBytes = o.turnBytes ?? 2 * 1024 * 1024;
  const cache = createPageCache(o.store, o.replayPageSize ?? 256, o.cacheBytes ?? 16 * 1024 * 1024);
  const clients = new Set<Client>();
  const stats = { accepted: 0, rejected: 0, droppedSlow: 0, closedAge: 0, badLastEventId: 0 };
  let nextId = 1;
  let heartbeat: unknown;
  let stallTimer: unknown;
  let accepting = true;
  /** sessions changed since the last turn */
  let dirty = new Set<string>();

  /** the whole model's counts: a walk over every session, so at most every TOTALS_EVERY_MS */
  let totals: SessionTotals | undefined;
  let totalsAt = Number.NEGATIVE_INFINITY;
  /** a frame went out without fresh totals: a later turn sends them */
  let totalsOwed = false;
  let totalsTimer: unknown;
  const freshTotals = (): SessionTotals => {
    totals = totalsOf(o.pipeline.tracker.briefs());
    totalsAt = o.clock.now();
    totalsOwed = false;
    return totals;
  };
  /** totals when due; else none, and a turn later sends them */
  const dueTotals = (): SessionTotals | undefined => {
    const wait = totalsAt + TOTALS_EVERY_MS - o.clock.now();
    if (wait <= 0) return freshTotals();
    totalsOwed = true;
    if (totalsTimer === undefined) {
      totalsTimer = o.clock.setTimeout(() => {
        totalsTimer = undefined;
        if (totalsOwed) requestTurn();
      }, wait);
    }
    return undefined;
  };

  const sessionsFrame = (keys: Iterable<string>, withTotals?: SessionTotals): string => {
    const now = o.clock.now();
    const sessions = [];
    const removed: string[] = [];
    for (const k of keys) {
      const b = o.pipeline.tracker.brief(k);
      // not in the model (any more): it left the live view (`PipelineUpdate.removed`)
      if (b) sessions.push(summaryOf(b, now));
      else removed.push(k);
    }
    if (!sessions.length && !removed.length && !withTotals) return '';
    const msg: SessionsMessage = removed.length ? { now, sessions, removed } : { now, sessions };
    if (withTotals) msg.totals = withTotals;
    return `event: sessions\ndata: ${JSON.stringify(msg)}\n\n`;
  };

  function remove(c: Client): void {
    if (c.closed) return;
    c.closed = true;
    clients.delete(c);
    o.clock.clearTimeout(c.ageTimer);
    if (!clients.size) {
      if (heartbeat !== undefined) o.clock.clearTimeout(heartbeat);
      if (stallTimer !== undefined) o.clock.clearTimeout(stallTimer);
      heartbeat = undefined;
      stallTimer = undefined;
      cache.clear();
      dirty = new Set();
      if (totalsTimer !== undefined) o.clock.clearTimeout(totalsTimer);
      totalsTimer = undefined;
      totalsOwed = false;
    }
  }

  /** hands bytes to a client's stream; it asks for more when its socket has taken them */
  function give(c: Client, bytes: Uint8Array): void {
    if (c.closed || !bytes.byteLength) return;
    try {
      c.controller.enqueue(bytes);
    } catch {
      remove(c);
      return;
    }
    if (c.wants) {
      c.wants = false;
      c.busySince = o.clock.now();
    }
  }

  /** ends a stream politely: the retry hint makes the browser come back after retryMs */
  function end(c: Client): void {
    if (c.closed) return;
    try {
      c.controller.enqueue(enc.encode(`retry: ${retryMs}\n\n`));
      c.controller.close();
    } catch {
      /* already gone */
    }
    const socket = c.socket;
    remove(c);
    // a client that never reads its last bytes is cut after the stall limit
    if (socket) {
      o.clock.setTimeout(() => {
        if (!socket.writableFinished) cut(socket);
      }, stallMs);
    }
  }

  function cut(socket: SseSocket): void {
    try {
      // a reset frees the kernel's buffers too (a closed socket would wait on them)
      if (socket.socket?.resetAndDestroy) socket.socket.resetAndDestroy();
      else socket.destroy();
    } catch {
      /* already closed */
    }
  }

  function dropStalled(c: Client): void {
    stats.droppedSlow++;
    o.logger.warn({ client: c.id, behind: o.store.lastSeq() - c.cursor }, 'closing stalled SSE client');
    remove(c);
    if (c.socket) cut(c.socket);
    else {
      try {
        c.controller.error(new Error('stalled client closed'));
      } catch {
        /* already closed */
      }
    }
  }

  function scheduleTimers(): void {
    if (heartbeat === undefined && clients.size) {
      heartbeat = o.clock.setTimeout(() => {
        heartbeat = undefined;
        // only to clients waiting for data: the others have bytes on their way already
        const bytes = enc.encode(`: hb ${o.clock.now()}\n\n`);
        for (const c of [...clients]) if (c.wants) give(c, bytes);
        scheduleTimers();
      }, heartbeatMs);
    }
    if (stallTimer === undefined && clients.size) {
      stallTimer = o.clock.setTimeout(() => {
        stallTimer = undefined;
        const now = o.clock.now();
        for (const c of [...clients]) {
          if (!c.wants && now - c.busySince >= stallMs) dropStalled(c);
        }
        scheduleTimers();
      }, stallCheckMs);
    }
  }

  // ---- turns: serve every client that wants more, once, then pace -------------------------

  let turnPending = false;
  let paceMs = 0;
  let lastTurnEnd = performance.now();
  let eluMark = performance.eventLoopUtilization();
  /** round robin: the client served first in the next turn */
  let rotate = 0;
  /** the store's last seq at the last turn */
  let lastTop = 0;

  /** a turn was asked for while one ran (its writes are still being counted) */
  let again = false;
  /** this turn could not read the store */
  let failed = false;

  function requestTurn(): void {
    if (!clients.size) return;
    if (turnPending) {
      again = true;
      return;
    }
    turnPending = true;
    const wait = lastTurnEnd + paceMs - performance.now();
    if (wait > 0.5) setTimeout(turn, wait).unref();
    else setImmediate(turn);
  }

  /** one turn's work; true when a client is still behind */
  function serve(othersBusy: number): boolean {
    let more = false;
    const top = o.store.lastSeq();
    if (top < lastTop) {
      // the store went back (replaced): what the cache and the cursors say is about another one
      cache.clear();
      for (const c of [...clients]) if (c.cursor > top) end(c); // they come back and start fresh
    }
    lastTop = top;

    let shared: { bytes: Uint8Array; keys: string[] } | undefined;
    if (dirty.size || (totalsOwed && o.clock.now() - totalsAt >= TOTALS_EVERY_MS)) {
      const keys = [...dirty];
      dirty = new Set();
      shared = { bytes: enc.encode(sessionsFrame(keys, dueTotals())), keys };
    }
    const list = [...clients];
    const n = list.length;
    let given = 0;
    let nextRotate = n ? (rotate + 1) % n : 0;
    let full = false;
    for (let j = 0; j < n; j++) {
      const c = list[(rotate + j) % n] as Client;
      if (c.closed) continue;
      if (!c.wants || full) {
        if (shared) for (const k of shared.keys) c.pending.add(k);
        continue;
      }
      if (given >= turnBytes) {
        // this turn has handed out enough: the rest go first in the next one
        full = true;
        nextRotate = (rotate + j) % n;
        more = true;
        if (shared) for (const k of shared.keys) c.pending.add(k);
        continue;
      }
      if (c.cursor < top) {
        let slice: ReturnType<typeof cache.after>;
        try {
          slice = cache.after(c.cursor, othersBusy > 0.5 ? busyChunkBytes : chunkBytes);
        } catch (err) {
          // the store cannot be read now: try again on the next turn
          o.logger.error({ err }, 'SSE: reading the store failed');
          failed = true;
          more = true;
          continue;
        }
        if (slice) {
          give(c, slice.chunk);
          given += slice.chunk.byteLength;
          c.cursor = slice.last;
        } else c.cursor = top; // nothing stored after it (holes): it is caught up
      }
      if (c.cursor >= top) {
        // caught up: what changed while it was behind or busy, then this turn's changes
        if (c.pending.size) {
          const text = sessionsFrame(c.pending, totals ?? freshTotals());
          c.pending.clear();
          if (text) give(c, enc.encode(text));
        }
        if (shared) give(c, shared.bytes);
      } else {
        if (shared) for (const k of shared.keys) c.pending.add(k);
        more = true;
      }
    }
    rotate = nextRotate;
    return more;
  }

  function turn(): void {
    again = false;
    failed = false;
    if (!clients.size) {
      turnPending = false;
      return;
    }
    const t0 = performance.now();
    // how busy the rest of the process was since the last turn ended
    const gap = performance.eventLoopUtilization(eluMark);
    const othersBusy = t0 - lastTurnEnd >= 1 ? gap.utilization : 0;
    let more = false;
    try {
      more = serve(othersBusy);
    } catch (err) {
      o.logger.error({ err }, 'SSE turn failed');
      failed = true;
      more = true;
    }
    // the stream writes the chunks in microtasks after this turn and the socket's uncork in
    // a tick after those: count them too
    queueMicrotask(() =>
      process.nextTick(() => {
        const now = performance.now();
        // never so long that live clients wait seconds for their events
        // (and a failing store is tried again once a second, not in a loop)
        paceMs = failed ? MAX_PACE_MS : Math.min(MAX_PACE_MS, paceDelayMs(now - t0, othersBusy, minShare));
        lastTurnEnd = now;
        eluMark = performance.eventLoopUtilization();
        turnPending = false;
        if (more || again) requestTurn();
      }),
    );
  }

  const unsubscribe = o.pipeline.subscribe((u: PipelineUpdate) => {
    if (!clients.size) return;
    for (const s of u.changed) dirty.add(s.key);
    if (u.removed) for (const k of u.removed) dirty.add(k);
    requestTurn();
  });

  /**
   * 90–100 % of the max age: clients that connected together (after a restart) do not all
   * reconnect in the same instant an hour later; never more than SSE_MAX_AGE_S
   */
  function ageLimit(): number {
    return Math.round(o.maxAgeMs * (0.9 + 0.1 * (o.random ?? Math.random)()));
  }

  function parseAfter(req: Request): number | undefined {
    const raw = req.headers.get('last-event-id') ?? new URL(req.url).searchParams.get('after');
    if (raw === null || raw === '') return undefined;
    if (!/^\d{1,15}$/.test(raw.trim())) {
      stats.badLastEventId++;
      o.logger.debug('ignoring malformed Last-Event-ID');
      return undefined;
    }
    return Number(raw.trim());
  }

  function handle(req: Request, socket?: SseSocket): Response {
    if (!accepting) {
      // shutting down: the browser's retry reaches the next daemon
      return new Response(
        JSON.stringify({
          error: { code: 'shutting_down', message: 'the daemon is stopping', retryAfterS: 1 },
        }),
        {
          status: 503,
          headers: { 'content-type': 'application/json', 'retry-after': '1' },
        },
      );
    }
    if (clients.size >= o.maxClients) {
      stats.rejected++;
      const retryAfterS = 5;
      return new Response(
        JSON.stringify({
          error: { code: 'too_many_clients', message: 'too many stream clients; retry later', retryAfterS },
        }),
        { status: 503, headers: { 'content-type': 'application/json', 'retry-after': String(retryAfterS) } },
      );
    }
    const lastSeq = o.store.lastSeq();
    let after = parseAfter(req);
    if (after !== undefined && after > lastSeq) after = undefined; // another store: start fresh
    const now = o.clock.now();
    let client!: Client;
    const stream = new ReadableStream<Uint8Array>(
      {
        start(controller) {
          client = {
            id: nextId++,
            controller,
            cursor: lastSeq,
            wants: false,
            busySince: now,
            pending: new Set(),
            closed: false,
            ageTimer: undefined,
          };
          // the live sessions and the list's first page; the rest from /api/sessions pages
          const first = snapshotSessions(o.pipeline.tracker.briefs(), snapshotPage, now);
          totals = first.totals;
          totalsAt = now;
          const snap: SnapshotMessage = {
            now,
            lastSeq,
            sessions: first.sessions,
            nextCursor: first.nextCursor,
            totals: first.totals,
            recent:
              after === undefined ? o.store.readAfter(Math.max(0, lastSeq - recentEvents), recentEvents) : [],
          };
          // a fresh snapshot carries the id so a reconnect resumes after it; a resume keeps the
          // browser's id until the first pulse moves it
          let text = `retry: ${retryMs}\n${after === undefined ? `id: ${lastSeq}\n` : ''}event: snapshot\ndata: ${JSON.stringify(snap)}\n\n`;
          if (after !== undefined && after < lastSeq) {
            client.cursor = after;
            if (lastSeq - after > maxReplay) {
              client.cursor = lastSeq - maxReplay;
              text += `event: gap\ndata: ${JSON.stringify({ from: after + 1, to: client.cursor })}\n\n`;
            }
          }
          controller.enqueue(enc.encode(text));
        },
        pull() {
          if (client.closed) return;
          client.wants = true;
          requestTurn();
        },
        cancel() {
          remove(client);
        },
      },
      { highWaterMark: 0, size: (chunk) => chunk.byteLength },
    );
    client.socket = socket;
    clients.add(client);
    stats.accepted++;
    client.ageTimer = o.clock.setTimeout(() => {
      stats.closedAge++;
      end(client);
    }, ageLimit());
    req.signal?.addEventListener('abort', () => remove(client), { once: true });
    scheduleTimers();
    return new Response(stream, {
      status: 200,
      headers: {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      },
    });
  }

  return {
    handle,
    stats: () => {
      const top = o.store.lastSeq();
      let behind = 0;
      let queuedBytes = 0;
      for (const c of clients) {
        if (c.cursor < top) behind++;
        queuedBytes += Math.max(0, -(c.controller.desiredSize ?? 0));
      }
      const cs = cache.stats();
      return {
        clients: clients.size,
        ...stats,
        behind,
        queuedBytes,
        cacheBytes: cs.bytes,
        storeReads: cs.storeReads,
      };
    },
    closeAll() {
      accepting = false;
      for (const c of [...clients]) end(c);
    },
    dispose() {
      accepting = false;
      unsubscribe();
      for (const c of [...clients]) end(c);
    },
  };
}

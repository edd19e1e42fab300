/**
 * The dashboard's live stream (Server-Sent Events).
 *
 * A client gets a `snapshot` (every session's summary), then one `pulse` message per stored
 * event (`id:` = store seq) and a `sessions` message with the summaries that changed.
 * Resuming (Last-Event-ID header or `?after=`) replays from the store, then goes live: the
 * replay is pulled page by page only when the socket wants more, and the switch to live
 * happens in the same synchronous step as the last store read, so nothing is missed or sent
 * twice. The pipeline listener only enqueues pre-encoded bytes; a client whose queue grows
 * past `maxBufferBytes` (it stopped reading) is dropped instead of slowing ingest.
 */
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { StoredEvent } from '../model/events.js';
import type { Pipeline, PipelineUpdate } from '../pipeline.js';
import type { EventStore } from '../store/event-store.js';
import { type SessionsMessage, type SnapshotMessage, toSummary } from './summary.js';

export interface SseHubOptions {
  pipeline: Pipeline;
  store: EventStore;
  clock: Clock;
  logger: Logger;
  maxClients: number;
  maxAgeMs: number;
  heartbeatMs?: number;
  /** queued bytes past which a client that stopped reading is dropped */
  maxBufferBytes?: number;
  /** events per replay page */
  replayPageSize?: number;
  /** a resume further back than this is cut: a `gap` message says what was skipped */
  maxReplay?: number;
  /** reconnect delay hint sent to browsers (ms) */
  retryMs?: number;
  /** events sent with the snapshot for the live feed */
  recentEvents?: number;
  /** for the max-age jitter (tests pin it) */
  random?: () => number;
}

export interface SseStats {
  clients: number;
  accepted: number;
  rejected: number;
  droppedSlow: number;
  closedAge: number;
  badLastEventId: number;
}

export interface SseHub {
  /**
   * answers one GET /api/stream request (503 JSON at the client cap). `socket` (the Node
   * response, when served by @hono/node-server) lets a slow client be cut at once.
   */
  handle(req: Request, socket?: { destroy(): void }): Response;
  stats(): SseStats;
  /** stops accepting and ends every stream with a retry hint (browsers reconnect to the next daemon) */
  closeAll(): void;
  /** stops listening to the pipeline */
  dispose(): void;
}

interface Client {
  id: number;
  controller: ReadableStreamDefaultController<Uint8Array>;
  mode: 'replay' | 'live';
  cursor: number;
  /** sessions changed while replaying: sent when the client goes live */
  pending: Set<string>;
  closed: boolean;
  ageTimer: unknown;
  socket?: { destroy(): void };
}

const enc = new TextEncoder();

export function createSseHub(o: SseHubOptions): SseHub {
  const heartbeatMs = o.heartbeatMs ?? 15_000;
  const maxBufferBytes = o.maxBufferBytes ?? 4 * 1024 * 1024;
  const pageSize = o.replayPageSize ?? 200;
  const maxReplay = o.maxReplay ?? 10_000;
  const retryMs = o.retryMs ?? 2000;
  const recentEvents = o.recentEvents ?? 50;
  const clients = new Set<Client>();
  const stats: Omit<SseStats, 'clients'> = {
    accepted: 0,
    rejected: 0,
    droppedSlow: 0,
    closedAge: 0,
    badLastEventId: 0,
  };
  let nextId = 1;
  let heartbeat: unknown;
  /** clients still replaying (so the listener skips its per-client loop when there are none) */
  let replaying = 0;
  let accepting = true;

  const pulseFrame = (s: StoredEvent) =>
    `id: ${s.seq}\nevent: pulse\ndata: ${JSON.stringify({ seq: s.seq, event: s.event })}\n\n`;
  const sessionsFrame = (keys: Iterable<string>): string => {
    const now = o.clock.now();
    const sessions = [];
    const removed: string[] = [];
    for (const k of keys) {
      const s = o.pipeline.tracker.get(k);
      // not in the model (any more): it left the live view (`PipelineUpdate.removed`)
      if (s) sessions.push(toSummary(s, now));
      else removed.push(k);
    }
    if (!sessions.length && !removed.length) return '';
    const msg: SessionsMessage = removed.length ? { now, sessions, removed } : { now, sessions };
    return `event: sessions\ndata: ${JSON.stringify(msg)}\n\n`;
  };

  function remove(c: Client): void {
    if (c.closed) return;
    c.closed = true;
    if (c.mode === 'replay') replaying--;
    clients.delete(c);
    o.clock.clearTimeout(c.ageTimer);
    if (!clients.size && heartbeat !== undefined) {
      o.clock.clearTimeout(heartbeat);
      heartbeat = undefined;
    }
  }

  /** enqueues bytes; drops the client when it has stopped reading */
  function send(c: Client, bytes: Uint8Array): void {
    if (c.closed) return;
    try {
      c.controller.enqueue(bytes);
    } catch {
      remove(c);
      return;
    }
    if ((c.controller.desiredSize ?? 0) < -maxBufferBytes) {
      stats.droppedSlow++;
      o.logger.warn(
        { client: c.id, queuedBytes: -(c.controller.desiredSize ?? 0) },
        'dropping slow SSE client',
      );
      remove(c);
      try {
        // destroying the socket frees the queue at once; without one, erroring the stream does
        if (c.socket) c.socket.destroy();
        else c.controller.error(new Error('slow client dropped'));
      } catch {
        /* already closed */
      }
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
    remove(c);
  }

  function scheduleHeartbeat(): void {
    if (heartbeat !== undefined || !clients.size) return;
    heartbeat = o.clock.setTimeout(() => {
      heartbeat = undefined;
      const bytes = enc.encode(`: hb ${o.clock.now()}\n\n`);
      for (const c of [...clients]) send(c, bytes);
      scheduleHeartbeat();
    }, heartbeatMs);
  }

  /** one replay page; called when the consumer wants more. Goes live when caught up. */
  function replayStep(c: Client): void {
    if (c.closed || c.mode !== 'replay') return;
    const page = o.store.readAfter(c.cursor, pageSize);
    let text = '';
    for (const s of page) text += pulseFrame(s);
    const last = page[page.length - 1];
    if (last) c.cursor = last.seq;
    if (page.length < pageSize || c.cursor >= o.store.lastSeq()) {
      // caught up: from here the listener delivers; same synchronous step as the read above
      c.mode = 'live';
      replaying--;
      text += sessionsFrame(c.pending);
      c.pending.clear();
    }
    if (text) send(c, enc.encode(text));
  }

  // Live updates are batched: the listener appends to one shared list (O(1), whatever the
  // number of clients) and a flush at the end of the I/O turn encodes the batch once, with one
  // summary per changed session, and enqueues one chunk per client.
  let batch: Array<{ seq: number; frame: string }> = [];
  let batchKeys = new Set<string>();
  let flushScheduled = false;

  function flush(): void {
    flushScheduled = false;
    const events = batch;
    const keys = batchKeys;
    batch = [];
    batchKeys = new Set();
    if (!clients.size) return;
    const tail = sessionsFrame(keys);
    let shared: Uint8Array | undefined;
    const firstSeq = events[0]?.seq ?? Number.POSITIVE_INFINITY;
    const lastSeq = events[events.length - 1]?.seq;
    for (const c of [...clients]) {
      if (c.mode === 'replay') continue; // the replay reads these from the store
      if (firstSeq <= c.cursor) {
        // joined (or finished replaying) after part of this batch was stored: skip what it has
        const text =
          events
            .filter((e) => e.seq > c.cursor)
            .map((e) => e.frame)
            .join('') + tail;
        if (text) send(c, enc.encode(text));
      } else {
        shared ??= enc.encode(events.map((e) => e.frame).join('') + tail);
        if (shared.byteLength) send(c, shared);
      }
      if (lastSeq !== undefined) c.cursor = Math.max(c.cursor, lastSeq);
    }
  }

  const unsubscribe = o.pipeline.subscribe((u: PipelineUpdate) => {
    if (!clients.size) return;
    for (const s of u.events) batch.push({ seq: s.seq, frame: pulseFrame(s) });
    const note = (into: Set<string>) => {
      for (const s of u.changed) into.add(s.key);
      if (u.removed) for (const k of u.removed) into.add(k);
    };
    if (replaying > 0) for (const c of clients) if (c.mode === 'replay') note(c.pending);
    note(batchKeys);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
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

  function handle(req: Request, socket?: { destroy(): void }): Response {
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
            mode: 'live',
            cursor: lastSeq,
            pending: new Set(),
            closed: false,
            ageTimer: undefined,
          };
          const sessions = o.pipeline.tracker.all().map((s) => toSummary(s, now));
          const snap: SnapshotMessage = {
            now,
            lastSeq,
            sessions,
            recent:
              after === undefined ? o.store.readAfter(Math.max(0, lastSeq - recentEvents), recentEvents) : [],
          };
          // a fresh snapshot carries the id so a reconnect resumes after it; a resume keeps the
          // browser's id until the replay has moved it
          let text = `retry: ${retryMs}\n${after === undefined ? `id: ${lastSeq}\n` : ''}event: snapshot\ndata: ${JSON.stringify(snap)}\n\n`;
          if (after !== undefined && after < lastSeq) {
            client.mode = 'replay';
            replaying++;
            client.cursor = after;
            if (lastSeq - after > maxReplay) {
              client.cursor = lastSeq - maxReplay;
              text += `event: gap\ndata: ${JSON.stringify({ from: after + 1, to: client.cursor })}\n\n`;
            }
          }
          controller.enqueue(enc.encode(text));
        },
        pull() {
          replayStep(client);
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
    scheduleHeartbeat();
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
    stats: () => ({ clients: clients.size, ...stats }),
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

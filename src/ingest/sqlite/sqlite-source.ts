/**
 * The OpenClaw ≥ 2026.8 session store source: follows every
 * `agents/<id>/agent/openclaw-agent.sqlite` under the state dir (agents may appear later),
 * turning `session_nodes` changes into session.seen / subagent.spawned and new
 * `transcript_events` rows (by seq, per session) into PulseEvents via the shared transcript
 * normalizer.
 *
 * Finding new rows stays cheap however big the DB gets: a stat of the DB file and its -wal
 * says whether anyone committed since the last poll (no connection needed); `max(rowid)` then
 * says whether transcript rows were appended and a rowid range scan says which sessions got
 * them; each of those is read by its (session_id, seq) primary key. A periodic sweep (max(seq)
 * per known session window) catches rows written with reused/low rowids, e.g. by OpenClaw's
 * generation copy. Every read is one short transaction on a read-only connection, and an idle
 * DB's connection is closed, so OpenClaw's writers and its exclusive maintenance never wait.
 *
 * `pause()` (the pipeline's store does not take events) stops polling after the batch in hand;
 * `resume()` polls at once, from each session's seq cursor.
 */
import fs from 'node:fs';
import { type Clock, systemClock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import type { PulseEvent } from '../../model/events.js';
import { createTranscriptNormalizer, type NormalizerState } from '../../openclaw/normalize.js';
import { agentSqlitePath, agentsDir } from '../../openclaw/paths.js';
import { fallbackSessionKey } from '../../openclaw/session-key.js';
import type { SourceOffset } from '../../store/event-store.js';
import { createSanitizer, logAnomalies } from '../sanitize.js';
import type { IngestSink, OffsetReader, Source, SourceHealth } from '../source.js';
import { type AgentDb, isBusyError, openAgentDb } from './agent-db.js';
import { decodeTranscriptRow, type TranscriptRow } from './decode.js';
import {
  type Cursor,
  describeHealth,
  type Followed,
  inodeOf,
  newFollowed,
  nodesOffsetKey,
  savedNormState,
  statStamp,
} from './followed.js';
import { nodeRowToEvents } from './node-events.js';

const FORCE_READ_MS = 10_000;

/** the pipeline threw: not the DB's fault, and the batch is read again */
class SinkRefused extends Error {
  constructor(override readonly cause: unknown) {
    super('pipeline refused the batch');
  }
}

export interface SqliteSourceDeps {
  stateDir: string;
  sink: IngestSink;
  offsets: OffsetReader;
  logger: Logger;
  clock?: Clock;
  pollIntervalMs?: number;
  /** most transcript rows read per DB per poll; a backlog is drained over back-to-back polls */
  batchRows?: number;
  /** how often the max(seq)-per-window sweep runs */
  sweepEveryMs?: number;
  /** a DB with no new rows for this long is closed until something changes */
  idleCloseMs?: number;
  /** how often the agents/ folder is listed for new databases */
  discoverEveryMs?: number;
  createNormalizer?: typeof createTranscriptNormalizer;
}

export interface SqliteSource extends Source {
  /** one poll of every followed DB, now (tests and benchmarks; the timer calls it too) */
  poll(): void;
  /** stops reading until `resume` (the store does not take events) */
  pause(): void;
  /** reads on from each session's cursor */
  resume(): void;
}

export function createSqliteSource(deps: SqliteSourceDeps): SqliteSource {
  const { stateDir, sink, offsets, logger } = deps;
  const clock = deps.clock ?? systemClock;
  const pollIntervalMs = deps.pollIntervalMs ?? 1000;
  const batchRows = deps.batchRows ?? 2000;
  const sweepEveryMs = deps.sweepEveryMs ?? 30_000;
  const discoverEveryMs = deps.discoverEveryMs ?? 5000;
  const idleCloseMs = deps.idleCloseMs ?? 5000;
  const createNormalizer = deps.createNormalizer ?? createTranscriptNormalizer;
  const log = logger.child({ source: 'sqlite' });

  const dbs = new Map<string, Followed>();
  let state: SourceHealth['state'] = 'stopped';
  let timer: unknown;
  let running = false;
  /** the pipeline does not take events: no DB is read until it does */
  let paused = false;
  let lastDiscoverAt = Number.NEGATIVE_INFINITY;
  let malformed = 0;
  let busyRetries = 0;
  let sinkErrors = 0;
  let lastEventAt: number | undefined;
  let lagMs = 0;
  /** out-of-bounds numbers and oversized text of every event (src/ingest/sanitize.ts) */
  const sane = createSanitizer({ now: () => clock.now(), onAnomaly: logAnomalies(log) });

  function discover(): void {
    lastDiscoverAt = clock.now();
    let names: string[];
    try {
      names = fs.readdirSync(agentsDir(stateDir));
    } catch {
      return; // no agents/ yet: OpenClaw may not have run; health says so
    }
    for (const agentId of names) {
      const p = agentSqlitePath(stateDir, agentId);
      if (dbs.has(p) || !fs.existsSync(p)) continue;
      dbs.set(p, newFollowed(p, agentId, offsets.getOffset(nodesOffsetKey(p))));
      log.info({ db: p, agentId }, 'following agent database');
    }
  }

  function ensureOpen(f: Followed): AgentDb | undefined {
    if (f.db) return f.db;
    try {
      const ino = inodeOf(f.path);
      if (f.ino !== undefined && ino !== f.ino) {
        // replaced under the same name (a restore): its rowids mean nothing; seq cursors hold
        log.info({ db: f.path }, 'agent database replaced');
        f.lastRowid = 0;
      }
      f.ino = ino;
      f.db = openAgentDb(f.path);
      const uv = f.db.userVersion();
      log.info({ db: f.path, userVersion: uv }, 'opened agent database read-only');
      return f.db;
    } catch (err) {
      if (isBusyError(err)) {
        busyRetries++;
        f.db?.close();
        f.db = undefined;
      } else noteError(f, err);
      return undefined;
    }
  }

  function noteError(f: Followed, err: unknown): void {
    const msg = (err as Error)?.message ?? String(err);
    if (f.error !== msg) log.warn({ db: f.path, err: msg }, 'agent database unreadable; retrying');
    f.error = msg;
    // reopen from scratch next time: a replaced or repaired file needs a new handle
    f.db?.close();
    f.db = undefined;
    f.stamp = undefined;
  }

  function cursorFor(f: Followed, db: AgentDb, sessionId: string): Cursor {
    let c = f.cursors.get(sessionId);
    if (c) return c;
    const sessionKey = db.windowKey(sessionId) ?? fallbackSessionKey(f.agentId, sessionId);
    const offsetKey = `sqlite:${f.path}:${sessionId}`;
    // the offset carries the normalizer's state too, so a restart mid-run still knows the
    // open run and tool calls
    const saved = offsets.getOffset(offsetKey) as { seq?: unknown } | undefined;
    const opts: Parameters<typeof createTranscriptNormalizer>[0] = {
      sessionKey,
      agentId: f.agentId,
      sessionId,
      source: 'sqlite',
    };
    const norm = savedNormState(saved);
    if (norm) opts.initial = norm;
    c = {
      sessionId,
      sessionKey,
      lastSeq: typeof saved?.seq === 'number' ? saved.seq : Number.NEGATIVE_INFINITY,
      normalizer: createNormalizer(opts),
      offsetKey,
    };
    f.cursors.set(sessionId, c);
    return c;
  }

  /** reads what is new in one DB inside one short transaction; processing happens after it */
  function readNew(
    f: Followed,
    db: AgentDb,
  ): { nodes: ReturnType<AgentDb['nodesUpdatedSince']>; rows: TranscriptRow[]; more: boolean } {
    const now = clock.now();
    const sweep = now - f.lastSweepAt >= sweepEveryMs;
    return db.read(() => {
      const nodes = db
        .nodesUpdatedSince(f.nodesWatermark)
        .filter((r) => f.nodeStamps.get(r.session_key) !== r.updated_at);
      const maxRowid = db.maxRowid();
      // the first read of a DB sweeps the session windows instead of scanning every row's
      // session id: on a store with millions of rows that scan would block for seconds
      const firstRead = f.lastRowid === 0 && sweep;
      if (maxRowid > f.lastRowid && !firstRead)
        for (const sid of db.sessionsWithRowsBetween(f.lastRowid, maxRowid)) f.pending.add(sid);
      const rewound = maxRowid < f.lastRowid;
      f.lastRowid = maxRowid;
      if (sweep || rewound) {
        for (const w of db.windows()) {
          const c = cursorFor(f, db, w.session_id);
          const m = db.maxSeq(w.session_id);
          if (m === undefined) continue;
          if (m > c.lastSeq) f.pending.add(w.session_id);
          else if (m < c.lastSeq) {
            // the transcript was rewritten shorter (compaction/rewind): follow from its new end
            log.info({ db: f.path, sessionId: w.session_id, from: c.lastSeq, to: m }, 'transcript rewound');
            c.lastSeq = m;
          }
        }
        f.lastSweepAt = now;
      }
      const rows: TranscriptRow[] = [];
      let budget = batchRows;
      for (const sid of [...f.pending]) {
        if (budget <= 0) break;
        const c = cursorFor(f, db, sid);
        const got = db.events(sid, Number.isFinite(c.lastSeq) ? c.lastSeq : -1, budget);
        budget -= got.length;
        rows.push(...got);
        if (budget > 0) f.pending.delete(sid);
      }
      return { nodes, rows, more: f.pending.size > 0 };
    });
  }

  function handleBatch(
    f: Followed,
    nodes: ReturnType<AgentDb['nodesUpdatedSince']>,
    rows: TranscriptRow[],
  ): void {
    const events: PulseEvent[] = [];
    const touched = new Map<string, Cursor>();
    // where each touched cursor stood, to put it back if the pipeline refuses the batch
    const before = new Map<Cursor, { lastSeq: number; norm: NormalizerState }>();
    const stamps: Array<[string, number]> = [];
    let watermark = f.nodesWatermark;
    for (const row of nodes) {
      const r = nodeRowToEvents(row, f.agentId);
      if (r.entryMalformed) {
        malformed++;
        log.warn(
          { db: f.path, sessionKey: row.session_key },
          'session_nodes.entry_json unreadable; using its columns',
        );
      }
      events.push(...r.events);
      stamps.push([row.session_key, row.updated_at]);
      if (row.updated_at > watermark) watermark = row.updated_at;
      // a reset moves the key to a new session id: its transcript rows belong to this key
      const c = f.cursors.get(row.current_session_id);
      if (c && c.sessionKey !== row.session_key) {
        c.sessionKey = row.session_key;
        c.normalizer.setSessionKey(row.session_key);
      }
    }
    let newestRowAt: number | undefined;
    for (const row of rows) {
      const c = f.cursors.get(row.session_id);
      if (!c || row.seq <= c.lastSeq) continue;
      if (!before.has(c)) before.set(c, { lastSeq: c.lastSeq, norm: c.normalizer.state() });
      c.lastSeq = row.seq;
      touched.set(c.sessionId, c);
      newestRowAt = Math.max(newestRowAt ?? 0, row.created_at);
      const d = decodeTranscriptRow(row);
      if (!d.ok) {
        malformed++;
        log.warn(
          { db: f.path, sessionId: row.session_id, seq: row.seq, err: d.error },
          'transcript row skipped',
        );
        continue;
      }
      let err: string | undefined;
      try {
        const r = c.normalizer.push(d.value);
        events.push(...r.events);
        err = r.error;
      } catch (e) {
        err = (e as Error).message;
      }
      if (err !== undefined) {
        malformed++;
        log.warn(
          { db: f.path, sessionId: row.session_id, seq: row.seq, err },
          'transcript row not understood',
        );
      }
    }
    const offs: SourceOffset[] = [...touched.values()].map((c) => ({
      key: c.offsetKey,
      value: { seq: c.lastSeq, norm: c.normalizer.state() },
    }));
    if (nodes.length) {
      const keys = [...f.nodeStamps, ...stamps].filter(([, at]) => at === watermark).map(([k]) => k);
      offs.push({ key: nodesOffsetKey(f.path), value: { updatedAt: watermark, keys: [...new Set(keys)] } });
    }
    if (!events.length && !offs.length) return;
    sane.events(events);
    try {
      sink.ingest(events, offs);
    } catch (err) {
      // nothing was stored: rewind so the same rows are read and normalized again next poll
      for (const [c, b] of before) {
        c.lastSeq = b.lastSeq;
        c.normalizer = createNormalizer({
          sessionKey: c.sessionKey,
          agentId: f.agentId,
          sessionId: c.sessionId,
          source: 'sqlite',
          initial: b.norm,
        });
        f.pending.add(c.sessionId);
      }
      throw new SinkRefused(err);
    }
    for (const [k, at] of stamps) f.nodeStamps.set(k, at);
    f.nodesWatermark = watermark;
    for (const e of events) if (lastEventAt === undefined || e.ts > lastEventAt) lastEventAt = e.ts;
    if (newestRowAt !== undefined) lagMs = Math.max(0, clock.now() - newestRowAt);
  }

  /**
   * An idle DB is not held open: an open reader stops OpenClaw's exclusive-lock maintenance
   * (update handoff snapshots, backups) from starting. While it is busy the handle stays, as
   * reopening costs a schema parse (~5 ms) per poll.
   */
  function closeIdle(f: Followed): void {
    f.db?.close();
    f.db = undefined;
  }

  function pollDb(f: Followed): boolean {
    const stamp = statStamp(f.path);
    const now = clock.now();
    // a coarse-mtime filesystem could hide a commit from the stamp: read anyway now and then
    const due = now - f.lastSweepAt >= sweepEveryMs || now - f.lastReadAt >= FORCE_READ_MS;
    if (stamp !== undefined && stamp === f.stamp && !f.pending.size && !due && !f.error) {
      if (f.db && now - f.lastChangeAt >= idleCloseMs) closeIdle(f);
      return false;
    }
    const db = ensureOpen(f);
    if (!db) return false;
    try {
      const { nodes, rows, more } = readNew(f, db);
      // set only after the snapshot was read whole: a failed read is retried from the same place
      f.stamp = stamp;
      f.lastReadAt = now;
      f.error = undefined;
      handleBatch(f, nodes, rows);
      if (nodes.length || rows.length) f.lastChangeAt = now;
      if (!more) lagMs = 0;
      if (!more && now - f.lastChangeAt >= idleCloseMs) closeIdle(f);
      return more;
    } catch (err) {
      if (err instanceof SinkRefused) {
        sinkErrors++;
        log.error({ db: f.path, err: err.cause }, 'pipeline refused a sqlite batch; retrying next poll');
        return false;
      }
      if (isBusyError(err)) {
        busyRetries++;
        log.debug({ db: f.path, err: (err as Error).message }, 'agent database busy; retrying next poll');
        return false;
      }
      noteError(f, err);
      return false;
    }
  }

  function poll(): void {
    if (paused) {
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = running ? clock.setTimeout(poll, pollIntervalMs) : undefined;
      return;
    }
    if (clock.now() - lastDiscoverAt >= discoverEveryMs) discover();
    let more = false;
    for (const f of dbs.values()) {
      // told to pause by the batch just handed on: the rest waits at its cursors
      if (paused) break;
      try {
        if (pollDb(f)) more = true;
      } catch (err) {
        // a sink or normalizer bug must not stop following; the batch is retried next poll
        log.error({ db: f.path, err }, 'sqlite poll failed');
      }
    }
    if (state === 'starting') state = 'live';
    if (running) timer = clock.setTimeout(poll, more ? 0 : pollIntervalMs);
  }

  return {
    id: 'sqlite',
    kind: 'sqlite',
    poll,
    async start() {
      if (running) return;
      running = true;
      state = 'starting';
      poll();
    },
    pause() {
      if (paused) return;
      paused = true;
      log.info('pausing: the store does not take events; each session waits at its cursor');
    },
    resume() {
      if (!paused) return;
      paused = false;
      log.info('resuming: reading on from each cursor');
      if (!running) return;
      if (timer !== undefined) clock.clearTimeout(timer);
      poll();
    },
    async stop() {
      running = false;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      for (const f of dbs.values()) {
        f.db?.close();
        f.db = undefined;
      }
      state = 'stopped';
    },
    health: () => ({
      ...describeHealth([...dbs.values()], state, agentsDir(stateDir), {
        lagMs,
        malformed,
        busyRetries,
        sinkErrors,
        lastEventAt,
      }),
      anomalies: sane.anomalies,
    }),
  };
}

/**
 * The pipeline: sources hand it events; it stores them (dropping duplicates by dedupeKey,
 * saving offsets in the same transaction), applies the new ones to the tracker, and tells
 * its listeners (sinks, SSE, terminal) which events were stored and which sessions changed.
 *
 * Listeners are called synchronously after each batch; a listener that throws is logged and
 * never stops ingest. Listeners that do I/O must queue it (every sink coalesces anyway).
 *
 * Backpressure: while the store refuses writes (disk full, read-only) it holds what it accepts
 * in memory (the model has it), up to a bound; past it the pipeline holds the refused batches.
 * Once the store holds `pauseHeldEvents` or the pipeline holds any batch, the pipeline stops
 * `accepting()` and tells `onFlow` listeners (the daemon pauses the file and SQLite sources,
 * whose offsets say where to resume); once both are clear it tells them to resume.
 */

import type { Logger } from './infra/logger.js';
import type { IngestSink } from './ingest/source.js';
import type { PulseEvent, StoredEvent } from './model/events.js';
import type { SessionState } from './model/session.js';
import { isLive } from './model/state.js';
import type { SessionTracker } from './model/tracker.js';
import type { EventStore, SourceOffset } from './store/event-store.js';
import type { UsageStore } from './store/usage-store.js';
import type { CostEstimator } from './usage/estimate.js';

export interface PipelineUpdate {
  /** newly stored events, oldest first (empty for a tick) */
  events: readonly StoredEvent[];
  /** sessions whose state changed, after the events were applied */
  changed: readonly SessionState[];
  /**
   * sessions that left the live model (finished long ago: `evict.ts`); they stay in the store,
   * and a new event brings one back
   */
  removed?: readonly string[];
}

export type PipelineListener = (update: PipelineUpdate) => void;

export interface Pipeline extends IngestSink {
  readonly tracker: SessionTracker;
  readonly store: EventStore;
  subscribe(listener: PipelineListener): () => void;
  /** false while the store cannot keep up (it refuses writes): sources that can should pause */
  accepting(): boolean;
  /** called when `accepting()` changes */
  onFlow(listener: (accepting: boolean) => void): () => void;
  /** feeds the clock to the model (idle → done, stuck ...) */
  tick(now: number): void;
  /** marks open sessions interrupted (shutdown) and notifies listeners */
  interruptAll(now: number, note?: string): void;
  /** writes the snapshots of sessions changed since the last flush */
  flushSnapshots(): void;
  stats(): PipelineStats;
}

export interface PipelineStats {
  ingested: number;
  duplicates: number;
  batches: number;
  listenerErrors: number;
  /** events held in memory because the store refused them (disk full, I/O error) */
  pendingEvents: number;
  /** events the store accepted (the model has them) but holds in memory: the disk refuses writes */
  heldEvents: number;
  /** the sources were told to pause (the store does not keep up) */
  paused: boolean;
  /** the last store failure, cleared when the store writes again */
  storeError?: string;
}

/** A batch the store refused; kept (bounded) and retried, so a full disk loses nothing. */
interface PendingBatch {
  events: readonly PulseEvent[];
  offsets?: readonly SourceOffset[];
}

export interface PipelineDeps {
  store: EventStore;
  tracker: SessionTracker;
  logger: Logger;
  /**
   * snapshots are written at most this often (5 s): they are derived, and a restart replays the
   * stored events after the last one (`restoreModel`), so a longer interval loses nothing
   */
  snapshotEveryMs?: number;
  /**
   * what snapshot writes may average (64 KiB/s): after a save of B bytes the next one waits
   * B / rate, between `snapshotEveryMs` and `snapshotMaxDelayMs` (60 s). A session keeping
   * thousands of tool calls is a snapshot of a megabyte, rewritten whole on every save.
   */
  snapshotBytesPerSec?: number;
  snapshotMaxDelayMs?: number;
  /**
   * a save is due anyway once this many events were applied since the last (1,000,000): bounds
   * what a restart after a crash replays (a clean stop saves first). The bound trades steady
   * cost against recovery time: a save of 1,000 busy sessions took 60–130 ms of CPU and replay
   * 1.6–2.4 µs an event (`npm run bench -- ingest`), so a save per 200,000 events cost a daemon
   * ingesting flat out 6–12% of its CPU to keep recovery under 0.5 s; per 1,000,000 it costs
   * 1–2.5%, and recovery takes about 2 s.
   */
  snapshotMaxEvents?: number;
  /**
   * a save is due sooner (at least `SOONEST_SAVE_MS` after the last) once this many finished
   * sessions changed since the last save (500): saved, they can become briefs. A catch-up of
   * 10,000 finished sessions held every one whole until the paced save 60 s later (330 MB of
   * heap), and the idle daemon's RSS kept the burst's fragments. Finished sessions are written
   * once, not rewritten as they work, so this does not undo the pacing of busy ones.
   */
  finishedSaveBatch?: number;
  /**
   * at most this many events are held while the store fails (50,000); beyond it the oldest batches
   * are dropped, loudly. Pausable sources stop long before; OTLP and the gateway cannot be paused
   */
  maxPendingEvents?: number;
  /** the sources are paused once the store holds this many events it could not write (4,000) */
  pauseHeldEvents?: number;
  now?: () => number;
  /** prices tokens whose source gave no cost, before they are stored (`src/usage/estimate.ts`) */
  estimate?: CostEstimator;
  /**
   * the usage aggregate, fed each batch's stored events in the store's open group (so it commits
   * with them); a failed fold is caught up from the store on the next batch
   */
  usage?: UsageStore;
}

/** the pipeline's snapshot pacing by default (see PipelineDeps) */
export const SNAPSHOT_DEFAULTS = {
  everyMs: 5000,
  bytesPerSec: 64 * 1024,
  maxDelayMs: 60_000,
  maxEvents: 1_000_000,
  finishedBatch: 500,
};

/** the soonest a save comes after the last one, when finished sessions are due (`finishedSaveBatch`) */
export const SOONEST_SAVE_MS = 1000;

/** how long the next snapshot save waits after one that wrote `bytes` */
export function snapshotDelayAfter(
  bytes: number,
  everyMs = SNAPSHOT_DEFAULTS.everyMs,
  bytesPerSec = SNAPSHOT_DEFAULTS.bytesPerSec,
  maxDelayMs = SNAPSHOT_DEFAULTS.maxDelayMs,
): number {
  return Math.min(maxDelayMs, Math.max(everyMs, (bytes / bytesPerSec) * 1000));
}

export function createPipeline(deps: PipelineDeps): Pipeline {
  const { store, tracker, logger } = deps;
  const now = deps.now ?? Date.now;
  const snapshotEveryMs = deps.snapshotEveryMs ?? SNAPSHOT_DEFAULTS.everyMs;
  const snapshotBytesPerSec = deps.snapshotBytesPerSec ?? SNAPSHOT_DEFAULTS.bytesPerSec;
  const snapshotMaxDelayMs = Math.max(
    snapshotEveryMs,
    deps.snapshotMaxDelayMs ?? SNAPSHOT_DEFAULTS.maxDelayMs,
  );
  const snapshotMaxEvents = deps.snapshotMaxEvents ?? SNAPSHOT_DEFAULTS.maxEvents;
  const finishedSaveBatch = deps.finishedSaveBatch ?? SNAPSHOT_DEFAULTS.finishedBatch;
  /** when manyFinished last counted */
  let lastFinishedCount = Number.NEGATIVE_INFINITY;
  /** how long after the last save the next is due (grows with the bytes the last one wrote) */
  let snapshotDelayMs = snapshotEveryMs;
  let appliedSinceSnapshot = 0;
  const listeners = new Set<PipelineListener>();
  const dirty = new Set<string>();
  let lastSnapshotAt = now();
  /** finished sessions leave the live model at most this often (a walk over every session) */
  const evictEveryMs = 60_000;
  let lastEvictAt = Number.NEGATIVE_INFINITY;
  /** sessions evicted by this process: a new event of one first brings back its stored state */
  const evicted = new Set<string>();

  function comeBack(key: string): void {
    evicted.delete(key);
    if (tracker.get(key)) return;
    const snap = store.loadSnapshot(key);
    if (snap) tracker.restore([snap]);
  }
  const maxPendingEvents = deps.maxPendingEvents ?? 50_000;
  const pauseHeldEvents = deps.pauseHeldEvents ?? 4000;
  const counters = { ingested: 0, duplicates: 0, batches: 0, listenerErrors: 0 };
  const pending: PendingBatch[] = [];
  let pendingEvents = 0;
  let storeError: string | undefined;
  const flowListeners = new Set<(accepting: boolean) => void>();
  let flowing = true;
  const heldInStore = (): number => store.heldEvents?.() ?? 0;

  /** tells the flow listeners when the store stops or starts keeping up */
  function updateFlow(): void {
    const ok = pending.length === 0 && heldInStore() < pauseHeldEvents;
    if (ok === flowing) return;
    flowing = ok;
    if (ok) logger.info('store keeps up again: sources resume reading');
    else
      logger.warn(
        { pendingEvents, heldEvents: heldInStore() },
        'store does not take events: pausing the sources (they resume where they stopped)',
      );
    for (const l of flowListeners) {
      try {
        l(ok);
      } catch (err) {
        logger.error({ err }, 'flow listener failed');
      }
    }
  }

  function storeRecovered(): void {
    if (storeError === undefined || heldInStore() > 0) return;
    logger.info({ recovered: storeError }, 'store accepts events again');
    storeError = undefined;
    logged.clear();
  }

  function notify(events: readonly StoredEvent[], changedKeys: Iterable<string>): void {
    const changed: SessionState[] = [];
    for (const key of new Set(changedKeys)) {
      const s = tracker.get(key);
      if (s) changed.push(s);
      dirty.add(key);
    }
    if (events.length || changed.length) tell({ events, changed });
  }

  function tell(update: PipelineUpdate): void {
    for (const l of listeners) {
      try {
        l(update);
      } catch (err) {
        counters.listenerErrors++;
        logger.error({ err }, 'pipeline listener failed');
      }
    }
  }

  /** stores a batch and applies what was new; false when the store refused it */
  function storeAndApply(events: readonly PulseEvent[], offsets?: readonly SourceOffset[]): boolean {
    let result: ReturnType<EventStore['append']>;
    try {
      result = store.append(events, offsets);
    } catch (err) {
      noteStoreError(err, 'store refused events; holding them in memory and retrying');
      return false;
    }
    storeRecovered();
    const { stored, duplicates } = result;
    counters.duplicates += duplicates;
    counters.ingested += stored.length;
    if (!stored.length) return true;
    const changed: string[] = [];
    for (const s of stored) {
      try {
        if (evicted.size && evicted.has(s.event.sessionKey)) comeBack(s.event.sessionKey);
        for (const k of tracker.apply(s.event)) changed.push(k);
      } catch (err) {
        logger.error(
          { err, type: s.event.type, sessionKey: s.event.sessionKey },
          'model could not apply event',
        );
      }
    }
    appliedSinceSnapshot += stored.length;
    recordUsage(stored);
    notify(stored, changed);
    maybeSnapshot();
    return true;
  }

  let usageFailed = false;
  /** folds the stored events into the usage aggregate; a failure is caught up by the next batch */
  function recordUsage(stored: readonly StoredEvent[]): void {
    if (!deps.usage) return;
    try {
      deps.usage.record(stored);
      usageFailed = false;
    } catch (err) {
      if (!usageFailed) logger.warn({ err }, 'usage aggregate not updated; catching up with the next batch');
      usageFailed = true;
    }
  }

  /** commits the store's open group (appends are committed in groups) and reports a failure */
  function commitStore(): void {
    try {
      store.flush();
    } catch (err) {
      noteStoreError(err, 'store cannot commit accepted events; retrying');
      return;
    }
    storeRecovered();
  }

  /** the kinds of store failure logged during the current outage (numbers left out) */
  const logged = new Set<string>();

  /** keeps the failure for /health, logging each kind once per outage (not on every retry) */
  function noteStoreError(err: unknown, what: string): void {
    const message = err instanceof Error ? err.message : String(err);
    const kind = message.replace(/\d+/g, '#');
    if (!logged.has(kind) && logged.size < 20) {
      logged.add(kind);
      logger.error({ err }, what);
    }
    storeError = message;
  }

  function hold(batch: PendingBatch): void {
    pending.push(batch);
    pendingEvents += batch.events.length;
    while (pendingEvents > maxPendingEvents && pending.length > 1) {
      const dropped = pending.shift();
      pendingEvents -= dropped?.events.length ?? 0;
      logger.error(
        { dropped: dropped?.events.length, maxPendingEvents },
        'store has failed for too long; dropped the oldest held events: they are lost from history (the live view already missed them)',
      );
    }
  }

  /** retries held batches in order; true when none is left */
  function retryPending(): boolean {
    while (pending.length) {
      const batch = pending[0] as PendingBatch;
      if (!storeAndApply(batch.events, batch.offsets)) return false;
      pending.shift();
      pendingEvents -= batch.events.length;
    }
    return true;
  }

  function maybeSnapshot(): void {
    const t = now();
    if (t - lastSnapshotAt >= snapshotDelayMs || appliedSinceSnapshot >= snapshotMaxEvents || manyFinished(t))
      flushSnapshots();
  }

  /**
   * `finishedSaveBatch` finished sessions wait for a save (and then to become briefs); counted at
   * most once a `SOONEST_SAVE_MS` (ingest asks after every batch)
   */
  function manyFinished(t: number): boolean {
    if (dirty.size < finishedSaveBatch || t - lastSnapshotAt < SOONEST_SAVE_MS) return false;
    if (t - lastFinishedCount < SOONEST_SAVE_MS) return false;
    lastFinishedCount = t;
    let n = 0;
    for (const key of dirty) {
      const s = tracker.get(key);
      if (s && !isLive(s.status) && ++n >= finishedSaveBatch) return true;
    }
    return false;
  }

  function flushSnapshots(): void {
    lastSnapshotAt = now();
    appliedSinceSnapshot = 0;
    if (!dirty.size) return;
    const list: SessionState[] = [];
    for (const key of dirty) {
      const s = tracker.get(key);
      if (s) list.push(s);
    }
    dirty.clear();
    try {
      // every stored event has been applied (ingest applies what it stores before returning)
      const bytes = store.saveSnapshots(list, store.lastSeq());
      // the store holds these states now: finished ones may leave memory as briefs
      tracker.saved?.(list);
      logger.debug({ sessions: list.length, bytes }, 'session snapshots saved');
      snapshotDelayMs = snapshotDelayAfter(bytes, snapshotEveryMs, snapshotBytesPerSec, snapshotMaxDelayMs);
    } catch (err) {
      for (const s of list) dirty.add(s.key);
      logger.error({ err }, 'saving session snapshots failed; will retry');
    }
  }

  return {
    tracker,
    store,
    ingest(batch: readonly PulseEvent[], offsets?: readonly SourceOffset[]): void {
      counters.batches++;
      const events = deps.estimate ? deps.estimate(batch) : batch;
      if (pending.length && !retryPending()) hold({ events, offsets });
      else if (!storeAndApply(events, offsets)) hold({ events, offsets });
      updateFlow();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    accepting: () => flowing,
    onFlow(listener) {
      flowListeners.add(listener);
      return () => flowListeners.delete(listener);
    },
    tick(t: number) {
      // the store writes what it holds first, then takes the batches the pipeline held
      commitStore();
      // a usage aggregate that writes in batches (PostgreSQL's, by the second) writes what it holds
      recordUsage([]);
      if (pending.length) retryPending();
      updateFlow();
      if (t - lastEvictAt >= evictEveryMs) {
        lastEvictAt = t;
        const gone = tracker.evict(t);
        for (const k of gone) {
          dirty.delete(k);
          evicted.add(k);
        }
        if (gone.length) {
          logger.info(
            { sessions: gone.length },
            'finished sessions left the live view (they stay in the store)',
          );
          tell({ events: [], changed: [], removed: gone });
        }
      }
      notify([], tracker.tick(t));
      maybeSnapshot();
    },
    interruptAll(t: number, note?: string) {
      notify([], tracker.interruptAll(t, note));
      flushSnapshots();
    },
    flushSnapshots,
    stats: () => ({ ...counters, pendingEvents, heldEvents: heldInStore(), paused: !flowing, storeError }),
  };
}

/**
 * Rebuilds the model from the store: the last snapshots, then every stored event after the seq
 * they were saved at (events stored after the last snapshot save, e.g. before a crash).
 * A store whose snapshots carry no seq (older clawpulse) gets its snapshots only.
 */
export function restoreModel(store: EventStore, tracker: SessionTracker, logger?: Logger): number {
  const snapshots = store.loadSnapshots();
  tracker.restore(snapshots);
  let after = store.snapshotSeq();
  if (after === undefined) {
    if (snapshots.length) return 0;
    after = 0;
  }
  let replayed = 0;
  for (;;) {
    const page = store.readAfter(after, 5000);
    const last = page[page.length - 1];
    if (!last) break;
    for (const s of page) {
      try {
        tracker.apply(s.event);
      } catch (err) {
        logger?.error({ err, seq: s.seq, type: s.event.type }, 'model could not apply a stored event');
      }
    }
    replayed += page.length;
    after = last.seq;
  }
  return replayed;
}

/**
 * The pipeline: sources hand it events; it stores them (dropping duplicates by dedupeKey,
 * saving offsets in the same transaction), applies the new ones to the tracker, and tells
 * its listeners (sinks, SSE, terminal) which events were stored and which sessions changed.
 *
 * Listeners are called synchronously after each batch; a listener that throws is logged and
 * never stops ingest. Listeners that do I/O must queue it (every sink coalesces anyway).
 */
import type { IngestSink } from './ingest/source.js';
import type { Logger } from './infra/logger.js';
import type { PulseEvent, StoredEvent } from './model/events.js';
import type { SessionState } from './model/session.js';
import type { SessionTracker } from './model/tracker.js';
import type { EventStore, SourceOffset } from './store/event-store.js';

export interface PipelineUpdate {
  /** newly stored events, oldest first (empty for a tick) */
  events: readonly StoredEvent[];
  /** sessions whose state changed, after the events were applied */
  changed: readonly SessionState[];
}

export type PipelineListener = (update: PipelineUpdate) => void;

export interface Pipeline extends IngestSink {
  readonly tracker: SessionTracker;
  readonly store: EventStore;
  subscribe(listener: PipelineListener): () => void;
  /** feeds the clock to the model (idle → done, stuck ...) */
  tick(now: number): void;
  /** marks open sessions interrupted (shutdown) and notifies listeners */
  interruptAll(now: number, note?: string): void;
  /** writes the snapshots of sessions changed since the last flush */
  flushSnapshots(): void;
  stats(): { ingested: number; duplicates: number; batches: number; listenerErrors: number };
}

export interface PipelineDeps {
  store: EventStore;
  tracker: SessionTracker;
  logger: Logger;
  /** snapshots are written at most this often (they are derived; events are the truth) */
  snapshotEveryMs?: number;
  now?: () => number;
}

export function createPipeline(deps: PipelineDeps): Pipeline {
  const { store, tracker, logger } = deps;
  const now = deps.now ?? Date.now;
  const snapshotEveryMs = deps.snapshotEveryMs ?? 1000;
  const listeners = new Set<PipelineListener>();
  const dirty = new Set<string>();
  let lastSnapshotAt = now();
  const counters = { ingested: 0, duplicates: 0, batches: 0, listenerErrors: 0 };

  function notify(events: readonly StoredEvent[], changedKeys: Iterable<string>): void {
    const changed: SessionState[] = [];
    for (const key of new Set(changedKeys)) {
      const s = tracker.get(key);
      if (s) changed.push(s);
      dirty.add(key);
    }
    if (!events.length && !changed.length) return;
    for (const l of listeners) {
      try {
        l({ events, changed });
      } catch (err) {
        counters.listenerErrors++;
        logger.error({ err }, 'pipeline listener failed');
      }
    }
  }

  function maybeSnapshot(): void {
    const t = now();
    if (t - lastSnapshotAt >= snapshotEveryMs) flushSnapshots();
  }

  function flushSnapshots(): void {
    lastSnapshotAt = now();
    if (!dirty.size) return;
    const list: SessionState[] = [];
    for (const key of dirty) {
      const s = tracker.get(key);
      if (s) list.push(s);
    }
    dirty.clear();
    try {
      store.saveSnapshots(list);
    } catch (err) {
      logger.error({ err }, 'saving session snapshots failed; they are rebuilt from events on restart');
    }
  }

  return {
    tracker,
    store,
    ingest(events: readonly PulseEvent[], offsets?: readonly SourceOffset[]): void {
      counters.batches++;
      const { stored, duplicates } = store.append(events, offsets);
      counters.duplicates += duplicates;
      counters.ingested += stored.length;
      if (!stored.length) return;
      const changed: string[] = [];
      for (const s of stored) {
        try {
          for (const k of tracker.apply(s.event)) changed.push(k);
        } catch (err) {
          logger.error({ err, type: s.event.type, sessionKey: s.event.sessionKey }, 'model could not apply event');
        }
      }
      notify(stored, changed);
      maybeSnapshot();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    tick(t: number) {
      notify([], tracker.tick(t));
      maybeSnapshot();
    },
    interruptAll(t: number, note?: string) {
      notify([], tracker.interruptAll(t, note));
      flushSnapshots();
    },
    flushSnapshots,
    stats: () => ({ ...counters }),
  };
}

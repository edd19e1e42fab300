/**
 * Hands mapped events to the pipeline in batches: every frame parsed in one socket read is
 * mapped synchronously, and one microtask later their events go to the sink together (one
 * store transaction instead of one per frame; no added wall-clock delay). The resume offset
 * rides along at most every `offsetEveryMs`, and always on a forced flush (stop).
 */
import type { Clock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import type { PulseEvent } from '../../model/events.js';
import type { SourceOffset } from '../../store/event-store.js';
import type { Sanitizer } from '../sanitize.js';
import type { IngestSink } from '../source.js';
import type { ResumeState } from './resume.js';

export interface IngestBatcher {
  push(events: readonly PulseEvent[]): void;
  flush(force?: boolean): void;
  /** how late the newest event of the last batch reached us (ms) */
  arrivalLag(): number;
  delivered(): number;
}

export function createIngestBatcher(d: {
  sink: IngestSink;
  resume: ResumeState;
  clock: Clock;
  log: Logger;
  offsetEveryMs: number;
  /** bounds the batch's numbers and text before anything reads it (the resume offset too) */
  sane: Sanitizer;
}): IngestBatcher {
  let queue: PulseEvent[] = [];
  let queued = false;
  let lag = 0;
  let lastOffsetAt = Number.NEGATIVE_INFINITY;
  let delivered = 0;

  function flush(force = false): void {
    queued = false;
    const events = queue;
    queue = [];
    if (!events.length && !force) return;
    d.sane.events(events);
    d.resume.note(events);
    delivered += events.length;
    const now = d.clock.now();
    const newest = events.reduce((m, e) => Math.max(m, e.ts), 0);
    if (newest) lag = Math.max(0, now - newest);
    let offsets: SourceOffset[] | undefined;
    if (force || now - lastOffsetAt >= d.offsetEveryMs) {
      lastOffsetAt = now;
      offsets = [d.resume.offset()];
    }
    try {
      d.sink.ingest(events, offsets);
    } catch (err) {
      d.log.error({ err, events: events.length }, 'pipeline rejected gateway events');
    }
  }

  return {
    push(events) {
      if (!events.length) return;
      for (const e of events) queue.push(e);
      if (!queued) {
        queued = true;
        queueMicrotask(() => flush());
      }
    },
    flush,
    arrivalLag: () => lag,
    delivered: () => delivered,
  };
}

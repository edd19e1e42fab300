/**
 * Source arbitration. Several sources can see the same session (the gateway live, the SQLite
 * store or the transcript files after the fact). Events of one source dedupe by dedupeKey,
 * but the gateway and the transcript describe one run with different granularity, so their
 * keys differ. To never count a run twice, each session has one owner: the highest-priority
 * source that is live and has reported it (gateway > sqlite > files). Events of other
 * sources for an owned session are dropped (their offsets still advance), except
 * `session.seen`, which only carries metadata. When the owner goes down, the next source that
 * reports the session takes it over. OTLP (telemetry) uses its own session keys and passes.
 */
import type { PulseEvent, SourceKind } from '../model/events.js';
import type { SourceOffset } from '../store/event-store.js';
import type { IngestSink } from './source.js';

// dispatch notes are clawpulse's own and never pass through the arbiter (the pipeline takes them)
const PRIORITY: Record<SourceKind, number> = {
  gateway: 3,
  sqlite: 2,
  files: 1,
  demo: 1,
  otlp: 0,
  dispatch: 0,
};

export interface SourceArbiter {
  /** the sink a source of this kind should be given */
  sinkFor(kind: SourceKind): IngestSink;
  /** which source owns each session (for /health) */
  owners(): Map<string, SourceKind>;
  stats(): { dropped: number };
}

export function createSourceArbiter(
  target: IngestSink,
  isLive: (kind: SourceKind) => boolean,
): SourceArbiter {
  const owner = new Map<string, SourceKind>();
  let dropped = 0;

  function accepts(kind: SourceKind, event: PulseEvent): boolean {
    if (kind === 'otlp' || event.type === 'session.seen') return true;
    const current = owner.get(event.sessionKey);
    if (current === undefined || current === kind) {
      if (current === undefined) owner.set(event.sessionKey, kind);
      return true;
    }
    if (PRIORITY[kind] > PRIORITY[current] || !isLive(current)) {
      owner.set(event.sessionKey, kind);
      return true;
    }
    return false;
  }

  return {
    sinkFor(kind) {
      return {
        ingest(events: readonly PulseEvent[], offsets?: readonly SourceOffset[]) {
          const kept = events.filter((e) => accepts(kind, e));
          dropped += events.length - kept.length;
          if (kept.length || offsets?.length) target.ingest(kept, offsets);
        },
      };
    },
    owners: () => new Map(owner),
    stats: () => ({ dropped }),
  };
}

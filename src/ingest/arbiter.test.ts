import { describe, expect, it } from 'vitest';
import type { PulseEvent, SourceKind } from '../model/events.js';
import type { SourceOffset } from '../store/event-store.js';
import { createSourceArbiter } from './arbiter.js';

function ev(
  source: SourceKind,
  key: string,
  n: number,
  type: 'assistant.text' | 'session.seen' = 'assistant.text',
): PulseEvent {
  const base = { ts: n, source, sessionKey: key, agentId: 'main', dedupeKey: `${source}/${key}/${n}` };
  return type === 'session.seen' ? { ...base, type } : { ...base, type, text: `t${n}` };
}

function collect() {
  const got: PulseEvent[] = [];
  const offsets: SourceOffset[] = [];
  return {
    got,
    offsets,
    sink: {
      ingest: (e: readonly PulseEvent[], o?: readonly SourceOffset[]) => {
        got.push(...e);
        offsets.push(...(o ?? []));
      },
    },
  };
}

describe('source arbiter', () => {
  it('keeps one owner per session: a higher-priority source takes over, a lower one is dropped', () => {
    const c = collect();
    const live = new Set<SourceKind>(['files', 'gateway']);
    const a = createSourceArbiter(c.sink, (k) => live.has(k));
    a.sinkFor('files').ingest([ev('files', 's1', 1)]);
    a.sinkFor('gateway').ingest([ev('gateway', 's1', 2)]);
    a.sinkFor('files').ingest([ev('files', 's1', 3)], [{ key: 'files:/x', value: { pos: 9 } }]);
    expect(c.got.map((e) => e.dedupeKey)).toEqual(['files/s1/1', 'gateway/s1/2']);
    // the dropped batch still advances the file offset, so a restart does not re-read it
    expect(c.offsets).toEqual([{ key: 'files:/x', value: { pos: 9 } }]);
    expect(a.owners().get('s1')).toBe('gateway');
    expect(a.stats().dropped).toBe(1);
  });

  it('hands a session back to a lower source when the owner goes down', () => {
    const c = collect();
    const live = new Set<SourceKind>(['files', 'gateway']);
    const a = createSourceArbiter(c.sink, (k) => live.has(k));
    a.sinkFor('gateway').ingest([ev('gateway', 's1', 1)]);
    a.sinkFor('files').ingest([ev('files', 's1', 2)]);
    live.delete('gateway');
    a.sinkFor('files').ingest([ev('files', 's1', 3)]);
    expect(c.got.map((e) => e.dedupeKey)).toEqual(['gateway/s1/1', 'files/s1/3']);
    expect(a.owners().get('s1')).toBe('files');
  });

  it('always passes session.seen and telemetry, and keeps sessions independent', () => {
    const c = collect();
    const a = createSourceArbiter(c.sink, () => true);
    a.sinkFor('gateway').ingest([ev('gateway', 's1', 1)]);
    a.sinkFor('files').ingest([ev('files', 's1', 2, 'session.seen'), ev('files', 's2', 3)]);
    a.sinkFor('otlp').ingest([ev('otlp', 's1', 4)]);
    expect(c.got.map((e) => e.dedupeKey)).toEqual(['gateway/s1/1', 'files/s1/2', 'files/s2/3', 'otlp/s1/4']);
  });
});

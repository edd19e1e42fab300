/** Test doubles for the file source: an in-memory sink that dedupes like the store and keeps offsets. */
import fs from 'node:fs';
import path from 'node:path';
import type { PulseEvent } from '../../model/events.js';
import type { SourceOffset } from '../../store/event-store.js';
import { tempDir } from '../../test-support/temp-dir.js';
import type { IngestSink, OffsetReader } from '../source.js';

export interface MemorySink extends IngestSink, OffsetReader {
  events: PulseEvent[];
  duplicates: number;
  calls: number;
  offsets: Map<string, unknown>;
  ofType<T extends PulseEvent['type']>(t: T): Array<Extract<PulseEvent, { type: T }>>;
}

export function createMemorySink(offsets = new Map<string, unknown>(), keys = new Set<string>()): MemorySink {
  const sink: MemorySink = {
    events: [],
    duplicates: 0,
    calls: 0,
    offsets,
    ingest(events: readonly PulseEvent[], offs?: readonly SourceOffset[]) {
      sink.calls++;
      for (const e of events) {
        if (keys.has(e.dedupeKey)) sink.duplicates++;
        else {
          keys.add(e.dedupeKey);
          sink.events.push(e);
        }
      }
      // offsets are saved with the events, like the store's single transaction
      for (const o of offs ?? []) offsets.set(o.key, JSON.parse(JSON.stringify(o.value)));
    },
    getOffset: (k) => offsets.get(k),
    listOffsets: (prefix) =>
      [...offsets].filter(([k]) => k.startsWith(prefix)).map(([key, value]) => ({ key, value })),
    ofType: <T extends PulseEvent['type']>(t: T) =>
      sink.events.filter((e): e is Extract<PulseEvent, { type: T }> => e.type === t),
  };
  return sink;
}

export function tempStateDir(agent = 'main'): { stateDir: string; sessions: string } {
  const stateDir = tempDir('clawpulse-files-');
  const sessions = path.join(stateDir, 'agents', agent, 'sessions');
  fs.mkdirSync(sessions, { recursive: true });
  return { stateDir, sessions };
}

/** waits for a condition with a bounded wait (for live-follow tests that rely on inotify) */
export async function waitFor(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const line = (o: unknown) => `${JSON.stringify(o)}\n`;
export const msg = (id: string, message: Record<string, unknown>) => ({
  type: 'message',
  id,
  parentId: null,
  timestamp: '2026-11-21T10:00:00.000Z',
  message,
});
export const user = (id: string, text: string, ts = 1) =>
  msg(id, { role: 'user', content: text, timestamp: ts });
export const say = (id: string, text: string, stopReason = 'stop', ts = 2) =>
  msg(id, {
    role: 'assistant',
    content: [{ type: 'text', text }],
    stopReason,
    usage: { input: 1, output: 1, cacheRead: 0, cacheWrite: 0, cost: { total: 0 } },
    timestamp: ts,
  });

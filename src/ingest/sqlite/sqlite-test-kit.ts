/**
 * Test support for the SQLite source tests: the fixture transcript as the SQLite era stores
 * it, a recording sink/offset store, and temp state dirs that are cleaned up. Not used at run time.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Clock } from '../../infra/clock.js';
import { silentLogger } from '../../infra/logger.js';
import type { PulseEvent } from '../../model/events.js';
import type { SourceOffset } from '../../store/event-store.js';
import type { IngestSink, OffsetReader } from '../source.js';
import type { FakeAgentDb } from './fake-agent-db.js';
import { createSqliteSource, type SqliteSource, type SqliteSourceDeps } from './sqlite-source.js';

const FIX = fileURLToPath(new URL('../../../test/fixtures/openclaw/v2026.7.35', import.meta.url));
export const SID = 'daa6b28a-5388-4104-8e50-89a5a783e4c6';
export const KEY = 'agent:main:main';
export const CHILD = 'agent:main:subagent:6d565fc0-4536-47ab-bb32-533f671a6286';

/** the fixture transcript as the SQLite era stores it: same line objects, header version 4 */
export function fixtureLines(): Array<Record<string, unknown>> {
  return fs
    .readFileSync(path.join(FIX, `${SID}.jsonl`), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .map((o) => (o.type === 'session' ? { ...o, version: 4 } : o));
}

export class Recorder implements IngestSink, OffsetReader {
  events: PulseEvent[] = [];
  offsets = new Map<string, unknown>();
  batches = 0;
  ingest(events: readonly PulseEvent[], offsets?: readonly SourceOffset[]): void {
    this.batches++;
    this.events.push(...events);
    for (const o of offsets ?? []) this.offsets.set(o.key, o.value);
  }
  getOffset(key: string): unknown {
    return this.offsets.get(key);
  }
  listOffsets(prefix: string): SourceOffset[] {
    return [...this.offsets].filter(([k]) => k.startsWith(prefix)).map(([key, value]) => ({ key, value }));
  }
  keys(): string[] {
    return this.events.map((e) => e.dedupeKey);
  }
}

export function seed(db: FakeAgentDb): void {
  db.upsertSession({
    sessionKey: KEY,
    sessionId: SID,
    updatedAt: 1000,
    status: 'running',
    displayName: 'hello',
  });
}

/** temp dirs and open things of one test file, released by `cleanup()` (call it in afterEach) */
export function createKit() {
  let dirs: string[] = [];
  let open: Array<{ close(): unknown }> = [];
  return {
    tmp(): string {
      const d = fs.mkdtempSync(path.join(os.tmpdir(), 'clawpulse-sqlite-'));
      dirs.push(d);
      return d;
    },
    track<T extends { close(): unknown }>(x: T): T {
      open.push(x);
      return x;
    },
    untrack(x: { close(): unknown }): void {
      open = open.filter((o) => o !== x);
    },
    startSource(
      stateDir: string,
      rec: Recorder,
      clock: Clock,
      extra: Partial<SqliteSourceDeps> = {},
    ): SqliteSource {
      const src = createSqliteSource({
        stateDir,
        sink: rec,
        offsets: rec,
        logger: silentLogger,
        clock,
        pollIntervalMs: 100,
        ...extra,
      });
      open.push({ close: () => src.stop() });
      return src;
    },
    async cleanup(): Promise<void> {
      for (const o of open.reverse()) await o.close();
      open = [];
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
      dirs = [];
    },
  };
}

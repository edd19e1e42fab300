import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PulseEvent } from '../model/events.js';
import type { EventStore } from '../store/event-store.js';
import { createSqliteStore } from '../store/sqlite-store.js';
import { createPageCache } from './sse-pages.js';

let dir: string;
let store: EventStore;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawpulse-pages-'));
  store = createSqliteStore(path.join(dir, 'store.sqlite'));
});
afterEach(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

let n = 0;
const text = (t: string): PulseEvent => ({
  type: 'assistant.text',
  ts: 1_763_700_000_000,
  source: 'demo',
  agentId: 'main',
  sessionKey: 's1',
  dedupeKey: `k${++n}`,
  runId: 'r1',
  text: t,
});

/** the ids of the frames in a chunk */
const ids = (chunk: Uint8Array) =>
  [
    ...Buffer.from(chunk)
      .toString('utf8')
      .matchAll(/^id: (\d+)$/gm),
  ].map((m) => Number(m[1]));

describe('the shared page cache', () => {
  it('reads pages by seq from the store, from any cursor, whole frames only', () => {
    store.append(Array.from({ length: 25 }, (_, i) => text(`t${i} é`)));
    const cache = createPageCache(store, 10, 1 << 20);
    expect(ids(cache.after(0, 1 << 20)?.chunk ?? new Uint8Array())).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const mid = cache.after(13, 1 << 20);
    expect(mid?.last).toBe(20);
    expect(ids(mid?.chunk ?? new Uint8Array())).toEqual([14, 15, 16, 17, 18, 19, 20]);
    // a small budget: as many whole frames as fit, at least one
    const one = cache.after(20, 10);
    expect(ids(one?.chunk ?? new Uint8Array())).toEqual([21]);
    const text21 = Buffer.from(one?.chunk ?? []).toString('utf8');
    expect(text21.endsWith('\n\n')).toBe(true);
    expect(JSON.parse(text21.split('data: ')[1] ?? '').event.text).toBe('t20 é');
    expect(cache.after(25, 1 << 20)).toBeUndefined();
    expect(cache.stats().storeReads).toBe(3);
  });

  it('grows the newest page as events are stored and reads each event once for every reader', () => {
    const cache = createPageCache(store, 100, 1 << 20);
    store.append([text('a'), text('b')]);
    expect(cache.after(0, 1 << 20)?.last).toBe(2);
    store.append([text('c')]);
    // a second reader at 0 gets all three; the first, at 2, only the new one
    expect(ids(cache.after(0, 1 << 20)?.chunk ?? new Uint8Array())).toEqual([1, 2, 3]);
    expect(ids(cache.after(2, 1 << 20)?.chunk ?? new Uint8Array())).toEqual([3]);
    expect(cache.stats().storeReads).toBe(2);
  });

  it('stays within its size, dropping the least recently used pages (read again when needed)', () => {
    store.append(Array.from({ length: 100 }, (_, i) => text(`${i} ${'z'.repeat(200)}`)));
    const cache = createPageCache(store, 10, 3000);
    for (let c = 0; c < 100; c += 10) expect(cache.after(c, 1 << 20)?.last).toBe(c + 10);
    expect(cache.stats().bytes).toBeLessThanOrEqual(3000 + 3000);
    expect(cache.stats().pages).toBeLessThanOrEqual(2);
    expect(ids(cache.after(0, 1 << 20)?.chunk ?? new Uint8Array())).toHaveLength(10);
    expect(cache.stats().storeReads).toBe(11);
  });
});

/**
 * The SSE hub's shared cache of encoded `pulse` frames, read from the store by seq.
 *
 * Events are kept in aligned pages of `pageSize` seqs ((k·P, (k+1)·P]), each encoded once as
 * bytes and shared by every client that reads it: 90 clients catching up through the same
 * burst decode and encode each event once, not 90 times. A page is complete once the store has
 * gone past its last seq; the newest page grows as events are stored (read on demand, never
 * held by the pipeline listener). Least recently used pages leave past `maxBytes`; a client
 * behind them gets them read from the store again.
 */
import type { StoredEvent } from '../model/events.js';
import type { EventStore } from '../store/event-store.js';

interface Part {
  /** index in the page's `seqs` of this part's first event */
  first: number;
  bytes: Buffer;
  /** start of each event's frame in `bytes` */
  offsets: number[];
}

interface Page {
  k: number;
  seqs: number[];
  parts: Part[];
  bytes: number;
  /** holds every event the store will ever have in its range */
  complete: boolean;
}

export interface PageSlice {
  chunk: Uint8Array;
  /** seq of the last event in the chunk */
  last: number;
}

export function pulseFrame(s: StoredEvent): string {
  return `id: ${s.seq}\nevent: pulse\ndata: ${JSON.stringify({ seq: s.seq, event: s.event })}\n\n`;
}

function encodePart(events: readonly StoredEvent[], first: number): Part {
  const frames = events.map(pulseFrame);
  let total = 0;
  const offsets: number[] = [];
  const lengths = frames.map((f) => Buffer.byteLength(f));
  for (const n of lengths) {
    offsets.push(total);
    total += n;
  }
  const bytes = Buffer.allocUnsafeSlow(total);
  for (let i = 0; i < frames.length; i++) bytes.write(frames[i] as string, offsets[i] as number);
  return { first, bytes, offsets };
}

export interface PageCache {
  /**
   * the frames of the events after `cursor` (at least one when there is one, then whole
   * frames up to about `maxBytes`), or undefined when the store has nothing after it
   */
  after(cursor: number, maxBytes: number): PageSlice | undefined;
  stats(): { pages: number; bytes: number; storeReads: number };
  clear(): void;
}

export function createPageCache(store: EventStore, pageSize: number, maxBytes: number): PageCache {
  const P = Math.max(1, Math.floor(pageSize));
  /** Map order = least recently used first */
  const pages = new Map<number, Page>();
  let total = 0;
  let storeReads = 0;

  function read(page: Page, top: number): void {
    const end = (page.k + 1) * P;
    const from = page.seqs.length ? (page.seqs[page.seqs.length - 1] as number) : page.k * P;
    if (from < Math.min(top, end)) {
      storeReads++;
      const got = store.readAfter(from, end - from).filter((s) => s.seq <= end);
      if (got.length) {
        const part = encodePart(got, page.seqs.length);
        for (const s of got) page.seqs.push(s.seq);
        page.parts.push(part);
        page.bytes += part.bytes.byteLength;
        total += part.bytes.byteLength;
      }
    }
    if (top >= end) {
      page.complete = true;
      if (page.parts.length > 1) {
        // one part per finished page: later readers get one slice, not many small ones
        const merged = Buffer.concat(page.parts.map((p) => p.bytes));
        const offsets: number[] = [];
        let base = 0;
        for (const p of page.parts) {
          for (const o of p.offsets) offsets.push(base + o);
          base += p.bytes.byteLength;
        }
        page.parts = [{ first: 0, bytes: merged, offsets }];
      }
    }
  }

  function get(k: number, top: number): Page {
    let page = pages.get(k);
    if (page) {
      pages.delete(k);
      pages.set(k, page);
    } else {
      page = { k, seqs: [], parts: [], bytes: 0, complete: false };
      pages.set(k, page);
    }
    if (!page.complete) read(page, top);
    // least recently used out; never the page in hand
    for (const [key, p] of pages) {
      if (total <= maxBytes || key === k) break;
      pages.delete(key);
      total -= p.bytes;
    }
    return page;
  }

  /** index of the first seq > cursor */
  function firstAfter(seqs: readonly number[], cursor: number): number {
    let lo = 0;
    let hi = seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((seqs[mid] as number) > cursor) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  return {
    after(cursor, maxChunk) {
      const top = store.lastSeq();
      let c = cursor;
      while (c < top) {
        const k = Math.floor(c / P);
        const page = get(k, top);
        const i = firstAfter(page.seqs, c);
        if (i >= page.seqs.length) {
          if (!page.complete) return undefined;
          c = (k + 1) * P; // a hole in the seqs (a failed append): nothing there
          continue;
        }
        const list: Uint8Array[] = [];
        let size = 0;
        let next = i;
        for (const part of page.parts) {
          const n = part.offsets.length;
          if (part.first + n <= next) continue;
          const a = next - part.first;
          const start = part.offsets[a] as number;
          const endAt = (b: number) => (b < n ? (part.offsets[b] as number) : part.bytes.byteLength);
          // the most whole frames that fit (at least one for an empty chunk, however big)
          let lo = a;
          let hi = n;
          while (lo < hi) {
            const mid = (lo + hi + 1) >> 1;
            if (endAt(mid) - start <= maxChunk - size) lo = mid;
            else hi = mid - 1;
          }
          const b = lo === a && !list.length ? a + 1 : lo;
          if (b === a) break;
          list.push(part.bytes.subarray(start, endAt(b)));
          size += endAt(b) - start;
          next = part.first + b;
          if (b < n) break;
        }
        const lastIdx = next - 1;
        const chunk = list.length === 1 ? (list[0] as Uint8Array) : Buffer.concat(list, size);
        return { chunk, last: page.seqs[lastIdx] as number };
      }
      return undefined;
    },
    stats: () => ({ pages: pages.size, bytes: total, storeReads }),
    clear() {
      pages.clear();
      total = 0;
    },
  };
}

/**
 * The body of a chunk row (schema 4): its events as one JSON array, without what the row
 * already says. Every event of a chunk belongs to the row's session (`sid`), and nearly every
 * event has the agentId and source of the chunk's first one; so `sessionKey` is left out of every
 * event, and `agentId` / `source` out of every event after the first that repeats them. Decoding
 * puts them back: a fifth fewer bytes to serialize, bind to SQLite and write, and three strings
 * fewer per event.
 *
 * (Writing the session id that starts a transcript's dedupe keys and run ids once per chunk, and
 * cutting it from each, would save another fifth of the bytes, but cutting and restoring the
 * strings cost more than that saved: measured 10% slower end to end.)
 *
 * Schema 3 bodies hold every field; decoding only fills in what an event lacks, so they read the
 * same. (agentId and source are required fields of every event: one that lacks them takes the
 * first event's.)
 */
import type { PulseEvent } from '../model/events.js';

/** the fields an encoded event may lack, writable for the time of one encode */
interface Envelope {
  sessionKey?: string;
  agentId?: string;
  source?: string;
}

const SESSION = 1;
const AGENT = 2;
const SOURCE = 4;

/** which fields each event of the chunk being encoded lent out */
let lent = new Uint8Array(512);

/**
 * The JSON of a chunk: events of one session (one sessionKey). The fields left out are set to
 * undefined on the events for the one JSON.stringify call (which skips them) and restored before
 * returning, also when it throws: copying the events without them costs more than the
 * serialization saves. Events that cannot be changed (frozen) are copied.
 */
export function encodeChunk(events: readonly PulseEvent[]): string {
  const n = events.length;
  if (n === 0) return '[]';
  // all zero here: restore() clears what it read
  if (lent.length < n) lent = new Uint8Array(n);
  const all = events as unknown as Envelope[];
  const { sessionKey, agentId, source } = all[0] as Envelope;
  let changed = false;
  try {
    for (let i = 0; i < n; i++) {
      const e = all[i] as Envelope;
      e.sessionKey = undefined;
      lent[i] = SESSION;
      if (i > 0 && e.agentId === agentId) {
        e.agentId = undefined;
        lent[i] = SESSION | AGENT;
      }
      if (i > 0 && e.source === source) {
        e.source = undefined;
        lent[i] = (lent[i] as number) | SOURCE;
      }
    }
    changed = true;
  } catch {
    // not writable: the copies, below
  }
  try {
    if (!changed) {
      // the copies are of the events as they were (the finally's restore then has nothing to do)
      restore(all, n, sessionKey, agentId, source);
      return encodeCopies(all, agentId, source);
    }
    return JSON.stringify(events);
  } finally {
    restore(all, n, sessionKey, agentId, source);
  }
}

function restore(all: Envelope[], n: number, sessionKey?: string, agentId?: string, source?: string): void {
  for (let i = 0; i < n; i++) {
    const m = lent[i] as number;
    if (m === 0) break;
    const e = all[i] as Envelope;
    e.sessionKey = sessionKey;
    if (m & AGENT) e.agentId = agentId;
    if (m & SOURCE) e.source = source;
  }
  lent.fill(0, 0, n);
}

/** the plain-array body, from copies (for events that cannot be changed in place) */
function encodeCopies(all: Envelope[], agentId?: string, source?: string): string {
  return JSON.stringify(
    all.map((e, i) => {
      const copy: Envelope = { ...e, sessionKey: undefined };
      if (i > 0 && e.agentId === agentId) copy.agentId = undefined;
      if (i > 0 && e.source === source) copy.source = undefined;
      return copy;
    }),
  );
}

/** the events of a chunk body (schema 3 or 4) of the session `sessionKey` */
export function decodeChunk(body: string, sessionKey: string): PulseEvent[] {
  const events = JSON.parse(body) as Envelope[];
  const first = events[0];
  if (!first) return [];
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as Envelope;
    e.sessionKey ??= sessionKey;
    if (i > 0) {
      e.agentId ??= first.agentId;
      e.source ??= first.source;
    }
  }
  return events as unknown as PulseEvent[];
}

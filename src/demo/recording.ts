/**
 * A recording: real sessions.json entries and their transcripts, loaded into a timeline of
 * line writes. Timestamps are shifted to "now" when played, so the model sees live sessions.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RecordedLine {
  /** recorded time (ms) */
  ts: number;
  sessionKey: string;
  sessionId: string;
  value: Record<string, unknown>;
}

export interface Recording {
  name: string;
  entries: Record<string, Record<string, unknown>>;
  lines: RecordedLine[];
}

export function loadRecording(dir: string): Recording {
  const entries = JSON.parse(readFileSync(join(dir, 'sessions.json'), 'utf8')) as Record<
    string,
    Record<string, unknown>
  >;
  const keyOfSession = new Map<string, string>();
  for (const [key, e] of Object.entries(entries))
    if (typeof e.sessionId === 'string') keyOfSession.set(e.sessionId, key);
  const lines: RecordedLine[] = [];
  for (const file of readdirSync(dir).filter((f) => /^[0-9a-f-]{36}\.jsonl$/.test(f))) {
    const sessionId = file.slice(0, 36);
    const sessionKey = keyOfSession.get(sessionId);
    if (!sessionKey) continue;
    let last = 0;
    for (const text of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (!text.trim()) continue;
      const value = JSON.parse(text) as Record<string, unknown>;
      const ts = typeof value.timestamp === 'string' ? Date.parse(value.timestamp) : last;
      last = Number.isFinite(ts) ? ts : last;
      lines.push({ ts: last, sessionKey, sessionId, value });
    }
  }
  lines.sort((a, b) => a.ts - b.ts);
  return { name: dir, entries, lines };
}

/** Shifts every timestamp of a line by `delta` ms (ISO strings and epoch-ms numbers alike). */
export function shiftTimestamps(value: unknown, delta: number): unknown {
  if (Array.isArray(value)) return value.map((v) => shiftTimestamps(v, delta));
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'timestamp' && typeof v === 'string' && Number.isFinite(Date.parse(v)))
      out[k] = new Date(Date.parse(v) + delta).toISOString();
    else if (k === 'timestamp' && typeof v === 'number') out[k] = v + delta;
    else out[k] = shiftTimestamps(v, delta);
  }
  return out;
}

/** a top-level key's name in loop `loop`: `agent:main:review-pr-412` → `…review-pr-412-run2` */
export function loopKey(key: string, loop: number): string {
  return loop <= 1 ? key : `${key}-run${loop}`;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A copy of the recording as loop `loop` plays it: fresh session ids and sub-agent uuids, and
 * top-level keys renamed (`…-run2`), in sessions.json and in every line alike, so each loop is
 * a new set of sessions and no box, token total or sub-agent list carries over from the last.
 */
export function freshIds(rec: Recording, loop = 2): Recording {
  const swaps: Array<[RegExp, string]> = [];
  for (const [key, e] of Object.entries(rec.entries)) {
    if (typeof e.sessionId === 'string') swaps.push([new RegExp(escapeRe(e.sessionId), 'g'), randomUUID()]);
    for (const m of key.matchAll(/:subagent:([0-9a-f-]{36})/g))
      if (m[1] && !swaps.some(([re]) => re.source === escapeRe(m[1] as string)))
        swaps.push([new RegExp(escapeRe(m[1]), 'g'), randomUUID()]);
    // a top-level key, not followed by more key text (`agent:main:x` inside `agent:main:x-y`)
    if (!key.includes(':subagent:'))
      swaps.push([new RegExp(`${escapeRe(key)}(?![\\w.:-])`, 'g'), loopKey(key, loop)]);
  }
  const swap = (s: string) => swaps.reduce((out, [re, to]) => out.replace(re, to), s);
  return {
    name: rec.name,
    entries: JSON.parse(swap(JSON.stringify(rec.entries))) as Recording['entries'],
    lines: rec.lines.map((l) => ({
      ts: l.ts,
      sessionKey: swap(l.sessionKey),
      sessionId: swap(l.sessionId),
      value: JSON.parse(swap(JSON.stringify(l.value))) as Record<string, unknown>,
    })),
  };
}

/**
 * Several recordings as one, each starting at the same moment: they share one agent's
 * sessions.json, which only one writer may own (as in OpenClaw).
 */
export function mergeRecordings(recs: readonly Recording[]): Recording {
  const starts = recs.map((r) => r.lines[0]?.ts).filter((t): t is number => t !== undefined);
  const base = starts.length ? Math.min(...starts) : 0;
  const entries: Recording['entries'] = {};
  const lines: RecordedLine[] = [];
  for (const rec of recs) {
    // move the whole recording, its lines' own timestamps included, to start at `base`
    const offset = base - (rec.lines[0]?.ts ?? base);
    for (const [key, e] of Object.entries(rec.entries)) entries[key] = shiftEntry(e, offset);
    for (const l of rec.lines)
      lines.push({
        ...l,
        ts: l.ts + offset,
        value: shiftTimestamps(l.value, offset) as Record<string, unknown>,
      });
  }
  lines.sort((a, b) => a.ts - b.ts);
  return { name: recs.map((r) => r.name).join('+'), entries, lines };
}

/** a sessions.json entry moved in time: ISO `timestamp`s and its epoch-ms time fields */
export function shiftEntry(entry: Record<string, unknown>, delta: number): Record<string, unknown> {
  const out = shiftTimestamps(entry, delta) as Record<string, unknown>;
  for (const k of [
    'sessionStartedAt',
    'lastInteractionAt',
    'lastActivityAt',
    'startedAt',
    'endedAt',
    'updatedAt',
  ]) {
    const v = entry[k];
    if (typeof v === 'number') out[k] = Math.round(v + delta);
  }
  return out;
}

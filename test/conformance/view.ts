/**
 * A "view": what clawpulse's model makes of one source's events. A tiny in-memory IngestSink
 * drops duplicate dedupeKeys (like the store) and applies the rest to a real SessionTracker;
 * `summarize` reduces the tracker to the facts the conformance suite compares across sources
 * and against what the fake model logged.
 */
import type { IngestSink, OffsetReader, Source } from '../../src/ingest/source.js';
import type { PulseEvent } from '../../src/model/events.js';
import type { SessionState, TrackerLimits } from '../../src/model/session.js';
import { createSessionTracker, type SessionTracker } from '../../src/model/tracker.js';
import type { SourceOffset } from '../../src/store/event-store.js';

/** generous limits: nothing may turn idle/stuck during a run and hide what happened */
export const VIEW_LIMITS: TrackerLimits = {
  maxStatusLines: 500,
  idleTimeoutMs: 10 * 60_000,
  maxSessionDurationMs: 60 * 60_000,
  stuckAfterMs: 10 * 60_000,
};

export interface View extends IngestSink, OffsetReader {
  readonly name: string;
  readonly tracker: SessionTracker;
  readonly events: PulseEvent[];
  duplicates: number;
  /** duplicate sightings per event type (a source re-reading what its offsets say it read) */
  duplicateTypes: Record<string, number>;
  /** wall time of the last new event (0 = none yet): lets the harness wait for a quiet view */
  lastNewEventAt: number;
  /** events the tracker threw on (a clawpulse bug if ever non-zero) */
  applyErrors: Array<{ event: PulseEvent; error: string }>;
}

export function createView(name: string, limits: TrackerLimits = VIEW_LIMITS): View {
  const tracker = createSessionTracker(limits);
  const seen = new Set<string>();
  const offsets = new Map<string, unknown>();
  const view: View = {
    name,
    tracker,
    events: [],
    duplicates: 0,
    duplicateTypes: {},
    lastNewEventAt: 0,
    applyErrors: [],
    ingest(events: readonly PulseEvent[], offs?: readonly SourceOffset[]) {
      for (const e of events) {
        if (seen.has(e.dedupeKey)) {
          view.duplicates++;
          view.duplicateTypes[e.type] = (view.duplicateTypes[e.type] ?? 0) + 1;
          continue;
        }
        seen.add(e.dedupeKey);
        view.events.push(e);
        view.lastNewEventAt = Date.now();
        try {
          tracker.apply(e);
        } catch (err) {
          view.applyErrors.push({ event: e, error: String(err) });
        }
      }
      for (const o of offs ?? []) offsets.set(o.key, o.value);
    },
    getOffset: (k) => offsets.get(k),
    listOffsets: (prefix) =>
      [...offsets].filter(([k]) => k.startsWith(prefix)).map(([key, value]) => ({ key, value })),
  };
  return view;
}

export interface SessionSummary {
  key: string;
  parentKey?: string;
  children: string[];
  label?: string;
  /** `name:status`, sorted */
  tools: string[];
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  costUsd: number;
  errorStatuses: number[];
  errors: string[];
  status: SessionState['status'];
}

export function summarizeSession(s: SessionState): SessionSummary {
  return {
    key: s.key,
    parentKey: s.parentKey,
    children: [...s.children].sort(),
    label: s.label,
    tools: s.tools.map((t) => `${t.name}:${t.status}`).sort(),
    input: s.tokens.input,
    output: s.tokens.output,
    cacheRead: s.tokens.cacheRead,
    cacheWrite: s.tokens.cacheWrite,
    costUsd: Math.round(s.costUsd * 1e9) / 1e9,
    errorStatuses: s.errors.map((e) => e.status ?? 0).sort((a, b) => a - b),
    errors: s.errors.map((e) => e.message),
    status: s.status,
  };
}

export function summarize(view: View): Map<string, SessionSummary> {
  const out = new Map<string, SessionSummary>();
  for (const s of view.tracker.all().sort((a, b) => a.key.localeCompare(b.key)))
    out.set(s.key, summarizeSession(s));
  return out;
}

/** Polls `check` until it returns true or the deadline passes (waiting on a real external process). */
export async function waitFor(check: () => boolean, timeoutMs: number, everyMs = 200): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (check()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Starts a source, and stops it however the caller's block ends. */
export async function withSource<T>(source: Source, fn: () => Promise<T>): Promise<T> {
  await source.start();
  try {
    return await fn();
  } finally {
    await source.stop();
  }
}

/**
 * Builders for hand-made PulseEvents (tests and the model bench). Each call gets a unique
 * dedupeKey; fields default to a plausible session so a test names only what it checks.
 */
import type { PulseEvent } from './events.js';
import type { TrackerLimits } from './session.js';

type Without<T> = T extends unknown
  ? Omit<T, 'source' | 'dedupeKey' | 'agentId'> & { agentId?: string }
  : never;
export type EventInput = Without<PulseEvent>;

let seq = 0;

export function ev(input: EventInput): PulseEvent {
  seq++;
  return { source: 'demo', agentId: 'main', dedupeKey: `t${seq}`, ...input } as PulseEvent;
}

export const testLimits: TrackerLimits = {
  maxStatusLines: 15,
  idleTimeoutMs: 60_000,
  maxSessionDurationMs: 1_800_000,
  stuckAfterMs: 300_000,
};

/** the value, or a test failure naming what was missing (instead of a non-null assertion) */
export function must<T>(x: T | undefined | null, what = 'value'): T {
  if (x === undefined || x === null) throw new Error(`expected a ${what}`);
  return x;
}

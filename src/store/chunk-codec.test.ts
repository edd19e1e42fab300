import { describe, expect, it } from 'vitest';
import type { PulseEvent } from '../model/events.js';
import { decodeChunk, encodeChunk } from './chunk-codec.js';

const KEY = 'agent:main:main';
const SID = 'daa6b28a-5388-4104-8e50-89a5a783e4c6';
const ev = (n: number, extra: Partial<PulseEvent> = {}): PulseEvent =>
  ({
    type: 'agent.started',
    ts: 1000 + n,
    source: 'files',
    sessionKey: KEY,
    agentId: 'main',
    dedupeKey: `${SID}/e${n}/agent.started/0`,
    runId: `${SID}:r:e${n}`,
    ...extra,
  }) as PulseEvent;

const count = (s: string, part: string) => s.split(part).length - 1;
/** encodes, checks the events came back unchanged, and decodes */
function roundTrip(events: PulseEvent[]): { body: string; decoded: PulseEvent[] } {
  const before = events.map((e) => ({ ...e }));
  const body = encodeChunk(events);
  expect(events).toEqual(before);
  return { body, decoded: decodeChunk(body, KEY) };
}

describe('chunk codec', () => {
  it('leaves out the session key, and an agentId or source that repeats the first event’s', () => {
    const events = [ev(1), ev(2), ev(3, { agentId: 'ops' }), ev(4, { source: 'gateway' }), ev(5)];
    const { body, decoded } = roundTrip(events);
    expect(count(body, '"sessionKey"')).toBe(0);
    expect(count(body, '"agentId"')).toBe(2);
    expect(count(body, '"source"')).toBe(2);
    expect(decoded).toEqual(events);
  });

  it('gives the events back as they were, also when serializing them throws', () => {
    const bad = [ev(1), ev(2, { text: 10n } as unknown as Partial<PulseEvent>)];
    const before = bad.map((e) => ({ ...e }));
    expect(() => encodeChunk(bad)).toThrow(/BigInt/);
    expect(bad).toEqual(before);
  });

  it('encodes events it cannot change (frozen) from copies, and changes none of them', () => {
    const events = [ev(1), ev(2), Object.freeze(ev(3)), ev(4)];
    const { decoded } = roundTrip(events);
    expect(decoded).toEqual(events);
  });

  it('reads a schema 3 body (every field written) as it is', () => {
    const events = [ev(1), ev(2, { sessionKey: 'agent:main:other', agentId: 'ops' })];
    expect(decodeChunk(JSON.stringify(events), KEY)).toEqual(events);
    expect(decodeChunk('[]', KEY)).toEqual([]);
  });
});

/**
 * Event sequences recorded from clawpulse's own sources following the REAL OpenClaw live
 * (conformance runs of 2026-11-21, one session each, in arrival order), replayed through the
 * model. They pin down, deterministically, what the live runs show only when timing allows:
 * OpenClaw saves the session row as `running` a moment AFTER the run's end, then as `done`;
 * the model once re-activated the session on that late row and never ended it again.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { PulseEvent } from '../../src/model/events.js';
import { createView } from './view.js';

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'recorded');

function replay(file: string) {
  const view = createView(file);
  const events = fs
    .readFileSync(path.join(DIR, file), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as PulseEvent);
  view.ingest(events);
  return { view, events };
}

describe.each([
  ['files-2026.7.35-conf-tool.events.jsonl', 'files (sessions.json + JSONL)'],
  ['sqlite-2026.9.6-conf-tool.events.jsonl', 'sqlite (session_nodes + transcript_events)'],
])('%s: %s', (file) => {
  it('is the recorded shape: the run ends ok, then the row says running, then done', () => {
    const { events } = replay(file);
    const finished = events.findIndex((e) => e.type === 'agent.finished');
    const after = events.slice(finished + 1).map((e) => (e.type === 'session.seen' ? e.rowStatus : e.type));
    expect(events[finished]).toMatchObject({ type: 'agent.finished', outcome: 'ok' });
    expect(after).toEqual(['running', 'done']);
  });

  it('never shows the session active again after its run finished (no flicker on the late row)', () => {
    const view = createView(file);
    const events = fs
      .readFileSync(path.join(DIR, file), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as PulseEvent);
    const after: string[] = [];
    let finished = false;
    for (const e of events) {
      view.ingest([e]);
      if (e.type === 'agent.finished') finished = true;
      else if (finished) after.push(`${e.type}:${view.tracker.get('agent:main:conf-tool')?.status}`);
    }
    expect(after).toEqual(['session.seen:idle', 'session.seen:idle']);
  });

  it('leaves the session finished (not active) once the row says done', () => {
    const { view } = replay(file);
    const s = view.tracker.get('agent:main:conf-tool');
    expect(s?.tools.map((t) => `${t.name}:${t.status}`)).toEqual(['exec:ok']);
    expect(s?.runOpen).toBe(false);
    expect(s?.status).not.toBe('active');
  });
});

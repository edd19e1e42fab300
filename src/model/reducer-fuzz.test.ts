/**
 * Seeded random event streams (valid and garbage mixed): the reducer never throws and its
 * invariants hold after every step: line cap, open-tool counters, the live set, parent links.
 */
import { describe, expect, it } from 'vitest';
import { toLiveStatusProps } from '../render/livestatus-tree.js';
import { renderStatusBox } from '../render/status-box.js';
import { renderTerminalFrame } from '../render/terminal.js';
import { BUILTIN_TOOL_LABELS } from '../render/tool-labels.js';
import type { PulseEvent } from './events.js';
import { createTrackerState, reduce } from './reducer.js';
import type { TrackerLimits } from './session.js';
import type { TrackerState } from './state.js';
import { interruptAllState, tickState } from './stuck.js';
import { codePointLength } from './text.js';

const limits: TrackerLimits = {
  maxStatusLines: 5,
  idleTimeoutMs: 1000,
  maxSessionDurationMs: 20_000,
  stuckAfterMs: 3000,
};

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

const TYPES = [
  'session.seen',
  'agent.started',
  'agent.finished',
  'agent.step_started',
  'assistant.text',
  'tool.call',
  'tool.output',
  'tool.error',
  'subagent.spawned',
  'subagent.finished',
  'llm.tokens',
  'llm.error',
  'session.compacted',
  'session.reset',
  'session.stuck',
  'bogus.type',
] as const;

function randomEvent(r: () => number, ts: number, i: number): PulseEvent {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const keys = ['a', 'b', 'c', 'agent:main:subagent:d', 'agent:x:e'];
  const runs = ['r1', 'r2', 'r3'];
  const type = pick(TYPES);
  const base = { type, ts, source: 'demo', sessionKey: pick(keys), agentId: 'main', dedupeKey: `f${i}` };
  const extra: Record<string, unknown> = {
    runId: pick(runs),
    callId: pick(['c1', 'c2', 'c3']),
    name: pick(['exec', 'read']),
    outcome: pick(['ok', 'error', 'aborted']),
    text: pick(['hello', '', '[[reply_to_current]]', 'line\nline2', '🚀'.repeat(300)]),
    parentKey: pick([...keys, undefined]),
    childKey: pick(keys),
    updatedAt: r() < 0.5 ? ts + Math.floor(r() * 5000) : undefined,
    rowStatus: pick(['running', 'done', 'failed', undefined]),
    input: r() < 0.9 ? 10 : Number.NaN,
    output: 5,
    cacheRead: 0,
    cacheWrite: 0,
    reasoning: 0,
    costUsd: 0.01,
    message: 'overloaded',
    retryable: true,
    mode: pick(['append', 'rewrite']),
    error: 'e',
  };
  // sometimes drop a required field: garbage must be survivable too
  if (r() < 0.05) delete extra[pick(Object.keys(extra))];
  return { ...base, ...extra } as unknown as PulseEvent;
}

function checkInvariants(state: TrackerState): void {
  for (const s of state.sessions.values()) {
    expect(s.lines.length).toBeLessThanOrEqual(limits.maxStatusLines);
    const running = s.tools.filter((t) => t.status === 'running').length;
    expect(state.indexes.get(s.key)?.open).toBe(running);
    const live = s.status === 'active' || s.status === 'idle' || s.status === 'stuck';
    expect(state.live.has(s.key)).toBe(live);
    for (const c of s.children) expect(state.sessions.get(c)?.parentKey).toBe(s.key);
    expect(new Set(s.children).size).toBe(s.children.length);
    expect(Number.isFinite(s.tokens.total)).toBe(true);
    for (let i = 1; i < s.lines.length; i++) {
      expect((s.lines[i]?.ts ?? 0) >= (s.lines[i - 1]?.ts ?? 0)).toBe(true);
    }
  }
}

describe('reducer fuzz', () => {
  for (const seed of [1, 7, 42, 1234]) {
    it(`seed ${seed}: never throws, invariants hold`, () => {
      const r = rng(seed);
      const state = createTrackerState();
      let ts = 1000;
      for (let i = 0; i < 3000; i++) {
        ts += Math.floor(r() * 400) - 50; // mostly forward, sometimes back
        reduce(state, randomEvent(r, ts, i), limits);
        if (i % 50 === 0) tickState(state, ts + Math.floor(r() * 30_000), limits);
        if (i % 100 === 0) checkInvariants(state);
      }
      interruptAllState(state, ts, 'end');
      checkInvariants(state);
      expect(state.live.size).toBe(0);
      // every view renders whatever the model holds
      const lookup = (k: string) => state.sessions.get(k);
      for (const s of state.sessions.values()) {
        const box = renderStatusBox(s, lookup, { now: ts, toolLabels: BUILTIN_TOOL_LABELS, maxChars: 300 });
        expect(codePointLength(box)).toBeLessThanOrEqual(300);
        expect(JSON.stringify(toLiveStatusProps(s, lookup, ts, BUILTIN_TOOL_LABELS))).toContain(s.key);
      }
      const frame = renderTerminalFrame([...state.sessions.values()], lookup, {
        now: ts,
        toolLabels: BUILTIN_TOOL_LABELS,
        width: 40,
        wrap: true,
      });
      expect(frame.length).toBeGreaterThan(0);
    });
  }
});

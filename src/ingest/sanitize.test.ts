import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../infra/clock.js';
import { silentLogger } from '../infra/logger.js';
import type { LlmTokensEvent, PulseEvent } from '../model/events.js';
import { renderMetrics } from '../server/metrics.js';
import type { SseStats } from '../server/sse-hub.js';
import { createFileSource } from './files/file-source.js';
import { createMemorySink, line, msg, tempStateDir } from './files/test-helpers.js';
import { capId, clipText, createSanitizer, exactInt, SANE } from './sanitize.js';

// the test clock stays ahead of the wall clock (the window's top is the later of the two): a
// fixed date here made the "a day ahead" case pass only until that day came
const NOW = Date.UTC(new Date().getUTCFullYear() + 1, 0, 1, 12);
const base = { source: 'files' as const, sessionKey: 'agent:main:main', agentId: 'main' };

function tokens(over: Partial<LlmTokensEvent> = {}): LlmTokensEvent {
  return {
    type: 'llm.tokens',
    ts: NOW - 1000,
    ...base,
    dedupeKey: 'k/llm.tokens/0',
    input: 100,
    output: 20,
    cacheRead: 5,
    cacheWrite: 0,
    reasoning: 0,
    costUsd: 0.01,
    ...over,
  };
}

const sanitizer = () => createSanitizer({ now: () => NOW });

describe('sanitize: one rule for every source', () => {
  it('leaves a sane event exactly as it was and counts nothing', () => {
    const s = sanitizer();
    const e = tokens();
    const copy = structuredClone(e);
    const text: PulseEvent = { type: 'assistant.text', ts: NOW, ...base, dedupeKey: 't', text: 'hello' };
    s.events([e, text]);
    expect(e).toEqual(copy);
    expect(text).toMatchObject({ ts: NOW, text: 'hello' });
    expect(s.anomalies).toBe(0);
  });

  it('a time before 2020 or more than a day ahead becomes the receive time, counted', () => {
    const s = sanitizer();
    const times = [1e308, -1, -(2 ** 63), 0, Number.NaN, Date.UTC(2554, 6, 21), NOW + SANE.futureMs + 1];
    const events = times.map(
      (ts, i): PulseEvent => ({ type: 'agent.started', ts, ...base, dedupeKey: `${i}`, runId: 'r' }),
    );
    s.events(events);
    expect(events.map((e) => e.ts)).toEqual(times.map(() => NOW));
    expect(s.anomalies).toBe(times.length);
    // the edges are in
    const edge: PulseEvent[] = [
      { type: 'agent.started', ts: SANE.minTs, ...base, dedupeKey: 'a', runId: 'r' },
      { type: 'agent.started', ts: NOW + SANE.futureMs, ...base, dedupeKey: 'b', runId: 'r' },
    ];
    s.events(edge);
    expect(edge.map((e) => e.ts)).toEqual([SANE.minTs, NOW + SANE.futureMs]);
  });

  it('the window is anchored on the wall clock too: a test clock in 2001 does not make real data future', () => {
    const s = createSanitizer({ now: () => 1e12 });
    const e: PulseEvent = {
      type: 'agent.started',
      ts: Date.now() - 1000,
      ...base,
      dedupeKey: 'a',
      runId: 'r',
    };
    const ts = e.ts;
    s.events([e]);
    expect(e.ts).toBe(ts);
  });

  it('token counts past 100M, negative or not numbers drop to 0; fractions are rounded; cost past $10k drops to 0', () => {
    const s = sanitizer();
    const e = tokens({
      input: 2 ** 64,
      output: -1,
      cacheRead: 1.6,
      cacheWrite: SANE.maxTokens,
      reasoning: Number.NaN,
      costUsd: 1e308,
    });
    s.events([e]);
    expect(e).toMatchObject({
      input: 0,
      output: 0,
      cacheRead: 2,
      cacheWrite: SANE.maxTokens,
      reasoning: 0,
      costUsd: 0,
    });
    expect(s.anomalies).toBe(5);
    const neg = tokens({ costUsd: -0.5, input: SANE.maxTokens + 1 });
    s.events([neg]);
    expect(neg).toMatchObject({ costUsd: 0, input: 0, output: 20 });
  });

  it('durations, steps, statuses and depths out of bounds are dropped; updatedAt out of the window too', () => {
    const s = sanitizer();
    const events: PulseEvent[] = [
      {
        type: 'tool.output',
        ts: NOW,
        ...base,
        dedupeKey: 'a',
        runId: 'r',
        callId: 'c',
        name: 'exec',
        durationMs: -5,
      },
      {
        type: 'tool.error',
        ts: NOW,
        ...base,
        dedupeKey: 'b',
        runId: 'r',
        callId: 'c',
        name: 'exec',
        durationMs: 1e13,
        error: 'x',
      },
      {
        type: 'tool.output',
        ts: NOW,
        ...base,
        dedupeKey: 'c',
        runId: 'r',
        callId: 'd',
        name: 'exec',
        durationMs: 1234,
      },
      { type: 'session.stuck', ts: NOW, ...base, dedupeKey: 'd', ageMs: 2 ** 64 },
      { type: 'agent.step_started', ts: NOW, ...base, dedupeKey: 'e', runId: 'r', step: 1.5 },
      { type: 'llm.error', ts: NOW, ...base, dedupeKey: 'f', message: 'm', status: 99_999, retryable: false },
      { type: 'session.seen', ts: NOW, ...base, dedupeKey: 'g', updatedAt: 1e308, spawnDepth: -1 },
      { type: 'session.seen', ts: NOW, ...base, dedupeKey: 'h', updatedAt: NOW - 5, spawnDepth: 2 },
    ];
    s.events(events);
    expect(events[0]).not.toHaveProperty('durationMs');
    expect(events[1]).not.toHaveProperty('durationMs');
    expect(events[2]).toMatchObject({ durationMs: 1234 });
    expect(events[3]).not.toHaveProperty('ageMs');
    expect(events[4]).not.toHaveProperty('step');
    expect(events[5]).not.toHaveProperty('status');
    expect(events[6]).not.toHaveProperty('updatedAt');
    expect(events[6]).not.toHaveProperty('spawnDepth');
    expect(events[7]).toMatchObject({ updatedAt: NOW - 5, spawnDepth: 2 });
    expect(s.anomalies).toBe(7);
  });

  it('text past its cap ends in an ASCII marker naming the bytes left out; clipping is no anomaly', () => {
    const s = sanitizer();
    const big = `${'é'.repeat(10)}${'x'.repeat(4 * 1024 * 1024)}`;
    const events: PulseEvent[] = [
      { type: 'assistant.text', ts: NOW, ...base, dedupeKey: 'a', text: big },
      {
        type: 'tool.output',
        ts: NOW,
        ...base,
        dedupeKey: 'b',
        runId: 'r',
        callId: 'c',
        name: 'exec',
        output: big,
      },
      {
        type: 'tool.call',
        ts: NOW,
        ...base,
        dedupeKey: 'c',
        runId: 'r',
        callId: 'c',
        name: 'exec',
        args: big,
      },
      { type: 'llm.error', ts: NOW, ...base, dedupeKey: 'd', message: big, retryable: true },
      // a transcript header's cwd (usage groups by it as `repo`)
      { type: 'session.seen', ts: NOW, ...base, dedupeKey: 'e', cwd: big },
    ];
    s.events(events);
    expect((events[4] as Extract<PulseEvent, { type: 'session.seen' }>).cwd?.length).toBeLessThanOrEqual(
      SANE.maxPath,
    );
    const [text, output, call, err] = events as [
      Extract<PulseEvent, { type: 'assistant.text' }>,
      Extract<PulseEvent, { type: 'tool.output' }>,
      Extract<PulseEvent, { type: 'tool.call' }>,
      Extract<PulseEvent, { type: 'llm.error' }>,
    ];
    expect(text.text.length).toBeLessThanOrEqual(SANE.maxText);
    expect(output.output?.length).toBeLessThanOrEqual(SANE.maxDetail);
    expect(call.args?.length).toBeLessThanOrEqual(SANE.maxArgs);
    expect(err.message.length).toBeLessThanOrEqual(SANE.maxDetail);
    const kept = text.text.slice(0, text.text.indexOf('... [clipped'));
    const dropped = Buffer.byteLength(big) - Buffer.byteLength(kept);
    expect(text.text).toBe(`${kept}... [clipped ${dropped} bytes]`);
    expect(s.anomalies).toBe(0);
  });

  it('clipText never splits a surrogate pair and stays within max', () => {
    const s = `${'a'.repeat(100 - 33)}😀${'b'.repeat(500)}`;
    const c = clipText(s, 100);
    expect(c.length).toBeLessThanOrEqual(100);
    expect(c).toMatch(/^a+\.\.\. \[clipped \d+ bytes\]$/);
    expect(clipText('short', 100)).toBe('short');
  });

  it('a long identity becomes a bounded, stable and still unique id', () => {
    const a = `agent:main:${'x'.repeat(5000)}:a`;
    const b = `agent:main:${'x'.repeat(5000)}:b`;
    expect(capId(a)).toHaveLength(SANE.maxId);
    expect(capId(a)).toBe(capId(a));
    expect(capId(a)).not.toBe(capId(b));
    expect(capId('agent:main:main')).toBe('agent:main:main');
    const s = sanitizer();
    const e: PulseEvent = {
      type: 'tool.call',
      ts: NOW,
      ...base,
      sessionKey: a,
      dedupeKey: `${a}/k`,
      runId: a,
      callId: b,
      name: 'n',
    };
    s.events([e]);
    expect(e).toMatchObject({
      sessionKey: capId(a),
      dedupeKey: capId(`${a}/k`),
      runId: capId(a),
      callId: capId(b),
    });
  });

  it('exactInt: a number only when the integer is exact', () => {
    expect(exactInt('42')).toBe(42);
    expect(exactInt('-7')).toBe(-7);
    expect(exactInt(5)).toBe(5);
    expect(exactInt('9007199254740991')).toBe(9007199254740991);
    expect(exactInt('9007199254740993')).toBeUndefined();
    expect(exactInt('18446744073709551616')).toBeUndefined();
    expect(exactInt(2 ** 64)).toBeUndefined();
    expect(exactInt('1e3')).toBeUndefined();
    expect(exactInt('NaN')).toBeUndefined();
    expect(exactInt(1.5)).toBeUndefined();
  });

  it('the file source bounds what a transcript says and reports the anomalies in its health', async () => {
    const { stateDir, sessions } = tempStateDir();
    const sid = '11111111-2222-4333-8444-555555555555';
    fs.writeFileSync(
      path.join(sessions, 'sessions.json'),
      JSON.stringify({ 'agent:main:main': { sessionId: sid, updatedAt: NOW - 60_000 } }),
    );
    const absurd = (id: string, role: string, ts: number, extra: Record<string, unknown> = {}) =>
      line({ ...msg(id, { role, content: [{ type: 'text', text: 'hi' }], timestamp: ts, ...extra }) });
    fs.writeFileSync(
      path.join(sessions, `${sid}.jsonl`),
      absurd('u1', 'user', 1e308) +
        absurd('a1', 'assistant', -(2 ** 63), {
          stopReason: 'stop',
          usage: { input: 2 ** 64, output: 3, cacheRead: 0, cacheWrite: 0, cost: { total: 1e308 } },
        }),
    );
    const sink = createMemorySink();
    const src = createFileSource({
      stateDir,
      sink,
      offsets: sink,
      logger: silentLogger,
      clock: new ManualClock(NOW),
      usePolling: true,
    });
    await src.start();
    await src.stop();
    const fromTranscript = sink.events.filter((e) => e.type !== 'session.seen');
    expect(fromTranscript.length).toBeGreaterThan(3);
    for (const e of fromTranscript) expect(e.ts).toBe(NOW);
    expect(sink.ofType('llm.tokens')[0]).toMatchObject({ input: 0, output: 3, costUsd: 0 });
    expect(src.health().anomalies).toBe(fromTranscript.length + 2);
    expect(src.health().lastEventAt).toBe(NOW);
  });

  it('/metrics carries the anomaly count of each source', () => {
    const text = renderMetrics(
      {
        pipeline: { ingested: 0, duplicates: 0, batches: 0, listenerErrors: 0 },
        sources: [
          { id: 'files', kind: 'files', state: 'live', lagMs: 0, malformed: 0, anomalies: 5 },
          { id: 'otlp', kind: 'otlp', state: 'live', lagMs: 0, malformed: 0 },
        ],
        sinks: [],
        sessions: { active: 0, idle: 0, stuck: 0, error: 0, done: 0, interrupted: 0 },
      },
      {} as SseStats,
    );
    expect(text).toContain('clawpulse_source_anomalies_total{source="files",kind="files"} 5');
    expect(text).toContain('clawpulse_source_anomalies_total{source="otlp",kind="otlp"} 0');
  });
});

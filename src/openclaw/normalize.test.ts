import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PulseEvent } from '../model/events.js';
import { sessionTag } from './event-keys.js';
import { createTranscriptNormalizer } from './normalize.js';
import { parseSessionsJson, sessionEntryToEvents } from './sessions-json.js';
import { parseTranscriptLine } from './transcript.js';

const FIX = path.resolve('test/fixtures/openclaw/v2026.7.35');
const PARENT = 'daa6b28a-5388-4104-8e50-89a5a783e4c6';
const CHILD = '98b47024-154f-495f-95d6-aaedbec7b8ed';

function normalizeLines(lines: unknown[], sessionId = 's1', sessionKey = 'agent:main:main'): PulseEvent[] {
  const n = createTranscriptNormalizer({ sessionKey, agentId: 'main', sessionId, source: 'files' });
  return lines.flatMap((l) => n.push(l).events);
}
function readFixture(id: string): unknown[] {
  return fs
    .readFileSync(path.join(FIX, `${id}.jsonl`), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}
const ofType = <T extends PulseEvent['type']>(evs: PulseEvent[], t: T) =>
  evs.filter((e): e is Extract<PulseEvent, { type: T }> => e.type === t);

describe('transcript normalizer on the real 2026.7.35 parent transcript', () => {
  const evs = normalizeLines(readFixture(PARENT), PARENT);

  it('finds three runs: local turn, gateway turn with the spawn, announce turn', () => {
    const started = ofType(evs, 'agent.started');
    expect(started.map((e) => e.runId)).toEqual([
      `${sessionTag(PARENT)}:r:e532d698`,
      `${sessionTag(PARENT)}:r:2ac9b877`,
      `${sessionTag(PARENT)}:r:dd3098ba`,
    ]);
    const finished = ofType(evs, 'agent.finished');
    expect(finished.map((e) => e.outcome)).toEqual(['ok', 'ok', 'ok']);
  });

  it('emits tool calls with summarized args and their outputs with durations', () => {
    const calls = ofType(evs, 'tool.call');
    expect(calls.map((c) => c.name)).toEqual(['exec', 'sessions_spawn', 'exec', 'exec']);
    expect(calls[0]?.args).toBe('ls /tmp | head -3');
    const outs = ofType(evs, 'tool.output');
    expect(outs).toHaveLength(4);
    expect(outs[0]).toMatchObject({
      callId: 'call_fake_1',
      name: 'exec',
      durationMs: 126,
      runId: calls[0]?.runId,
    });
    expect(outs[0]?.output).toContain('bash_jobs.0');
  });

  it('links the sub-agent from the sessions_spawn result with the label from the call', () => {
    const sp = ofType(evs, 'subagent.spawned');
    expect(sp).toHaveLength(1);
    expect(sp[0]).toMatchObject({
      parentKey: 'agent:main:main',
      childKey: 'agent:main:subagent:d8962e0f-3bd5-4e5d-a8cc-eaa16e63acf8',
      label: 'fake-child',
      dedupeKey: 'spawn/agent:main:main/agent:main:subagent:d8962e0f-3bd5-4e5d-a8cc-eaa16e63acf8',
    });
  });

  it('counts tokens and cost per assistant message', () => {
    const t = ofType(evs, 'llm.tokens');
    expect(t).toHaveLength(7);
    expect(t.reduce((a, e) => a + e.input, 0)).toBe(7957 + 8039 + 8221 + 8485 + 9305 + 9387 + 9469);
    expect(t[0]).toMatchObject({ output: 12, model: 'fake-model', provider: 'fake', reasoning: 0 });
    expect(t[0]?.costUsd).toBeCloseTo(0.007981, 6);
  });

  it('emits assistant text and unique, stable dedupe keys', () => {
    expect(ofType(evs, 'assistant.text').at(-1)?.text).toBe('Stopping after several tool calls.');
    const keys = evs.map((e) => e.dedupeKey);
    expect(new Set(keys).size).toBe(keys.length);
    const again = normalizeLines(readFixture(PARENT), PARENT);
    expect(again.map((e) => e.dedupeKey)).toEqual(keys);
    expect(keys).toContain(`${PARENT}/f2b2ce48/tool.call/0`);
  });
});

describe('sessions.json + child transcript', () => {
  const sj = parseSessionsJson(JSON.parse(fs.readFileSync(path.join(FIX, 'sessions.json'), 'utf8')));
  it('normalizes both entries with parent link, status and channel', () => {
    expect(sj.entries).toHaveLength(2);
    const child = sj.entries.find((e) => e.sessionId === CHILD);
    expect(child).toMatchObject({
      sessionKey: 'agent:main:subagent:d8962e0f-3bd5-4e5d-a8cc-eaa16e63acf8',
      agentId: 'main',
      spawnedBy: 'agent:main:main',
      spawnDepth: 1,
      label: 'fake-child',
      status: 'done',
      model: 'fake-model',
      provider: 'fake',
      channel: { provider: 'webchat' },
    });
    if (!child) throw new Error('child entry missing');
    const evs = sessionEntryToEvents(child, 'files', 0);
    expect(evs.map((e) => e.type)).toEqual(['session.seen', 'subagent.spawned']);
    // same fact as the transcript's spawn result: same key, so the store keeps one
    const fromTranscript = ofType(normalizeLines(readFixture(PARENT), PARENT), 'subagent.spawned')[0];
    expect(evs[1]?.dedupeKey).toBe(fromTranscript?.dedupeKey);
  });
  it('the child transcript is one ok run with one exec', () => {
    const evs = normalizeLines(readFixture(CHILD), CHILD, child());
    expect(ofType(evs, 'agent.started')).toHaveLength(1);
    expect(ofType(evs, 'tool.call')[0]?.callId).toBe('call_fake_5');
    expect(ofType(evs, 'agent.finished')[0]?.outcome).toBe('ok');
  });
  function child(): string {
    return sj.entries.find((e) => e.sessionId === CHILD)?.sessionKey ?? 'missing';
  }
});

const msg = (id: string, message: Record<string, unknown>) => ({
  type: 'message',
  id,
  parentId: null,
  timestamp: '2026-11-21T10:00:00.000Z',
  message,
});
const usage = (input: number, output: number, total = 0) => ({
  input,
  output,
  cacheRead: 0,
  cacheWrite: 0,
  totalTokens: input + output,
  cost: { total },
});

describe('made-up edge cases', () => {
  it('a 529 overloaded error then a retry that succeeds: llm.error 529 retryable, two runs', () => {
    const evs = normalizeLines([
      msg('u1', { role: 'user', content: 'hi', timestamp: 1000 }),
      msg('a1', {
        role: 'assistant',
        content: [],
        stopReason: 'error',
        usage: usage(0, 0),
        timestamp: 1100,
        errorMessage: '529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
      }),
      msg('a2', {
        role: 'assistant',
        content: [{ type: 'text', text: 'hello' }],
        stopReason: 'stop',
        usage: usage(10, 5, 0.01),
        timestamp: 1200,
      }),
    ]);
    const err = ofType(evs, 'llm.error');
    expect(err).toHaveLength(1);
    expect(err[0]).toMatchObject({ status: 529, retryable: true });
    expect(ofType(evs, 'agent.started').map((e) => e.runId)).toEqual(['s1:r:u1', 's1:r:a2']);
    expect(ofType(evs, 'agent.finished').map((e) => [e.outcome, e.error?.slice(0, 3)])).toEqual([
      ['error', '529'],
      ['ok', undefined],
    ]);
    expect(ofType(evs, 'llm.tokens')).toHaveLength(1);
  });

  it('classifies 429 retryable, 400 not, overloaded without code as 529, fetch failed without status', () => {
    const one = (m: string) =>
      ofType(
        normalizeLines([msg('a', { role: 'assistant', content: [], stopReason: 'error', errorMessage: m })]),
        'llm.error',
      )[0];
    expect(one('429 Too Many Requests')).toMatchObject({ status: 429, retryable: true });
    expect(one('400 invalid request')).toMatchObject({ status: 400, retryable: false });
    expect(one('{"type":"overloaded_error"}')).toMatchObject({ status: 529, retryable: true });
    expect(one('fetch failed')?.status).toBeUndefined();
  });

  it('correlates tool results by run when call ids repeat across runs; isError and details.status error', () => {
    const evs = normalizeLines([
      msg('u1', { role: 'user', content: 'one', timestamp: 1 }),
      msg('a1', {
        role: 'assistant',
        content: [{ type: 'toolCall', id: 'c1', name: 'read', arguments: { path: '/a' } }],
        stopReason: 'toolUse',
        timestamp: 2,
      }),
      msg('t1', {
        role: 'toolResult',
        toolCallId: 'c1',
        toolName: 'read',
        content: [{ type: 'text', text: 'no such file' }],
        isError: true,
        timestamp: 5,
      }),
      msg('a2', {
        role: 'assistant',
        content: [{ type: 'text', text: 'ok' }],
        stopReason: 'stop',
        timestamp: 6,
      }),
      msg('u2', { role: 'user', content: 'two', timestamp: 7 }),
      msg('a3', {
        role: 'assistant',
        content: [{ type: 'toolCall', id: 'c1', name: 'exec', arguments: { command: 'x' } }],
        stopReason: 'toolUse',
        timestamp: 8,
      }),
      msg('t3', {
        role: 'toolResult',
        toolCallId: 'c1',
        toolName: 'exec',
        content: [{ type: 'text', text: 'boom' }],
        details: { status: 'error', error: 'exit 1' },
        isError: false,
        timestamp: 9,
      }),
    ]);
    const errs = ofType(evs, 'tool.error');
    expect(errs.map((e) => [e.runId, e.name, e.error, e.durationMs])).toEqual([
      ['s1:r:u1', 'read', 'no such file', 3],
      ['s1:r:u2', 'exec', 'exit 1', 1],
    ]);
    expect(ofType(evs, 'tool.call')[0]?.args).toBe('/a');
  });

  it('internal-context user lines do not start runs; tool_call indirection uses the inner name', () => {
    const evs = normalizeLines([
      msg('u1', { role: 'user', content: 'go', timestamp: 1 }),
      msg('a1', {
        role: 'assistant',
        content: [
          {
            type: 'toolCall',
            id: 'c9',
            name: 'tool_call',
            arguments: { id: 'sessions_spawn', args: { task: 't', label: 'kid' } },
          },
        ],
        stopReason: 'toolUse',
        timestamp: 2,
      }),
      msg('t1', {
        role: 'toolResult',
        toolCallId: 'c9',
        toolName: 'tool_call',
        content: [
          {
            type: 'text',
            text: '{"result":{"content":[{"type":"text","text":"{\\n  \\"childSessionKey\\": \\"agent:main:subagent:abc\\"\\n}"}]}}',
          },
        ],
        isError: false,
        timestamp: 3,
      }),
      msg('u2', {
        role: 'user',
        content: '<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>> active subagents',
        timestamp: 4,
      }),
      msg('a2', {
        role: 'assistant',
        content: [{ type: 'text', text: 'waiting' }],
        stopReason: 'stop',
        timestamp: 5,
      }),
    ]);
    expect(ofType(evs, 'agent.started')).toHaveLength(1);
    expect(ofType(evs, 'tool.call')[0]?.name).toBe('sessions_spawn');
    expect(ofType(evs, 'subagent.spawned')[0]).toMatchObject({
      childKey: 'agent:main:subagent:abc',
      label: 'kid',
    });
  });

  it('compaction, reset, prompt-error; unknown types pass; garbage is an error not a throw', () => {
    const n = createTranscriptNormalizer({
      sessionKey: 'k',
      agentId: 'main',
      sessionId: 's',
      source: 'sqlite',
    });
    expect(
      n.push({
        type: 'compaction',
        id: 'c',
        timestamp: '2026-11-21T10:00:00Z',
        summary: 'x',
        firstKeptEntryId: 'y',
        tokensBefore: 5,
      }).events[0],
    ).toMatchObject({ type: 'session.compacted', mode: 'append', ts: Date.parse('2026-11-21T10:00:00Z') });
    expect(
      n.push({ type: 'reset', id: 'r', timestamp: '2026-11-21T10:00:01Z', reason: 'new' }).events[0]?.type,
    ).toBe('session.reset');
    expect(n.push({ type: 'branch_summary', id: 'b', summary: 'z' })).toEqual({ events: [] });
    expect(
      n.push({
        type: 'custom',
        id: 'p',
        customType: 'openclaw:prompt-error',
        data: { error: '503 unavailable', runId: 'r9' },
      }).events[0],
    ).toMatchObject({ type: 'llm.error', status: 503, retryable: true });
    expect(n.push(42).error).toBeTruthy();
    expect(n.push({ nope: 1 }).error).toBeTruthy();
    expect(n.push({ type: 'message', id: 'm' }).error).toBeTruthy();
  });

  it('state() survives a restart: a result after restart joins its call', () => {
    const a = createTranscriptNormalizer({
      sessionKey: 'k',
      agentId: 'main',
      sessionId: 's',
      source: 'files',
    });
    a.push(msg('u1', { role: 'user', content: 'x', timestamp: 1 }));
    a.push(
      msg('a1', {
        role: 'assistant',
        content: [{ type: 'toolCall', id: 'c', name: 'exec', arguments: { command: 'ls' } }],
        stopReason: 'toolUse',
        timestamp: 2,
      }),
    );
    const b = createTranscriptNormalizer({
      sessionKey: 'k',
      agentId: 'main',
      sessionId: 's',
      source: 'files',
      initial: JSON.parse(JSON.stringify(a.state())),
    });
    const evs = b.push(
      msg('t', { role: 'toolResult', toolCallId: 'c', toolName: 'exec', content: 'ok', timestamp: 12 }),
    ).events;
    expect(evs[0]).toMatchObject({ type: 'tool.output', runId: 's:r:u1', name: 'exec', durationMs: 10 });
    const next = b.push(
      msg('a2', { role: 'assistant', content: [], stopReason: 'stop', timestamp: 13 }),
    ).events;
    expect(next.map((e) => e.type)).toEqual(['agent.step_started', 'agent.finished']);
  });
});

describe('2026.9 line shapes (header v4, __openclaw run ids)', () => {
  it('uses the native run id from idempotencyKey / __openclaw.runId; an announce turn is a new run', () => {
    const evs = normalizeLines([
      { type: 'session', version: 4, id: 's9', timestamp: '2026-11-21T10:00:00.000Z', cwd: '/w' },
      msg('f66fa82a-77a0', {
        role: 'user',
        content: 'go',
        timestamp: 1,
        idempotencyKey: 'R1:user',
        __openclaw: { id: 'f66fa82a-77a0' },
      }),
      msg('2b927e5f-cbc3', {
        role: 'assistant',
        content: [{ type: 'text', text: 'a' }],
        stopReason: 'stop',
        timestamp: 2,
        __openclaw: { runId: 'R1' },
      }),
      msg('8c0aeda1-f459', {
        role: 'assistant',
        content: [{ type: 'text', text: 'b' }],
        stopReason: 'stop',
        timestamp: 3,
        __openclaw: { runId: 'announce:v1:x' },
      }),
    ]);
    expect(ofType(evs, 'agent.started').map((e) => e.runId)).toEqual(['R1', 'announce:v1:x']);
    expect(ofType(evs, 'agent.finished').map((e) => e.runId)).toEqual(['R1', 'announce:v1:x']);
  });
});

describe('lines are read in place, as parseTranscriptLine would give them', () => {
  // fields of the wrong type, unusable blocks before usable ones, non-finite numbers (1e400)
  const lines: unknown[] = [
    { type: 'session', id: 7, timestamp: 5 },
    msg('u', {
      role: 'user',
      content: [null, 3, { type: 'text', text: 'go' }],
      timestamp: 'x',
      idempotencyKey: 4,
    }),
    msg('a', {
      role: 'assistant',
      content: [
        { type: 'toolCall', name: 'exec' },
        [],
        { type: 'text', text: 1 },
        { type: 'text', text: 'hi' },
        { type: 'toolCall', id: 'c1', name: 'exec', arguments: { command: 'ls  -l\n' } },
      ],
      model: 1,
      provider: 'p',
      usage: { input: '12', output: 3, cacheRead: Number.POSITIVE_INFINITY, cost: { total: 'x' } },
      stopReason: 7,
      errorMessage: { m: 1 },
      timestamp: Number.NaN,
      __openclaw: { runId: 5 },
    }),
    msg('t', {
      role: 'toolResult',
      toolCallId: 'c1',
      toolName: 9,
      content: 'ok',
      isError: 'true',
      timestamp: 9,
    }),
    { type: 'custom', id: 'p', customType: 'openclaw:prompt-error', data: 'no' },
    { type: 'compaction', timestamp: '2026-11-21T10:00:00.000Z' },
  ];

  it('gives the same events as pushEntry of the parsed entries', () => {
    const opts = { sessionKey: 'k', agentId: 'main', sessionId: 's', source: 'files' } as const;
    const raw = createTranscriptNormalizer(opts);
    const parsed = createTranscriptNormalizer(opts);
    for (const line of lines) {
      const r = parseTranscriptLine(line);
      if (!r.ok) throw new Error(r.error);
      expect(JSON.stringify(raw.push(line).events)).toBe(JSON.stringify(parsed.pushEntry(r.entry)));
    }
    expect(raw.state()).toEqual(parsed.state());
  });

  it('numbers blocks without the unusable ones', () => {
    const evs = normalizeLines(lines, 's');
    expect(ofType(evs, 'assistant.text')[0]?.dedupeKey).toBe('s/a/assistant.text/0');
    expect(ofType(evs, 'tool.call')[0]).toMatchObject({ dedupeKey: 's/a/tool.call/1', args: 'ls -l' });
    expect(ofType(evs, 'llm.tokens')[0]).toMatchObject({ input: 0, output: 3, cacheRead: 0, costUsd: 0 });
    expect(ofType(evs, 'llm.tokens')[0]).not.toHaveProperty('model');
  });
});

describe('open tool calls', () => {
  const call = (id: string, callId: string, runId?: string) =>
    msg(id, {
      role: 'assistant',
      content: [{ type: 'toolCall', id: callId, name: 'exec', arguments: {} }],
      stopReason: 'toolUse',
      timestamp: 1,
      ...(runId ? { __openclaw: { runId } } : {}),
    });
  const result = (id: string, callId: string) =>
    msg(id, { role: 'toolResult', toolCallId: callId, content: 'ok', timestamp: 2 });

  it('keeps the newest 256; a result for an evicted call still reports (orphaned, no duration)', () => {
    const n = createTranscriptNormalizer({
      sessionKey: 'k',
      agentId: 'main',
      sessionId: 's',
      source: 'files',
    });
    n.push(msg('u', { role: 'user', content: 'go', timestamp: 0 }));
    for (let i = 0; i < 300; i++) n.push(call(`a${i}`, `c${i}`));
    const st = n.state();
    expect(st.pending).toHaveLength(256);
    expect(st.pending[0]?.[1]).toBe('c44');
    expect(n.push(result('t0', 'c0')).events[0]).not.toHaveProperty('durationMs');
    expect(n.push(result('t1', 'c299')).events[0]).toMatchObject({ durationMs: 1 });
    expect(n.state().pending).toHaveLength(255);
  });

  it('ids that join to the same run/call key are one pending call, as before', () => {
    // `${runId}\n${callId}`: run 'r' with call 'x\nc' and run 'r\nx' with call 'c' are one key
    const n = createTranscriptNormalizer({
      sessionKey: 'k',
      agentId: 'main',
      sessionId: 's',
      source: 'files',
    });
    n.push(call('a1', 'x\nc', 'r'));
    n.push(call('a2', 'c', 'r\nx'));
    expect(n.state().pending).toEqual([['r\nx', 'c', 'exec', 1]]);
  });
});

describe('session tag (the session part of run ids)', () => {
  it('is 8 hex digits for a UUID, different for UUIDs that share their time-ordered part', () => {
    // two UUIDv7 of the same millisecond share their first 12 hex digits; two UUIDv1 of one host their last 12
    const v7a = '019a8f2c-1b3d-7a00-8c11-5f0e2d3c4b5a';
    const v7b = '019a8f2c-1b3d-7a00-9d22-6a1f3e4d5c6b';
    const v1a = '6fa459ea-ee8a-11ee-9c1b-0242ac120002';
    const v1b = '6fa45b3e-ee8a-11ee-9c1b-0242ac120002';
    const tags = [v7a, v7b, v1a, v1b, PARENT].map(sessionTag);
    for (const t of tags) expect(t).toMatch(/^[0-9a-f]{8}$/);
    expect(new Set(tags).size).toBe(tags.length);
    expect(sessionTag('s1')).toBe('s1');
  });

  it('keeps apart the runs of two transcripts of one session key whose entry ids repeat', () => {
    const runs = ['11111111-2222-4333-8444-555555555555', '99999999-2222-4333-8444-555555555555'].map(
      (sessionId) => {
        const n = createTranscriptNormalizer({
          sessionKey: 'agent:main:k',
          agentId: 'main',
          sessionId,
          source: 'files',
        });
        const evs = n.push({
          type: 'message',
          id: 'u1',
          message: { role: 'user', content: 'hi', timestamp: 1 },
        }).events;
        return evs.find((e) => e.type === 'agent.started')?.runId;
      },
    );
    expect(runs[0]).toMatch(/^[0-9a-f]{8}:r:u1$/);
    expect(runs[0]).not.toBe(runs[1]);
  });
});

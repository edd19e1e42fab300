import { describe, expect, it } from 'vitest';
import type { PulseEvent } from '../../model/events.js';
import type { EventFrame } from './frames.js';
import { parseFrame } from './frames.js';
import { parseLlmError } from './llm-error.js';
import { createGatewayMapper } from './mapper.js';
import { describeConnectFailure, protocolOutOfRange, readHello } from './protocol.js';

const SK = 'agent:main:main';
const ev = (event: string, payload: unknown, seq?: number): EventFrame => ({
  type: 'event',
  event,
  payload,
  ...(seq ? { seq } : {}),
});
const agent = (runId: string, stream: string, seq: number, data: unknown, extra: object = {}) =>
  ev('agent', { runId, sessionKey: SK, agentId: 'main', stream, seq, ts: 1000 + seq, data, ...extra });

function run(frames: EventFrame[]): PulseEvent[] {
  const m = createGatewayMapper();
  return frames.flatMap((f) => m.mapEvent(f, 5000));
}

describe('gateway mapper', () => {
  it('a failed run: agent.finished error + one llm.error with the status and retryability', () => {
    const out = run([
      agent('r1', 'lifecycle', 1, { phase: 'start', startedAt: 1001 }),
      agent('r1', 'lifecycle', 2, { phase: 'model', provider: 'anthropic', model: 'claude' }),
      agent('r1', 'lifecycle', 3, {
        phase: 'error',
        endedAt: 1003,
        error: '529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
      }),
      ev('chat', {
        runId: 'r1',
        sessionKey: SK,
        seq: 3,
        state: 'error',
        errorMessage: 'Overloaded',
        errorKind: 'overloaded',
      }),
    ]);
    expect(out.map((e) => e.type)).toEqual([
      'agent.started',
      'agent.step_started',
      'agent.finished',
      'llm.error',
    ]);
    expect(out[2]).toMatchObject({ outcome: 'error', runId: 'r1' });
    expect(out[3]).toMatchObject({ status: 529, retryable: true, runId: 'r1' });
  });

  it('a chat error alone (rate limit kind) becomes llm.error 429', () => {
    const out = run([
      ev('chat', {
        runId: 'r2',
        sessionKey: SK,
        seq: 1,
        state: 'error',
        errorMessage: 'slow down',
        errorKind: 'rate_limit',
      }),
    ]);
    expect(out).toEqual([
      expect.objectContaining({ type: 'llm.error', status: 429, retryable: true, message: 'slow down' }),
    ]);
  });

  it('an aborted run ends aborted', () => {
    const out = run([
      agent('r3', 'lifecycle', 1, { phase: 'start' }),
      agent('r3', 'lifecycle', 2, { phase: 'end', aborted: true, stopReason: 'user' }),
    ]);
    expect(out[1]).toMatchObject({ type: 'agent.finished', outcome: 'aborted' });
  });

  it('without persisted messages, assistant text is emitted whole once, at the end of the run', () => {
    const out = run([
      agent('r4', 'lifecycle', 1, { phase: 'start' }),
      agent('r4', 'assistant', 2, { text: 'Reading the', delta: 'Reading the' }),
      agent('r4', 'assistant', 3, { text: 'Reading the code now.', delta: ' code now.' }),
      agent('r4', 'lifecycle', 4, { phase: 'end' }),
      ev('chat', {
        runId: 'r4',
        sessionKey: SK,
        seq: 4,
        state: 'final',
        message: { role: 'assistant', content: [{ type: 'text', text: 'Reading the code now.' }] },
      }),
    ]);
    expect(out.filter((e) => e.type === 'assistant.text')).toEqual([
      expect.objectContaining({ text: 'Reading the code now.', runId: 'r4' }),
    ]);
  });

  it('a failing tool becomes tool.error with its duration; a failing tool_call wrapper shows the inner name', () => {
    const out = run([
      ev('session.tool', {
        runId: 'r5',
        sessionKey: SK,
        ts: 2000,
        data: { phase: 'start', name: 'read', toolCallId: 'c1', args: { path: '/etc/x' } },
      }),
      ev('session.tool', {
        runId: 'r5',
        sessionKey: SK,
        ts: 2250,
        data: {
          phase: 'result',
          name: 'read',
          toolCallId: 'c1',
          isError: true,
          result: { content: [{ type: 'text', text: 'ENOENT' }] },
        },
      }),
      ev('session.tool', {
        runId: 'r5',
        sessionKey: SK,
        ts: 3000,
        data: {
          phase: 'start',
          name: 'tool_call',
          toolCallId: 'w1',
          args: { id: 'web_fetch', args: { url: 'http://x' } },
        },
      }),
      ev('session.tool', {
        runId: 'r5',
        sessionKey: SK,
        ts: 3100,
        data: { phase: 'result', name: 'tool_call', toolCallId: 'w1', isError: true, result: 'unknown tool' },
      }),
    ]);
    expect(out).toEqual([
      expect.objectContaining({ type: 'tool.call', name: 'read', args: '/etc/x', callId: 'c1' }),
      expect.objectContaining({ type: 'tool.error', name: 'read', error: 'ENOENT', durationMs: 250 }),
      expect.objectContaining({ type: 'tool.call', name: 'web_fetch', args: 'http://x', callId: 'w1' }),
      expect.objectContaining({ type: 'tool.error', name: 'web_fetch', error: 'unknown tool' }),
    ]);
  });

  it('item and session.tool reports of one tool give one call and one result', () => {
    const item = (phase: string, extra: object = {}) =>
      agent('r6', 'item', phase === 'start' ? 1 : 3, {
        kind: 'tool',
        phase,
        name: 'exec',
        toolCallId: 'c9',
        meta: 'list files',
        ...extra,
      });
    const out = run([
      item('start', { startedAt: 10 }),
      ev('session.tool', {
        runId: 'r6',
        sessionKey: SK,
        ts: 1001,
        data: { phase: 'start', name: 'exec', toolCallId: 'c9', args: { command: 'ls' } },
      }),
      ev('session.tool', {
        runId: 'r6',
        sessionKey: SK,
        ts: 1002,
        data: { phase: 'result', name: 'exec', toolCallId: 'c9', isError: false, result: 'a\nb' },
      }),
      item('end', { status: 'completed', startedAt: 10, endedAt: 30 }),
    ]);
    expect(out.map((e) => e.type)).toEqual(['tool.call', 'tool.output']);
    expect(out[1]).toMatchObject({ output: 'a\nb' });
  });

  it('frames without the fields it needs are skipped, not thrown', () => {
    const m = createGatewayMapper();
    expect(m.mapEvent(ev('agent', { stream: 'lifecycle' }), 1)).toEqual([]);
    expect(m.mapEvent(ev('agent', 'nope'), 1)).toEqual([]);
    expect(m.mapEvent(ev('session.tool', { runId: 'x', data: {} }), 1)).toEqual([]);
    expect(m.mapEvent(ev('sessions.changed', { reason: 'x' }), 1)).toEqual([]);
    expect(m.mapHistory(SK, { messages: [null, 3, { role: 'assistant' }] }, 0, 1)).toEqual([]);
    expect(m.stats().unmapped).toBeGreaterThanOrEqual(3);
  });
});

describe('gateway frames and handshake', () => {
  it('parses envelopes and rejects garbage', () => {
    expect(parseFrame('{"type":"event","event":"tick","payload":{"ts":1},"seq":4}')).toEqual({
      ok: true,
      frame: { type: 'event', event: 'tick', payload: { ts: 1 }, seq: 4 },
    });
    expect(parseFrame('{"type":"res","id":"1","ok":false,"error":{"code":"X","message":"m"}}')).toMatchObject(
      { ok: true, frame: { error: { code: 'X' } } },
    );
    for (const bad of ['', 'nope', '[]', '{"type":"event"}', '{"type":"res","id":"1"}', '{"type":1}'])
      expect(parseFrame(bad).ok).toBe(false);
  });

  it('reads hello-ok and refuses a protocol it does not speak', () => {
    expect(
      readHello({
        type: 'hello-ok',
        protocol: 4,
        policy: { tickIntervalMs: 15000 },
        server: { version: '2026.9.6' },
      }),
    ).toMatchObject({
      protocol: 4,
      tickIntervalMs: 15000,
      serverVersion: '2026.9.6',
    });
    expect(readHello({ type: 'hello-ok', protocol: 4 })).toMatchObject({ tickIntervalMs: 30000 });
    expect(protocolOutOfRange(4)).toBeUndefined();
    expect(protocolOutOfRange(7)?.message).toContain('3-4');
  });

  it('auth and protocol failures are told apart and never echo the token', () => {
    const auth = describeConnectFailure(
      { code: 'UNAUTHORIZED', message: 'bad token s3cret-tok' },
      'OPENCLAW_GATEWAY_TOKEN',
      's3cret-tok',
    );
    expect(auth.kind).toBe('auth');
    expect(auth.message).toContain('OPENCLAW_GATEWAY_TOKEN');
    expect(auth.message).not.toContain('s3cret-tok');
    const proto = describeConnectFailure(
      { code: 'INVALID_REQUEST', message: 'protocol mismatch', details: { expectedProtocol: 2 } },
      'x',
    );
    expect(proto).toMatchObject({ kind: 'protocol', serverRange: { min: 2, max: 2 } });
    expect(proto.message).toContain('the gateway speaks protocol 2');
  });

  it('reads provider statuses out of error text', () => {
    expect(parseLlmError('HTTP 503 Service Unavailable')).toMatchObject({ status: 503, retryable: true });
    expect(parseLlmError('400 invalid_request: prompt too long')).toMatchObject({
      status: 400,
      retryable: false,
    });
    expect(parseLlmError('Overloaded')).toMatchObject({ status: 529, retryable: true });
    expect(parseLlmError('model refused', 'auth')).toMatchObject({ status: 401, retryable: false });
  });
});

describe('gateway keys match the transcript normalizer', () => {
  it('tokens and text of the 2026.7.35 gateway turn carry the same dedupeKeys as the transcript lines', async () => {
    const fs = await import('node:fs');
    const path = await import('node:path');
    const { createTranscriptNormalizer } = await import('../normalize.js');
    const dir = path.resolve('test/fixtures/openclaw/v2026.7.35');
    const sid = 'daa6b28a-5388-4104-8e50-89a5a783e4c6';
    const n = createTranscriptNormalizer({
      sessionKey: SK,
      agentId: 'main',
      sessionId: sid,
      source: 'files',
    });
    const fromFile = fs
      .readFileSync(path.join(dir, `${sid}.jsonl`), 'utf8')
      .split('\n')
      .filter(Boolean)
      .flatMap((l) => n.push(JSON.parse(l)).events);
    const m = createGatewayMapper();
    const fromGateway = fs
      .readFileSync(path.join(dir, 'ws-frames.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { dir: string; frame: EventFrame })
      .filter((x) => x.dir === 'in' && x.frame.type === 'event')
      .flatMap((x) => m.mapEvent(x.frame, 0))
      .filter((e) => e.sessionKey === SK);
    const pick = (evs: PulseEvent[], t: string) => evs.filter((e) => e.type === t).map((e) => e.dedupeKey);
    const gwTokens = pick(fromGateway, 'llm.tokens');
    expect(gwTokens.length).toBe(5);
    for (const k of gwTokens) expect(pick(fromFile, 'llm.tokens')).toContain(k);
    for (const k of pick(fromGateway, 'assistant.text'))
      expect(pick(fromFile, 'assistant.text')).toContain(k);
  });
});

import { describe, expect, it } from 'vitest';
import { mapTraces } from './map-traces.js';
import type { KeyValue, OtlpSpan } from './proto.js';

const S = (k: string, v: string): KeyValue => ({ key: k, value: { stringValue: v } });
const T = '1795272000000000000';
const span = (name: string, attrs: KeyValue[], extra: Partial<OtlpSpan> = {}): OtlpSpan => ({
  traceId: 'ab'.repeat(16),
  spanId: 'cd'.repeat(8),
  name,
  startTimeUnixNano: T,
  endTimeUnixNano: '1795272000500000000',
  attributes: attrs,
  ...extra,
});
const map = (...spans: OtlpSpan[]) => mapTraces({ resourceSpans: [{ scopeSpans: [{ spans }] }] }, 0);

describe('span mapping', () => {
  it('reads OpenClaw outcomes: aborted runs, policy-blocked tools, classified provider errors', () => {
    const run = map(
      span('openclaw.run', [S('openclaw.outcome', 'aborted'), S('openclaw.agent', 'ops')]),
    ).events;
    expect(run[1]).toMatchObject({
      type: 'agent.finished',
      outcome: 'aborted',
      sessionKey: 'otlp:ops',
      agentId: 'ops',
    });
    expect(run[1]).not.toHaveProperty('error');

    const tool = map(
      span('openclaw.tool.execution', [
        S('openclaw.toolName', 'exec'),
        S('openclaw.deniedReason', 'sandbox'),
      ]),
    ).events;
    expect(tool[1]).toMatchObject({
      type: 'tool.error',
      name: 'exec',
      error: 'blocked: sandbox',
      durationMs: 500,
      callId: 'cd'.repeat(8),
    });

    const call = map(
      span('openclaw.model.call', [S('openclaw.errorCategory', 'overloaded')], { status: { code: 2 } }),
    ).events;
    expect(call.map((e) => e.type)).toEqual(['agent.step_started', 'llm.error']);
    expect(call[1]).toMatchObject({ status: 529, retryable: true, message: 'overloaded' });
    const auth = map(
      span('openclaw.model.call', [S('openclaw.errorCategory', 'auth')], {
        status: { code: 'STATUS_CODE_ERROR' },
      }),
    ).events;
    expect(auth[1]).toMatchObject({ status: 401, retryable: false });
  });

  it('maps stuck spans with their age, uses a real session key when given, and skips spans it does not know', () => {
    const r = map(
      span('openclaw.session.stuck', [
        S('openclaw.state', 'processing'),
        { key: 'openclaw.ageMs', value: { intValue: '120000' } },
        S('openclaw.sessionKey', 'agent:main:main'),
      ]),
      span('openclaw.webhook.processed', []),
      span('openclaw.run', [], { startTimeUnixNano: '0', endTimeUnixNano: 'garbage' }),
    );
    expect(r.events).toHaveLength(1);
    expect(r.events[0]).toMatchObject({
      type: 'session.stuck',
      ageMs: 120000,
      sessionKey: 'agent:main:main',
      agentId: 'main',
    });
    expect(r.rejected).toBe(1);
  });
});

import { describe, expect, it } from 'vitest';
import { createSessionTracker } from '../../model/tracker.js';
import { createGatewayMapper } from './mapper.js';

const SK = 'agent:main:conf-overload';
// real 2026.9.6 frames (conformance run): a 529 that OpenClaw retried, then the run went on
const frame = (seq: number, stream: string, data: object) => ({
  type: 'event' as const,
  event: 'agent',
  payload: { runId: 'r1', sessionKey: SK, agentId: 'main', stream, seq, ts: 1000 + seq, data },
});

describe('gateway run_status', () => {
  it('a retried 529 becomes a retryable llm.error per attempt, so it shows though nothing stores it', () => {
    const m = createGatewayMapper();
    const out = [
      frame(1, 'lifecycle', { phase: 'start', startedAt: 1001 }),
      frame(2, 'run_status', {
        phase: 'retrying',
        message: 'Provider temporarily unavailable. Retrying in 1s (1/8).',
        retryAttempt: 1,
        maxRetries: 8,
        delayMs: 955,
        attempt: 2,
        maxAttempts: 9,
        reason: 'overloaded',
      }),
      // the same frame again (a reconnect replay) must not count twice
      frame(2, 'run_status', {
        phase: 'retrying',
        message: 'Provider temporarily unavailable. Retrying in 1s (1/8).',
        retryAttempt: 1,
        reason: 'overloaded',
      }),
      frame(3, 'lifecycle', { phase: 'end', startedAt: 1001, endedAt: 1003, stopReason: 'stop' }),
    ].flatMap((f) => m.mapEvent(f, 5000));
    const errors = out.filter((e) => e.type === 'llm.error');
    expect(new Set(errors.map((e) => e.dedupeKey)).size).toBe(1);
    expect(errors[0]).toMatchObject({ status: 529, retryable: true, runId: 'r1' });
    expect((errors[0] as { message: string }).message).toContain('Retrying in 1s (1/8)');

    const t = createSessionTracker({
      maxStatusLines: 15,
      idleTimeoutMs: 60_000,
      maxSessionDurationMs: 1_800_000,
      stuckAfterMs: 300_000,
    });
    const seen = new Set<string>();
    for (const e of out) if (!seen.has(e.dedupeKey) && seen.add(e.dedupeKey)) t.apply(e);
    // the run recovered: the session is not in error, but the 529 is on record
    expect(t.get(SK)?.status).not.toBe('error');
    expect(t.get(SK)?.errors).toHaveLength(1);
  });

  it('a final failure told twice (run end first, then the model error) is one error with its status', () => {
    const t = createSessionTracker({
      maxStatusLines: 15,
      idleTimeoutMs: 60_000,
      maxSessionDurationMs: 1_800_000,
      stuckAfterMs: 300_000,
    });
    const base = { source: 'gateway' as const, sessionKey: SK, agentId: 'main', runId: 'r9' };
    t.apply({ ...base, type: 'agent.started', ts: 1, dedupeKey: 'a' });
    t.apply({
      ...base,
      type: 'agent.finished',
      ts: 2,
      dedupeKey: 'b',
      outcome: 'error',
      error: '529 Overloaded',
    });
    t.apply({
      ...base,
      type: 'llm.error',
      ts: 2,
      dedupeKey: 'c',
      status: 529,
      message: '529 Overloaded',
      retryable: true,
    });
    expect(t.get(SK)?.errors).toEqual([
      { ts: 2, message: '529 Overloaded', runId: 'r9', status: 529, retryable: true },
    ]);
    expect(t.get(SK)?.status).toBe('error');
  });
});

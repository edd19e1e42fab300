/**
 * `dispatch enqueue` against an in-memory gateway and a real SQLite ledger: the session key it
 * makes or reuses, the gateway calls (sessions.patch only for what was given, then `chat.send`,
 * or `agent` on a gateway without it, with an idempotency key), what the ledger records, and how
 * a gateway refusal ends it. Most tests use a gateway without chat.send (the `agent` path).
 */
import { describe, expect, it } from 'vitest';
import { FakeCallError, fakeGatewayCaller } from '../../test/support/fake-gateway-caller.js';
import { createSqliteStore } from '../store/sqlite-store.js';
import { type EnqueueInput, enqueue } from './enqueue.js';
import { DispatchError } from './errors.js';

const T0 = Date.parse('2026-12-07T10:00:00.000Z');

function input(over: Partial<EnqueueInput> = {}): EnqueueInput {
  return {
    label: 'ticket-1',
    message: 'fix the flaky test',
    mode: 'fresh',
    agent: 'main',
    timeoutSeconds: 300,
    deliverChannel: 'telegram',
    deliveryMode: 'announce',
    monitor: true,
    ...over,
  };
}

function setup(
  handlers: Parameters<typeof fakeGatewayCaller>[0] = {},
  methods = ['sessions.patch', 'agent'],
) {
  const ledger = createSqliteStore(':memory:').ledger();
  let n = 0;
  let runNo = 0;
  const gw = fakeGatewayCaller(
    {
      'sessions.patch': (p) => ({ ok: true, key: p.key }),
      agent: (p) => ({ runId: `run-${++runNo}`, sessionKey: p.sessionKey, status: 'accepted' }),
      ...handlers,
    },
    methods,
  );
  let t = T0;
  const deps = { gateway: gw.caller, ledger, now: () => t, uuid: () => `uuid-${++n}` };
  return { ledger, gw, deps, advance: (ms: number) => (t += ms) };
}

describe('dispatch enqueue', () => {
  it('starts the run with chat.send where the gateway has it (so a later steer reaches that run)', async () => {
    const t = setup({ 'chat.send': (p) => ({ runId: p.idempotencyKey, status: 'started' }) }, [
      'sessions.patch',
      'agent',
      'chat.send',
    ]);
    const r = await enqueue(input({ thinking: 'high', timeoutSeconds: 60 }), t.deps);
    expect(t.gw.calls.map((c) => c.method)).toEqual(['sessions.patch', 'chat.send']);
    const sent = t.gw.of('chat.send')[0]?.params;
    expect(sent).toMatchObject({
      sessionKey: 'agent:main:subagent:uuid-1',
      idempotencyKey: 'uuid-2',
      deliver: false,
      thinking: 'high',
      timeoutMs: 60_000,
    });
    expect(sent).not.toHaveProperty('queueMode');
    expect(r.runId).toBe('uuid-2');
    expect(t.ledger.get('ticket-1')?.runId).toBe('uuid-2');
  });

  it('fresh: a new subagent key, no patch without overrides, `agent` with an idempotency key, and a ledger entry', async () => {
    const t = setup();
    const r = await enqueue(input({ agent: 'coder', origin: 'telegram:42', verifyCmd: 'npm test' }), t.deps);
    expect(r).toEqual({
      ok: true,
      label: 'ticket-1',
      sessionKey: 'agent:coder:subagent:uuid-1',
      runId: 'run-1',
      mode: 'fresh',
      agent: 'coder',
      status: 'accepted',
    });
    expect(t.gw.of('sessions.patch')).toHaveLength(0);
    const agent = t.gw.of('agent');
    expect(agent).toHaveLength(1);
    expect(agent[0]?.params).toMatchObject({
      sessionKey: 'agent:coder:subagent:uuid-1',
      idempotencyKey: 'uuid-2',
      deliver: false,
      timeout: 300,
    });
    expect(agent[0]?.params).not.toHaveProperty('thinking');
    // the agent sees the task and how to say it is done
    const message = String(agent[0]?.params.message);
    expect(message).toContain('fix the flaky test');
    expect(message).toContain("clawpulse dispatch done --label 'ticket-1'");

    const at = new Date(T0).toISOString();
    expect(t.deps.ledger.get('ticket-1')).toEqual({
      sessionKey: 'agent:coder:subagent:uuid-1',
      runId: 'run-1',
      agent: 'coder',
      mode: 'fresh',
      model: null,
      thinking: null,
      origin: 'telegram:42',
      deliverTo: null,
      deliverChannel: null,
      spawnedAt: at,
      status: 'running',
      summary: null,
      error: null,
      updatedAt: at,
      retryCount: 0,
      createdBy: 'enqueue',
      taskPrompt: 'fix the flaky test',
      deliveryMode: 'announce',
      timeoutSeconds: 300,
      monitor: true,
      monitorInterval: null,
      monitorTimeoutMinutes: null,
      verifyCmd: 'npm test',
    });
  });

  it('patches model and thinking (as thinkingLevel) when given, before the run starts', async () => {
    const t = setup();
    await enqueue(
      input({ model: 'anthropic/claude-sonnet-4-6', thinking: 'high', timeoutSeconds: 60 }),
      t.deps,
    );
    expect(t.gw.calls.map((c) => c.method)).toEqual(['sessions.patch', 'agent']);
    expect(t.gw.of('sessions.patch')[0]?.params).toEqual({
      key: 'agent:main:subagent:uuid-1',
      model: 'anthropic/claude-sonnet-4-6',
      thinkingLevel: 'high',
    });
    expect(t.gw.of('agent')[0]?.params).toMatchObject({ thinking: 'high', timeout: 60 });
    expect(t.ledger.get('ticket-1')).toMatchObject({
      model: 'anthropic/claude-sonnet-4-6',
      thinking: 'high',
    });
  });

  it('records delivery settings only with --deliver-to, and --no-monitor', async () => {
    const t = setup();
    await enqueue(
      input({
        deliverTo: '12345',
        deliverChannel: 'discord',
        deliveryMode: 'announce-always',
        monitor: false,
      }),
      t.deps,
    );
    expect(t.ledger.get('ticket-1')).toMatchObject({
      deliverTo: '12345',
      deliverChannel: 'discord',
      deliveryMode: 'announce-always',
      monitor: false,
    });
    // deliver stays false: the daemon delivers, not the gateway
    expect(t.gw.of('agent')[0]?.params.deliver).toBe(false);
  });

  it("reuse continues the label's last session and starts a clean entry for the new run", async () => {
    const t = setup();
    const first = await enqueue(input(), t.deps);
    // the first run failed and was retried once
    t.ledger.update('ticket-1', (cur) =>
      cur ? { ...cur, status: 'error', error: 'boom', retryCount: 2, retryDueAt: T0 + 1 } : undefined,
    );
    t.advance(60_000);
    const second = await enqueue(input({ mode: 'reuse', message: 'now the docs' }), t.deps);
    expect(second).toMatchObject({ mode: 'reuse', sessionKey: first.sessionKey, runId: 'run-2' });
    expect(t.gw.of('agent')[1]?.params.sessionKey).toBe(first.sessionKey);
    const e = t.ledger.get('ticket-1');
    expect(e).toMatchObject({
      mode: 'reuse',
      status: 'running',
      error: null,
      retryCount: 0,
      runId: 'run-2',
      taskPrompt: 'now the docs',
      spawnedAt: new Date(T0 + 60_000).toISOString(),
    });
    expect(e?.retryDueAt).toBeUndefined();
  });

  it('reuse without a prior label fails with exit 1 and the original message, calling nothing', async () => {
    const t = setup();
    const err = await enqueue(input({ mode: 'reuse', label: 'never-seen' }), t.deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DispatchError);
    expect((err as DispatchError).exitCode).toBe(1);
    expect((err as DispatchError).message).toBe(
      'mode=reuse: no prior session found for label "never-seen". Use --mode fresh.',
    );
    expect(t.gw.calls).toHaveLength(0);
    expect(t.ledger.get('never-seen')).toBeUndefined();
  });

  it('--session-key bypasses the ledger lookup (also with --mode reuse)', async () => {
    const t = setup();
    // the label points at another session; the explicit key wins
    t.ledger.update('ticket-1', () => ({
      sessionKey: 'agent:main:subagent:old',
      runId: 'r0',
      agent: 'main',
      mode: 'fresh',
      model: null,
      thinking: null,
      spawnedAt: new Date(T0).toISOString(),
      status: 'done',
      summary: null,
      error: null,
      updatedAt: new Date(T0).toISOString(),
    }));
    const r = await enqueue(input({ mode: 'reuse', sessionKey: 'agent:main:telegram:direct:9' }), t.deps);
    expect(r.sessionKey).toBe('agent:main:telegram:direct:9');
    expect(t.gw.of('agent')[0]?.params.sessionKey).toBe('agent:main:telegram:direct:9');
    expect(t.ledger.get('ticket-1')?.sessionKey).toBe('agent:main:telegram:direct:9');
    // and a label that was never seen works with it too
    const other = await enqueue(input({ label: 'new', mode: 'reuse', sessionKey: 'agent:main:x' }), t.deps);
    expect(other.sessionKey).toBe('agent:main:x');
  });

  it('a rejected sessions.patch fails the enqueue: no run, no entry', async () => {
    const t = setup({
      'sessions.patch': () => {
        throw new FakeCallError('INVALID_REQUEST', 'unknown model "nope/nope"');
      },
    });
    const err = await enqueue(input({ model: 'nope/nope' }), t.deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DispatchError);
    expect((err as DispatchError).exitCode).toBe(1);
    expect((err as Error).message).toContain('unknown model "nope/nope"');
    expect(t.gw.of('agent')).toHaveLength(0);
    expect(t.ledger.get('ticket-1')).toBeUndefined();
  });

  it('an `agent` failure marks the entry error with the gateway message', async () => {
    const t = setup({
      agent: () => {
        throw new FakeCallError('UNAVAILABLE', 'gateway draining');
      },
    });
    const err = await enqueue(input(), t.deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DispatchError);
    expect((err as Error).message).toBe('gateway agent call failed: gateway draining');
    expect(t.ledger.get('ticket-1')).toMatchObject({
      status: 'error',
      error: 'gateway agent call failed: gateway draining',
      runId: null,
      sessionKey: 'agent:main:subagent:uuid-1',
    });
  });

  it('uses the idempotency key as the run id when the gateway reply has none', async () => {
    const t = setup({ agent: () => ({ status: 'accepted' }) });
    const r = await enqueue(input(), t.deps);
    expect(r.runId).toBe('uuid-2');
    expect(t.ledger.get('ticket-1')?.runId).toBe('uuid-2');
  });
});

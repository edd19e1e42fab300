import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeCallError, fakeGatewayCaller } from '../../test/support/fake-gateway-caller.js';
import { labelEntry } from '../../test/support/label-entry.js';
import { ManualClock } from '../infra/clock.js';
import type { PulseEvent } from '../model/events.js';
import { ev, testLimits } from '../model/test-events.js';
import { createSessionTracker } from '../model/tracker.js';
import { createPipeline } from '../pipeline.js';
import type { LabelEntry } from '../store/dispatch-ledger.js';
import { createSqliteStore } from '../store/sqlite-store.js';
import type { LifecycleEvent } from './lifecycle.js';
import { createDispatchService } from './service.js';

const T0 = Date.parse('2026-12-07T10:00:00.000Z');
const KEY = 'agent:main:subagent:aaa';

function setup(handlers: Parameters<typeof fakeGatewayCaller>[0] = {}) {
  const clock = new ManualClock(T0);
  const store = createSqliteStore(':memory:');
  const tracker = createSessionTracker(testLimits);
  const logger = pino({ level: 'silent' });
  const pipeline = createPipeline({ store, tracker, logger, now: () => clock.now() });
  let runNo = 0;
  const gw = fakeGatewayCaller({
    'chat.send': (p) => ({ runId: p.idempotencyKey, status: 'started' }),
    agent: () => ({ runId: `run-${++runNo}`, status: 'accepted' }),
    'sessions.patch': () => ({ ok: true }),
    send: () => ({ ok: true }),
    'chat.history': () => ({ messages: [] }),
    ...handlers,
  });
  const events: LifecycleEvent[] = [];
  const ledger = store.ledger();
  const service = createDispatchService({
    ledger,
    gateway: gw.caller,
    pipeline,
    emitter: { emit: (e) => events.push(e) },
    logger,
    clock,
    host: 'test-host',
  });
  const feed = (...es: PulseEvent[]) => pipeline.ingest(es);
  const step = async (ms = 1000) => {
    clock.advance(ms);
    service.tick(clock.now());
    await service.idle();
  };
  return { clock, store, pipeline, gw, events, ledger, service, feed, step };
}

function label(over: Partial<LabelEntry> = {}): LabelEntry {
  return labelEntry(T0, {
    sessionKey: KEY,
    runId: 'run-0',
    model: 'fake/fake-model',
    taskPrompt: 'do the thing',
    deliveryMode: 'announce',
    monitor: true,
    ...over,
  });
}

const names = (events: LifecycleEvent[]) => events.map((e) => e.event);

describe('dispatch service', () => {
  it('follows a label to done, shows its label in the model, and says so once', async () => {
    const t = setup();
    t.ledger.update('ticket-1', () => label());
    t.service.start();
    expect(names(t.events)).toEqual(['dispatch.started']);
    expect(t.pipeline.tracker.get(KEY)?.label).toBe('ticket-1');
    t.feed(
      ev({ type: 'agent.started', sessionKey: KEY, ts: T0 + 100, runId: 'run-0' }),
      ev({
        type: 'llm.tokens',
        sessionKey: KEY,
        ts: T0 + 200,
        input: 10,
        output: 5,
        cacheRead: 0,
        cacheWrite: 0,
        reasoning: 0,
        costUsd: 0.01,
      }),
      ev({ type: 'assistant.text', sessionKey: KEY, ts: T0 + 300, runId: 'run-0', text: 'all done' }),
      ev({ type: 'agent.finished', sessionKey: KEY, ts: T0 + 400, runId: 'run-0', outcome: 'ok' }),
    );
    const e = t.ledger.get('ticket-1');
    expect(e?.status).toBe('done');
    expect(e?.endedAt).toBe(new Date(T0 + 400).toISOString());
    expect(names(t.events)).toEqual(['dispatch.started', 'dispatch.finished']);
    const fin = t.events[1];
    expect(fin).toMatchObject({
      label: 'ticket-1',
      host: 'test-host',
      sessionKey: KEY,
      costUsd: 0.01,
      durationMs: 400,
    });
    expect(fin?.tokens?.input).toBe(10);
    // a second look, a restart of the service: nothing happens twice
    await t.step();
    const again = createDispatchService({
      ledger: t.ledger,
      gateway: t.gw.caller,
      pipeline: t.pipeline,
      emitter: { emit: (x) => t.events.push(x) },
      logger: pino({ level: 'silent' }),
      clock: t.clock,
      host: 'test-host',
    });
    again.start();
    again.tick(t.clock.now());
    expect(names(t.events)).toEqual(['dispatch.started', 'dispatch.finished']);
  });

  it('retries a 529 failure after the backoff with a continuation, and at most 3 times', async () => {
    const t = setup();
    t.ledger.update('flaky', () => label());
    t.service.start();
    const fail = (runId: string, at: number) =>
      t.feed(
        ev({ type: 'agent.started', sessionKey: KEY, ts: at, runId }),
        ev({
          type: 'agent.finished',
          sessionKey: KEY,
          ts: at + 50,
          runId,
          outcome: 'error',
          error: '529 {"type":"overloaded_error","message":"Overloaded"}',
        }),
      );
    fail('run-0', T0 + 100);
    let e = t.ledger.get('flaky');
    expect(e?.status).toBe('error');
    expect(e?.retryDueAt).toBe(T0 + 150 + 30_000);
    expect(
      t.pipeline.tracker
        .get(KEY)
        ?.lines.some((l) => l.kind === 'system' && /retry 1\/3 after 529/.test(l.text)),
    ).toBe(true);
    // not before the backoff
    await t.step(29_000);
    expect(t.gw.of('chat.send')).toHaveLength(0);
    await t.step(2_000);
    const sent = t.gw.of('chat.send');
    expect(sent).toHaveLength(1);
    expect(sent[0]?.params).toMatchObject({ sessionKey: KEY, queueMode: 'steer' });
    expect(String(sent[0]?.params.message)).toContain('[clawpulse retry 1/3]');
    e = t.ledger.get('flaky');
    expect(e).toMatchObject({ status: 'running', retryCount: 1, sessionKey: KEY });
    expect(names(t.events)).toEqual(['dispatch.started', 'dispatch.retried']);
    expect(t.events[1]).toMatchObject({ attempt: 1, detail: 'continue' });
    // the second and third failures wait 2 and 5 minutes; the fourth is final
    for (const [n, wait] of [
      [2, 120_000],
      [3, 300_000],
    ] as const) {
      const runId = String(t.ledger.get('flaky')?.runId);
      fail(runId, t.clock.now() + 10);
      expect(t.ledger.get('flaky')?.retryDueAt).toBe(t.clock.now() + 60 + wait);
      await t.step(wait + 100);
      expect(t.ledger.get('flaky')?.retryCount).toBe(n);
    }
    fail(String(t.ledger.get('flaky')?.runId), t.clock.now() + 10);
    e = t.ledger.get('flaky');
    expect(e?.status).toBe('error');
    expect(e?.retryDueAt).toBeUndefined();
    expect(e?.error).toContain('gave up after 3 retries');
    await t.step(600_000);
    expect(t.gw.of('chat.send')).toHaveLength(3);
    expect(names(t.events).filter((x) => x === 'dispatch.retried')).toHaveLength(3);
    expect(names(t.events).at(-1)).toBe('dispatch.failed');
  });

  it('falls back to a fresh session when the continuation cannot be sent, with the same model and task', async () => {
    const t = setup({
      // the continuation (a steer into the failed session) cannot be sent; a new session can
      'chat.send': (p) => {
        if (p.queueMode === 'steer') throw new FakeCallError('UNAVAILABLE', 'session is gone');
        return { runId: p.idempotencyKey, status: 'started' };
      },
    });
    t.ledger.update('x', () => label({ thinking: 'high' }));
    t.service.start();
    t.feed(
      ev({
        type: 'agent.finished',
        sessionKey: KEY,
        ts: T0 + 100,
        runId: 'run-0',
        outcome: 'error',
        error: 'FailoverError: temporarily overloaded',
      }),
    );
    await t.step(31_000);
    const e = t.ledger.get('x');
    expect(e?.status).toBe('running');
    expect(e?.sessionKey).not.toBe(KEY);
    expect(e?.sessionKey).toMatch(/^agent:main:subagent:/);
    expect(e?.retries?.[0]?.via).toBe('fresh');
    expect(t.gw.of('sessions.patch')[0]?.params).toMatchObject({
      key: e?.sessionKey,
      model: 'fake/fake-model',
      thinkingLevel: 'high',
    });
    const fresh = t.gw.of('chat.send').filter((c) => c.params.queueMode === undefined);
    expect(fresh[0]?.params.sessionKey).toBe(e?.sessionKey);
    expect(String(fresh[0]?.params.message)).toContain('do the thing');
  });

  it('does not retry an error that is not an overload, nor one older than 60 min', async () => {
    const t = setup();
    t.ledger.update('a', () => label());
    t.ledger.update('b', () => label({ sessionKey: 'agent:main:subagent:bbb' }));
    t.service.start();
    t.feed(
      ev({
        type: 'agent.finished',
        sessionKey: KEY,
        ts: T0 + 100,
        runId: 'run-0',
        outcome: 'error',
        error: 'tool crashed',
      }),
    );
    expect(t.ledger.get('a')).toMatchObject({ status: 'error', error: 'tool crashed' });
    expect(t.ledger.get('a')?.retryDueAt).toBeUndefined();
    // a failure the daemon sees 2 hours late (it was down)
    t.clock.advance(2 * 3600_000);
    t.feed(
      ev({
        type: 'agent.finished',
        sessionKey: 'agent:main:subagent:bbb',
        ts: T0 + 200,
        runId: 'r',
        outcome: 'error',
        error: 'Overloaded (529)',
      }),
    );
    expect(t.ledger.get('b')?.error).toContain('older than 60 min');
    await t.step(400_000);
    expect(t.gw.of('chat.send')).toHaveLength(0);
    expect(names(t.events).filter((x) => x === 'dispatch.failed')).toHaveLength(2);
  });

  it('delivers the final reply once, retrying while the gateway is down', async () => {
    let down = true;
    const t = setup({
      send: (p) => {
        if (down) throw new FakeCallError('UNAVAILABLE', 'gateway restarting');
        return { ok: true, id: p.idempotencyKey };
      },
    });
    t.ledger.update('d', () => label({ deliverTo: '12345', deliverChannel: 'telegram' }));
    t.service.start();
    t.feed(
      ev({ type: 'assistant.text', sessionKey: KEY, ts: T0 + 300, runId: 'run-0', text: 'the answer is 42' }),
      ev({ type: 'agent.finished', sessionKey: KEY, ts: T0 + 400, runId: 'run-0', outcome: 'ok' }),
    );
    await t.step(10);
    expect(t.ledger.get('d')?.delivery).toMatchObject({
      state: 'pending',
      attempts: 1,
      error: 'gateway restarting',
    });
    down = false;
    await t.step(6_000);
    const sends = t.gw.of('send');
    expect(sends).toHaveLength(2);
    expect(sends[0]?.params.idempotencyKey).toBe(sends[1]?.params.idempotencyKey);
    expect(sends[1]?.params).toMatchObject({
      to: '12345',
      channel: 'telegram',
      message: '[d] the answer is 42',
    });
    expect(t.ledger.get('d')?.delivery?.state).toBe('sent');
    await t.step(60_000);
    expect(t.gw.of('send')).toHaveLength(2);
    expect(names(t.events)).toContain('dispatch.delivered');
  });

  it('announce sends nothing for an empty reply; announce-always sends a note; none never sends', async () => {
    const t = setup();
    const keys = ['k1', 'k2', 'k3'];
    t.ledger.update('quiet', () => label({ sessionKey: 'k1', deliverTo: 'c', deliveryMode: 'announce' }));
    t.ledger.update('always', () =>
      label({ sessionKey: 'k2', deliverTo: 'c', deliveryMode: 'announce-always' }),
    );
    t.ledger.update('never', () => label({ sessionKey: 'k3', deliverTo: 'c', deliveryMode: 'none' }));
    t.service.start();
    for (const k of keys)
      t.feed(ev({ type: 'agent.finished', sessionKey: k, ts: T0 + 400, runId: 'x', outcome: 'ok' }));
    await t.step(10);
    expect(t.gw.of('send').map((c) => c.params.message)).toEqual(['[always] finished with no output']);
    expect(t.ledger.get('quiet')?.delivery?.state).toBe('skipped');
    expect(t.ledger.get('never')?.delivery).toBeUndefined();
  });

  it('runs the verify command after completion and records its exit code and output', async () => {
    const t = setup();
    t.ledger.update('v', () => label({ verifyCmd: 'echo checking; echo bad >&2; exit 3' }));
    t.service.start();
    t.feed(ev({ type: 'agent.finished', sessionKey: KEY, ts: T0 + 400, runId: 'run-0', outcome: 'ok' }));
    await t.step(10);
    const v = t.ledger.get('v')?.verify;
    expect(v).toMatchObject({ state: 'failed', exitCode: 3, timedOut: false, tail: ['checking', 'bad'] });
  });

  it('reports a label still running past --monitor-timeout as stuck, once', async () => {
    const t = setup();
    t.ledger.update('slow', () => label({ monitorTimeoutMinutes: 10 }));
    t.service.start();
    t.feed(ev({ type: 'agent.started', sessionKey: KEY, ts: T0 + 100, runId: 'run-0' }));
    await t.step(9 * 60_000);
    expect(names(t.events)).toEqual(['dispatch.started']);
    await t.step(2 * 60_000);
    await t.step(5 * 60_000);
    expect(names(t.events)).toEqual(['dispatch.started', 'dispatch.stuck']);
    expect(t.events[1]?.detail).toContain('10 min monitor timeout');
  });

  it('steer and abort go to the gateway; abort names the run when the gateway knows it', async () => {
    const t = setup({ 'sessions.abort': () => ({ ok: true, aborted: true }) });
    t.service.start();
    t.feed(ev({ type: 'agent.started', sessionKey: KEY, ts: T0 + 1, runId: 'gw-run-7' }));
    const actor = { ip: '127.0.0.1', via: 'api' as const };
    expect(await t.service.actions.steer(KEY, 'focus on the tests', actor)).toMatchObject({ mode: 'steer' });
    expect(await t.service.actions.abort(KEY, actor)).toEqual({
      method: 'sessions.abort',
      runId: 'gw-run-7',
      aborted: true,
    });
    expect(t.gw.of('sessions.abort')[0]?.params).toEqual({ key: KEY, runId: 'gw-run-7' });
    await expect(t.service.actions.steer('agent:main:nope', 'x', actor)).rejects.toMatchObject({
      status: 404,
    });
  });
});

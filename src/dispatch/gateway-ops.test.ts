/**
 * The typed gateway calls dispatch makes: steering (chat.send queueMode steer, a follow-up turn
 * on gateways that reject the field), aborting (sessions.abort, else chat.abort), the last
 * reply from chat.history, and the small helpers.
 */
import { describe, expect, it } from 'vitest';
import { FakeCallError, fakeGatewayCaller } from '../../test/support/fake-gateway-caller.js';
import {
  abortSession,
  agentOfKey,
  deliverText,
  lastReplyFromHistory,
  listSessions,
  patchSession,
  startRun,
  steerSession,
} from './gateway-ops.js';

const KEY = 'agent:main:subagent:aaa';
const accepted = () => ({ runId: 'run-f', status: 'accepted' });

describe('steerSession', () => {
  it('sends chat.send with queueMode steer and an idempotency key', async () => {
    const gw = fakeGatewayCaller({ 'chat.send': (p) => ({ runId: p.idempotencyKey, status: 'started' }) });
    const r = await steerSession(gw.caller, KEY, 'focus on the tests');
    const sent = gw.of('chat.send');
    expect(sent).toHaveLength(1);
    expect(sent[0]?.params).toMatchObject({
      sessionKey: KEY,
      message: 'focus on the tests',
      queueMode: 'steer',
    });
    expect(typeof sent[0]?.params.idempotencyKey).toBe('string');
    expect(r).toEqual({ mode: 'steer', runId: sent[0]?.params.idempotencyKey });
    expect(gw.of('agent')).toHaveLength(0);
  });

  it('falls back to a follow-up `agent` turn when the gateway rejects queueMode as an unknown field', async () => {
    // OpenClaw 2026.7.35's words, seen live; there an agent turn reaches the model, a plain
    // chat.send into the busy session did not (conformance suite)
    const gw = fakeGatewayCaller({
      'chat.send': () => {
        throw new FakeCallError(
          'INVALID_REQUEST',
          "invalid chat.send params: at root: unexpected property 'queueMode'",
        );
      },
      agent: accepted,
    });
    const r = await steerSession(gw.caller, KEY, 'focus');
    expect(r).toEqual({ mode: 'followup', runId: 'run-f' });
    expect(gw.of('chat.send')).toHaveLength(1);
    const agent = gw.of('agent');
    expect(agent).toHaveLength(1);
    expect(agent[0]?.params).toMatchObject({ sessionKey: KEY, message: 'focus', deliver: false });
    expect(agent[0]?.params).not.toHaveProperty('queueMode');
  });

  it('recognises the other wordings of an unknown field', async () => {
    for (const message of ['data must NOT have additional properties', 'unknown field queueMode']) {
      const gw = fakeGatewayCaller({
        'chat.send': () => {
          throw new FakeCallError('INVALID_REQUEST', message);
        },
        agent: accepted,
      });
      expect((await steerSession(gw.caller, KEY, 'x')).mode).toBe('followup');
    }
  });

  it('goes straight to `agent` when the gateway does not list chat.send', async () => {
    const gw = fakeGatewayCaller({ agent: accepted }, ['agent', 'sessions.list']);
    expect(await steerSession(gw.caller, KEY, 'x')).toEqual({ mode: 'followup', runId: 'run-f' });
    expect(gw.of('chat.send')).toHaveLength(0);
  });

  it('does not fall back on any other refusal (the message must not arrive twice or silently change kind)', async () => {
    for (const [code, message] of [
      ['UNAVAILABLE', 'gateway restarting'],
      ['INVALID_REQUEST', 'session not found'],
      ['FORBIDDEN', 'missing scope operator.write'],
    ]) {
      const gw = fakeGatewayCaller({
        'chat.send': () => {
          throw new FakeCallError(String(code), String(message));
        },
        agent: accepted,
      });
      await expect(steerSession(gw.caller, KEY, 'x')).rejects.toThrow(String(message));
      expect(gw.of('agent')).toHaveLength(0);
    }
  });
});

describe('abortSession', () => {
  it('prefers sessions.abort, scoped to the run when known', async () => {
    const gw = fakeGatewayCaller({ 'sessions.abort': () => ({ ok: true, abortedRunIds: ['r7'] }) });
    expect(await abortSession(gw.caller, KEY, 'r7')).toEqual({
      method: 'sessions.abort',
      runId: 'r7',
      aborted: true,
    });
    expect(gw.of('sessions.abort')[0]?.params).toEqual({ key: KEY, runId: 'r7' });
    expect(await abortSession(gw.caller, KEY)).toMatchObject({ method: 'sessions.abort', aborted: true });
    expect(gw.of('sessions.abort')[1]?.params).toEqual({ key: KEY });
  });

  it('reports nothing aborted when the gateway says so', async () => {
    const gw = fakeGatewayCaller({ 'sessions.abort': () => ({ ok: true, abortedRunIds: [] }) });
    expect((await abortSession(gw.caller, KEY)).aborted).toBe(false);
    const gw2 = fakeGatewayCaller({ 'sessions.abort': () => ({ ok: true, aborted: false }) });
    expect((await abortSession(gw2.caller, KEY)).aborted).toBe(false);
  });

  it('uses chat.abort when hello-ok does not list sessions.abort', async () => {
    const gw = fakeGatewayCaller({ 'chat.abort': () => ({ ok: true, aborted: true }) }, [
      'chat.abort',
      'chat.send',
    ]);
    expect(await abortSession(gw.caller, KEY, 'r1')).toEqual({
      method: 'chat.abort',
      runId: 'r1',
      aborted: true,
    });
    expect(gw.of('sessions.abort')).toHaveLength(0);
    expect(gw.of('chat.abort')[0]?.params).toEqual({ sessionKey: KEY, runId: 'r1' });
  });

  it('tries chat.abort after "unknown method" when the gateway did not list its methods', async () => {
    const gw = fakeGatewayCaller({ 'chat.abort': () => ({ ok: true, aborted: true }) });
    expect(await abortSession(gw.caller, KEY)).toMatchObject({ method: 'chat.abort', aborted: true });
    expect(gw.calls.map((c) => c.method)).toEqual(['sessions.abort', 'chat.abort']);
  });

  it('does not hide a real sessions.abort failure behind chat.abort', async () => {
    const gw = fakeGatewayCaller(
      {
        'sessions.abort': () => {
          throw new FakeCallError('FORBIDDEN', 'missing scope');
        },
        'chat.abort': () => ({ ok: true }),
      },
      ['sessions.abort', 'chat.abort'],
    );
    await expect(abortSession(gw.caller, KEY)).rejects.toThrow('missing scope');
    expect(gw.of('chat.abort')).toHaveLength(0);
  });
});

describe('lastReplyFromHistory', () => {
  it('reads the last assistant message with text, from content arrays or strings', async () => {
    const gw = fakeGatewayCaller({
      'chat.history': (p) => {
        expect(p).toMatchObject({ sessionKey: KEY });
        return {
          messages: [
            { role: 'user', content: [{ type: 'text', text: 'do it' }] },
            { role: 'assistant', content: 'an early string reply' },
            {
              role: 'assistant',
              content: [
                { type: 'thinking', thinking: 'hmm' },
                { type: 'text', text: 'the answer ' },
                { type: 'text', text: 'is 42' },
              ],
            },
            // a tool call without text and a tool result do not count as the reply
            { role: 'assistant', content: [{ type: 'toolCall', id: 'c1', name: 'exec', arguments: {} }] },
            { role: 'toolResult', content: [{ type: 'text', text: 'exit 0' }] },
          ],
        };
      },
    });
    expect(await lastReplyFromHistory(gw.caller, KEY)).toBe('the answer is 42');
  });

  it('reads a string content and a `text` field; undefined when there is no assistant text', async () => {
    const one = fakeGatewayCaller({
      'chat.history': () => ({ messages: [{ role: 'assistant', content: 'plain' }] }),
    });
    expect(await lastReplyFromHistory(one.caller, KEY)).toBe('plain');
    const two = fakeGatewayCaller({
      'chat.history': () => ({ messages: [{ role: 'assistant', text: 'old shape' }] }),
    });
    expect(await lastReplyFromHistory(two.caller, KEY)).toBe('old shape');
    const none = fakeGatewayCaller({
      'chat.history': () => ({
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: '  ' },
        ],
      }),
    });
    expect(await lastReplyFromHistory(none.caller, KEY)).toBeUndefined();
    const empty = fakeGatewayCaller({ 'chat.history': () => ({}) });
    expect(await lastReplyFromHistory(empty.caller, KEY)).toBeUndefined();
  });
});

describe('the other calls', () => {
  it('patchSession sends only what is set; "off" clears thinking', async () => {
    const gw = fakeGatewayCaller({ 'sessions.patch': () => ({ ok: true }) });
    await patchSession(gw.caller, KEY, {});
    await patchSession(gw.caller, KEY, { model: null, thinking: null });
    expect(gw.calls).toHaveLength(0);
    await patchSession(gw.caller, KEY, { thinking: 'off' });
    expect(gw.of('sessions.patch')[0]?.params).toEqual({ key: KEY, thinkingLevel: null });
  });

  it('startRun sends no thinking for "off" and reports the idempotency key it used', async () => {
    const gw = fakeGatewayCaller({ agent: () => ({ runId: 'r9', status: 'accepted' }) });
    const r = await startRun(gw.caller, {
      sessionKey: KEY,
      message: 'm',
      thinking: 'off',
      idempotencyKey: 'idem-1',
    });
    expect(r).toEqual({ runId: 'r9', idempotencyKey: 'idem-1' });
    expect(gw.of('agent')[0]?.params).toEqual({
      message: 'm',
      sessionKey: KEY,
      idempotencyKey: 'idem-1',
      deliver: false,
    });
  });

  it('listSessions keeps rows with a key', async () => {
    const gw = fakeGatewayCaller({
      'sessions.list': () => ({ sessions: [{ key: 'a' }, { nokey: 1 }, null, { key: 'b' }] }),
    });
    expect((await listSessions(gw.caller)).map((r) => r.key)).toEqual(['a', 'b']);
  });

  it('deliverText sends `send` with channel, target and idempotency key', async () => {
    const gw = fakeGatewayCaller({ send: () => ({ ok: true }) });
    await deliverText(gw.caller, { channel: 'telegram', to: '42', message: 'hi', idempotencyKey: 'k' });
    expect(gw.of('send')[0]?.params).toEqual({
      channel: 'telegram',
      to: '42',
      message: 'hi',
      idempotencyKey: 'k',
    });
  });

  it('agentOfKey', () => {
    expect(agentOfKey('agent:coder:subagent:1')).toBe('coder');
    expect(agentOfKey('global')).toBe('main');
    expect(agentOfKey('agent:')).toBe('main');
  });
});

/**
 * `dispatch done`: the agent's completion signal and its guards (checklist, git SHA, minimum
 * runtime, activity). Each refusal exits 1 (2 for a bad argument) with a message naming the
 * rule and the override; a success records status, summary, checklist and SHA.
 */
import { describe, expect, it } from 'vitest';
import { FakeCallError, fakeGatewayCaller } from '../../test/support/fake-gateway-caller.js';
import { labelEntry } from '../../test/support/label-entry.js';
import type { PulseEvent } from '../model/events.js';
import { ev, testLimits } from '../model/test-events.js';
import type { LabelEntry } from '../store/dispatch-ledger.js';
import { createSqliteStore } from '../store/sqlite-store.js';
import type { DispatchContext } from './context.js';
import { type DoneInput, done } from './done.js';
import { DispatchError } from './errors.js';
import { storeView } from './live.js';

const T0 = Date.parse('2026-12-07T10:00:00.000Z');
const KEY = 'agent:main:subagent:aaa';
const OK = '{"work_complete":true}';

interface Setup {
  /** how long ago the run started (default 10 min) */
  ranMs?: number;
  entry?: Partial<LabelEntry>;
  /** chat.history messages; 'down': the gateway cannot be reached; 'refuses': chat.history fails */
  history?: unknown[] | 'down' | 'refuses';
  events?: PulseEvent[];
}

function setup(o: Setup = {}) {
  const store = createSqliteStore(':memory:');
  const ledger = store.ledger();
  const now = T0 + (o.ranMs ?? 600_000);
  ledger.update('t', () =>
    labelEntry(T0, { sessionKey: KEY, taskPrompt: 'refactor the parser', ...o.entry }),
  );
  if (o.events) store.append(o.events);
  const history = o.history ?? [
    { role: 'user', content: 'task' },
    { role: 'assistant', content: [{ type: 'text', text: 'working on it' }] },
  ];
  const gw = fakeGatewayCaller({
    'chat.history': () => {
      if (history === 'refuses') throw new FakeCallError('UNAVAILABLE', 'gateway restarting');
      return { messages: history };
    },
  });
  let gatewayAsked = 0;
  const ctx: DispatchContext = {
    ledger,
    gateway: async () => {
      gatewayAsked++;
      if (history === 'down') throw new Error('cannot reach the OpenClaw gateway at ws://127.0.0.1:1');
      return gw.caller;
    },
    live: storeView(store, testLimits),
    daemonRunning: false,
    now: () => now,
    host: 'h',
    emitter: { emit: () => {} },
    minRuntimeMs: 60_000,
  };
  const run = (i: Partial<DoneInput> = {}) => done(ctx, { label: 't', checklist: OK, ...i });
  return { ctx, ledger, gw, run, gatewayAsked: () => gatewayAsked };
}

/** the refusal of a call, checked to be a DispatchError */
async function refusal(p: Promise<unknown>): Promise<DispatchError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected a refusal').toBeInstanceOf(DispatchError);
  return err as DispatchError;
}

describe('dispatch done: success', () => {
  it('marks the label done with its summary, checklist and sha', async () => {
    const t = setup({ entry: { taskPrompt: 'fix it, then git push origin main' } });
    const r = await t.run({
      checklist: '{"work_complete":true,"tests_passed":true,"pushed":true}',
      summary: 'fixed the parser',
      sha: 'abc1234',
    });
    expect(r.warnings).toEqual([]);
    const e = t.ledger.get('t');
    expect(e).toMatchObject({
      status: 'done',
      summary: 'fixed the parser',
      checklist: { work_complete: true, tests_passed: true, pushed: true },
      sha: 'abc1234',
      error: null,
      updatedAt: new Date(T0 + 600_000).toISOString(),
    });
    expect(r.entry).toEqual(e);
  });

  it('defaults the summary and clears a pending retry', async () => {
    const t = setup({ entry: { status: 'error', error: '529', retryDueAt: T0 + 1, failedAt: T0 } });
    await t.run();
    const e = t.ledger.get('t');
    expect(e).toMatchObject({ status: 'done', summary: 'completed (agent signal)', error: null, sha: null });
    expect(e?.retryDueAt).toBeUndefined();
  });

  it('refuses an unknown label with exit 1', async () => {
    const t = setup();
    const err = await refusal(t.run({ label: 'nope' }));
    expect(err.exitCode).toBe(1);
    expect(err.message).toContain('no label "nope"');
  });
});

describe('dispatch done: the checklist', () => {
  it.each([
    ['{}', 'checklist.work_complete'],
    ['{"work_complete":false}', 'checklist.work_complete'],
    ['{"work_complete":"yes"}', 'checklist.work_complete'],
    ['{"work_complete":true,"tests_passed":false}', 'checklist.tests_passed'],
    ['{"work_complete":true,"pushed":false}', 'checklist.pushed'],
  ])('refuses %s (exit 1, rule %s)', async (checklist, rule) => {
    const t = setup();
    const err = await refusal(t.run({ checklist }));
    expect(err.exitCode).toBe(1);
    expect(err.rule).toBe(rule);
    expect(err.message).toMatch(/^REJECTED \(checklist\)/);
    expect(err.message).toContain(rule.slice('checklist.'.length));
    expect(t.ledger.get('t')?.status).toBe('running');
  });

  it('accepts tests_passed / pushed when they are not false', async () => {
    const t = setup();
    await t.run({ checklist: '{"work_complete":true,"tests_passed":null,"pushed":"n/a"}' });
    expect(t.ledger.get('t')?.status).toBe('done');
  });

  it.each(['not json', '[true]', 'true', 'null'])(
    'refuses %s as a bad argument (exit 2)',
    async (checklist) => {
      const t = setup();
      const err = await refusal(t.run({ checklist }));
      expect(err.exitCode).toBe(2);
      expect(err.message).toContain('--checklist');
    },
  );
});

describe('dispatch done: the git SHA', () => {
  it.each([
    'then git push origin main',
    'git  rebase -i main',
    'git cherry-pick abc',
    'push with --force-with-lease',
    'use --force-push if needed',
    'GIT PUSH it',
  ])('requires --sha when the task prompt says "%s"', async (prompt) => {
    const t = setup({ entry: { taskPrompt: `Fix the bug; ${prompt}.` } });
    const err = await refusal(t.run());
    expect(err.exitCode).toBe(1);
    expect(err.rule).toBe('sha');
    expect(err.message).toContain('--sha');
    await t.run({ sha: 'deadbeef' });
    expect(t.ledger.get('t')).toMatchObject({ status: 'done', sha: 'deadbeef' });
  });

  it('does not require it for a task without git writes', async () => {
    const t = setup({ entry: { taskPrompt: 'git status and git log are fine; summarise the diff' } });
    await t.run();
    expect(t.ledger.get('t')?.status).toBe('done');
  });

  it.each(['abc12', 'not-a-sha', 'g123456', 'a'.repeat(41)])('refuses the bad sha %s', async (sha) => {
    const t = setup();
    const err = await refusal(t.run({ sha }));
    expect(err.exitCode).toBe(1);
    expect(err.rule).toBe('sha');
    expect(err.message).toContain(sha);
  });

  it('warns and skips the rule for a label without a stored task prompt (imported)', async () => {
    const t = setup({ entry: { taskPrompt: undefined } });
    const r = await t.run();
    expect(r.warnings.join('\n')).toMatch(/no stored task prompt/);
    expect(t.ledger.get('t')?.status).toBe('done');
  });
});

describe('dispatch done: minimum runtime', () => {
  it('refuses a run younger than the minimum, naming the override', async () => {
    const t = setup({ ranMs: 20_000 });
    const err = await refusal(t.run());
    expect(err.exitCode).toBe(1);
    expect(err.rule).toBe('min-runtime');
    expect(err.message).toContain('20 s');
    expect(err.message).toContain('60 s');
    expect(err.message).toContain('--force-done --reason');
    expect(t.ledger.get('t')?.status).toBe('running');
  });

  it('accepts one at the minimum', async () => {
    const t = setup({ ranMs: 60_000 });
    await t.run();
    expect(t.ledger.get('t')?.status).toBe('done');
  });

  it('follows the configured minimum', async () => {
    const t = setup({ ranMs: 20_000 });
    t.ctx.minRuntimeMs = 10_000;
    await t.run();
    expect(t.ledger.get('t')?.status).toBe('done');
  });

  it('--force-done --reason overrides it and records the reason', async () => {
    const t = setup({ ranMs: 5_000 });
    await t.run({ forceDone: true, reason: 'a one-line config change' });
    expect(t.ledger.get('t')).toMatchObject({ status: 'done', forceReason: 'a one-line config change' });
  });

  it('--force-done without --reason is a bad argument (exit 2)', async () => {
    for (const reason of [undefined, '   ']) {
      const t = setup({ ranMs: 5_000 });
      const err = await refusal(t.run({ forceDone: true, reason }));
      expect(err.exitCode).toBe(2);
      expect(err.message).toContain('--reason');
    }
  });
});

describe('dispatch done: the activity check', () => {
  it('refuses a session with no assistant message, naming the override', async () => {
    const t = setup({ history: [{ role: 'user', content: 'task' }] });
    const err = await refusal(t.run());
    expect(err.exitCode).toBe(1);
    expect(err.rule).toBe('activity');
    expect(err.message).toContain('--skip-activity-check');
    expect(t.ledger.get('t')?.status).toBe('running');
  });

  it('--skip-activity-check skips it (the gateway is not even asked)', async () => {
    const t = setup({ history: [] });
    await t.run({ skipActivityCheck: true });
    expect(t.ledger.get('t')?.status).toBe('done');
    expect(t.gatewayAsked()).toBe(0);
  });

  it('fails open with a warning when the gateway is down', async () => {
    for (const history of ['down', 'refuses'] as const) {
      const t = setup({ history });
      const r = await t.run();
      expect(r.warnings.join('\n')).toMatch(/activity check skipped/);
      expect(t.ledger.get('t')?.status).toBe('done');
    }
  });

  it('counts an assistant reply in the store since the run started, without asking the gateway', async () => {
    const t = setup({
      history: 'down',
      events: [
        ev({ type: 'assistant.text', sessionKey: KEY, ts: T0 + 5_000, runId: 'run-1', text: 'on it' }),
      ],
    });
    const r = await t.run();
    expect(r.warnings).toEqual([]);
    expect(t.gatewayAsked()).toBe(0);
  });

  it('does not count a stored reply from before the run (a reused session)', async () => {
    const t = setup({
      history: [{ role: 'user', content: 'task' }],
      events: [
        ev({ type: 'assistant.text', sessionKey: KEY, ts: T0 - 3_600_000, runId: 'old', text: 'old reply' }),
      ],
    });
    expect((await refusal(t.run())).rule).toBe('activity');
  });

  it('counts work done through tools only (assistant tool calls, no text yet)', async () => {
    // agents often work silently through tools and call done as their final action, before
    // any text: that is activity, as it was for the original (which counted messages)
    const t = setup({
      history: [
        { role: 'user', content: 'task' },
        {
          role: 'assistant',
          content: [{ type: 'toolCall', id: 'c1', name: 'exec', arguments: { command: 'npm test' } }],
        },
        { role: 'toolResult', toolCallId: 'c1', content: [{ type: 'text', text: 'ok' }] },
        {
          role: 'assistant',
          content: [{ type: 'toolCall', id: 'c2', name: 'exec', arguments: { command: 'done' } }],
        },
      ],
    });
    await t.run();
    expect(t.ledger.get('t')?.status).toBe('done');
  });

  it('counts a finished tool in the store', async () => {
    const t = setup({
      history: 'down',
      events: [
        ev({ type: 'agent.started', sessionKey: KEY, ts: T0 + 1_000, runId: 'run-1' }),
        ev({
          type: 'tool.call',
          sessionKey: KEY,
          ts: T0 + 2_000,
          runId: 'run-1',
          callId: 'c1',
          name: 'exec',
        }),
        ev({
          type: 'tool.output',
          sessionKey: KEY,
          ts: T0 + 3_000,
          runId: 'run-1',
          callId: 'c1',
          name: 'exec',
        }),
      ],
    });
    const r = await t.run();
    expect(r.warnings).toEqual([]);
    expect(t.gatewayAsked()).toBe(0);
  });

  it('does not count the done call itself (a session that did nothing else is refused)', async () => {
    const t = setup({
      history: [
        { role: 'user', content: 'task' },
        {
          role: 'assistant',
          content: [{ type: 'toolCall', id: 'c1', name: 'exec', arguments: { command: 'done' } }],
        },
      ],
    });
    expect((await refusal(t.run())).rule).toBe('activity');
  });

  it('--force-done --reason also passes it, as in the original', async () => {
    const t = setup({ history: [{ role: 'user', content: 'task' }] });
    await t.run({ forceDone: true, reason: 'the answer needed no tools' });
    expect(t.ledger.get('t')?.status).toBe('done');
  });
});

describe('dispatch done: activity in chat.history belongs to this run', () => {
  it('does not count messages stamped before the run started (a reused session)', async () => {
    const old = T0 - 3_600_000;
    const t = setup({
      history: [
        { role: 'user', content: 'old task', timestamp: old },
        { role: 'assistant', content: [{ type: 'text', text: 'old reply' }], timestamp: old + 1 },
        { role: 'user', content: 'new task', timestamp: T0 + 1 },
      ],
    });
    expect((await refusal(t.run())).rule).toBe('activity');
  });
});

/**
 * The read-only dispatch commands: status (ledger entry + live info from the daemon's model,
 * else the gateway, else the store), stuck (as the model means it), heartbeat, result (the
 * store's reply, else chat.history) and list (labels.json's shape).
 */
import { describe, expect, it } from 'vitest';
import { FakeCallError, fakeGatewayCaller } from '../../test/support/fake-gateway-caller.js';
import { labelEntry } from '../../test/support/label-entry.js';
import type { PulseEvent } from '../model/events.js';
import type { SessionState } from '../model/session.js';
import { ev, testLimits } from '../model/test-events.js';
import { createSessionTracker } from '../model/tracker.js';
import type { LabelEntry } from '../store/dispatch-ledger.js';
import { createSqliteStore } from '../store/sqlite-store.js';
import type { DispatchContext } from './context.js';
import { DispatchError } from './errors.js';
import type { GatewaySessionRow } from './gateway-ops.js';
import { heartbeat, list, result, status, stuck } from './inspect.js';
import { type LiveView, storeView } from './live.js';

const T0 = Date.parse('2026-12-07T10:00:00.000Z');
const MIN = 60_000;
const KEY = 'agent:main:subagent:aaa';

function entry(over: Partial<LabelEntry> = {}): LabelEntry {
  return labelEntry(T0, { sessionKey: KEY, taskPrompt: 'task', ...over });
}

/** a session as the model has it after these events */
function modelOf(key: string, events: PulseEvent[]): SessionState {
  const tracker = createSessionTracker(testLimits);
  for (const e of events) tracker.apply(e);
  const s = tracker.get(key);
  if (!s) throw new Error(`no session ${key}`);
  return s;
}

interface Setup {
  now: number;
  /** gateway sessions.list rows; 'down': unreachable */
  rows?: GatewaySessionRow[] | 'down';
  history?: unknown[];
  /** the running daemon's model (origin 'daemon'); else the store */
  daemon?: Record<string, SessionState>;
  /** events in the store */
  events?: PulseEvent[];
}

function setup(o: Setup) {
  const store = createSqliteStore(':memory:');
  const ledger = store.ledger();
  if (o.events) store.append(o.events);
  const gw = fakeGatewayCaller({
    'sessions.list': () => {
      if (o.rows === 'down') throw new FakeCallError('UNAVAILABLE', 'down');
      return { sessions: o.rows ?? [] };
    },
    'chat.history': () => ({ messages: o.history ?? [] }),
  });
  const fromStore = storeView(store, testLimits);
  const daemon = o.daemon;
  const live: LiveView = daemon
    ? { origin: 'daemon', session: async (k) => daemon[k], lastReply: fromStore.lastReply }
    : fromStore;
  const ctx: DispatchContext = {
    ledger,
    gateway: async () => {
      if (o.rows === 'down') throw new Error('cannot reach the OpenClaw gateway');
      return gw.caller;
    },
    live,
    daemonRunning: Boolean(daemon),
    now: () => o.now,
    host: 'h',
    emitter: { emit: () => {} },
    minRuntimeMs: 60_000,
  };
  return { ctx, ledger, gw, store };
}

const busy = (key: string, at: number, runId = 'run-1') => [
  ev({ type: 'agent.started', sessionKey: key, ts: at, runId }),
  ev({
    type: 'llm.tokens',
    sessionKey: key,
    ts: at + 10,
    input: 100,
    output: 20,
    cacheRead: 0,
    cacheWrite: 0,
    reasoning: 0,
    costUsd: 0.5,
    model: 'fake/m',
  }),
];

describe('dispatch status', () => {
  it("returns the ledger entry with the daemon model's live data when a daemon runs", async () => {
    const s = modelOf(KEY, [
      ...busy(KEY, T0 + 1_000),
      ev({
        type: 'tool.call',
        sessionKey: KEY,
        ts: T0 + 2_000,
        runId: 'run-1',
        callId: 'c1',
        name: 'exec',
        args: 'npm test',
      }),
    ]);
    const t = setup({
      now: T0 + 62_000,
      daemon: { [KEY]: s },
      rows: [{ key: KEY, hasActiveRun: false, updatedAt: T0 }],
    });
    t.ledger.update('t', () => entry());
    const v = await status(t.ctx, 't');
    expect(v).toMatchObject({ ok: true, label: 't', ...entry() });
    expect(v.live).toMatchObject({
      from: 'daemon',
      state: 'active',
      ageSeconds: 60,
      lastActivityAt: new Date(T0 + 2_000).toISOString(),
      costUsd: 0.5,
      currentTool: 'exec: npm test',
      runOpen: true,
    });
    expect(v.live?.tokens).toMatchObject({ input: 100, output: 20 });
    // the daemon's model is enough: the gateway is not asked
    expect(t.gw.calls).toHaveLength(0);
  });

  it("uses the gateway's row when no daemon runs, even when the store knows the session", async () => {
    const t = setup({
      now: T0 + 120_000,
      events: busy(KEY, T0 + 1_000),
      rows: [
        { key: 'other' },
        {
          key: KEY,
          hasActiveRun: true,
          updatedAt: T0 + 60_000,
          model: 'fake/gw',
          totalTokens: 999,
          estimatedCostUsd: 0.25,
        },
      ],
    });
    t.ledger.update('t', () => entry());
    const v = await status(t.ctx, 't');
    expect(v.live).toEqual({
      from: 'gateway',
      state: 'active',
      model: 'fake/gw',
      ageSeconds: 60,
      lastActivityAt: new Date(T0 + 60_000).toISOString(),
      tokens: 999,
      costUsd: 0.25,
      runOpen: true,
    });
  });

  it('falls back to the store when the gateway is down or does not list the session', async () => {
    for (const rows of ['down', [{ key: 'other' }]] as const) {
      const t = setup({ now: T0 + 120_000, events: busy(KEY, T0 + 1_000), rows: rows as Setup['rows'] });
      t.ledger.update('t', () => entry());
      const v = await status(t.ctx, 't');
      expect(v.live).toMatchObject({ from: 'store', state: 'active', runOpen: true, costUsd: 0.5 });
    }
  });

  it('has live null when nobody knows the session, and exit 1 for an unknown label', async () => {
    const t = setup({ now: T0, rows: 'down' });
    t.ledger.update('t', () => entry());
    expect((await status(t.ctx, 't')).live).toBeNull();
    const err = await status(t.ctx, 'nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DispatchError);
    expect((err as DispatchError).exitCode).toBe(1);
  });
});

describe('dispatch stuck', () => {
  it('lists a running label whose open run has been silent past the threshold', async () => {
    const s = modelOf(KEY, [
      ...busy(KEY, T0 + 1_000),
      ev({ type: 'tool.call', sessionKey: KEY, ts: T0 + 2_000, runId: 'run-1', callId: 'c1', name: 'exec' }),
    ]);
    const t = setup({
      now: T0 + 2_000 + 16 * MIN,
      daemon: { [KEY]: s },
      rows: [{ key: KEY, hasActiveRun: true }],
    });
    t.ledger.update('t', () => entry());
    expect(await stuck(t.ctx, 15)).toEqual([
      {
        label: 't',
        sessionKey: KEY,
        agent: 'main',
        spawnedAt: new Date(T0).toISOString(),
        ageMin: 16,
        silenceMin: 16,
        tool: 'exec',
      },
    ]);
    // not yet at a higher threshold
    expect(await stuck(t.ctx, 20)).toEqual([]);
  });

  it('finds it from the store too (no daemon), and when the gateway is down', async () => {
    const t = setup({ now: T0 + 30 * MIN, events: busy(KEY, T0 + 1_000), rows: 'down' });
    t.ledger.update('t', () => entry());
    expect((await stuck(t.ctx, 15)).map((s) => s.label)).toEqual(['t']);
  });

  it('ignores one whose gateway row says the run is over (it ended unseen)', async () => {
    const t = setup({
      now: T0 + 30 * MIN,
      events: busy(KEY, T0 + 1_000),
      rows: [{ key: KEY, hasActiveRun: false }],
    });
    t.ledger.update('t', () => entry());
    expect(await stuck(t.ctx, 15)).toEqual([]);
  });

  it('ignores a session that is not busy, a silence under the threshold, and labels not running', async () => {
    const idle = 'agent:main:subagent:idle';
    const fresh = 'agent:main:subagent:fresh';
    const ended = 'agent:main:subagent:ended';
    const t = setup({
      now: T0 + 30 * MIN,
      rows: [],
      events: [
        ...busy(idle, T0 + 1_000, 'r-idle'),
        ev({ type: 'agent.finished', sessionKey: idle, ts: T0 + 2_000, runId: 'r-idle', outcome: 'ok' }),
        ...busy(fresh, T0 + 25 * MIN, 'r-fresh'),
        ...busy(ended, T0 + 1_000, 'r-ended'),
      ],
    });
    t.ledger.update('idle', () => entry({ sessionKey: idle }));
    t.ledger.update('fresh', () => entry({ sessionKey: fresh }));
    t.ledger.update('ended', () => entry({ sessionKey: ended, status: 'done' }));
    t.ledger.update('unknown', () => entry({ sessionKey: 'agent:main:subagent:nobody' }));
    expect(await stuck(t.ctx, 15)).toEqual([]);
    // the gateway is asked only when something looks stuck
    expect(t.gw.calls).toHaveLength(0);
  });
});

describe('dispatch heartbeat', () => {
  it('alive within 10 min of the last activity, silent after', async () => {
    const s = modelOf(KEY, busy(KEY, T0));
    const at = (now: number) => {
      const t = setup({ now, daemon: { [KEY]: s } });
      t.ledger.update('t', () => entry());
      return heartbeat(t.ctx, { label: 't' });
    };
    expect(await at(T0 + 10 + 10 * MIN)).toMatchObject({
      ok: true,
      label: 't',
      sessionKey: KEY,
      alive: true,
      ageSeconds: 600,
      status: 'running',
      lastActivityAt: new Date(T0 + 10).toISOString(),
    });
    expect(await at(T0 + 10 + 11 * MIN)).toMatchObject({ alive: false, ageSeconds: 660 });
  });

  it('works by session key without a label, from the gateway row', async () => {
    const t = setup({ now: T0 + MIN, rows: [{ key: 'agent:main:main', updatedAt: T0 }] });
    expect(await heartbeat(t.ctx, { sessionKey: 'agent:main:main' })).toMatchObject({
      label: null,
      status: null,
      alive: true,
      ageSeconds: 60,
    });
  });

  it('says unknown (not alive) when nothing knows the session; needs a label or key', async () => {
    const t = setup({ now: T0, rows: [] });
    expect(await heartbeat(t.ctx, { sessionKey: 'agent:main:gone' })).toMatchObject({
      alive: false,
      ageSeconds: null,
      lastActivityAt: null,
      live: null,
    });
    const err = await heartbeat(t.ctx, {}).catch((e: unknown) => e);
    expect((err as DispatchError).exitCode).toBe(2);
    const err2 = await heartbeat(t.ctx, { label: 'nope' }).catch((e: unknown) => e);
    expect((err2 as DispatchError).exitCode).toBe(1);
  });
});

describe('dispatch result', () => {
  it("prefers the store's last assistant text since the run started", async () => {
    const t = setup({
      now: T0 + 10 * MIN,
      history: [{ role: 'assistant', content: 'from the gateway' }],
      events: [
        ev({ type: 'assistant.text', sessionKey: KEY, ts: T0 - 3_600_000, runId: 'old', text: 'an old run' }),
        ev({
          type: 'assistant.text',
          sessionKey: KEY,
          ts: T0 + 5_000,
          runId: 'run-1',
          text: 'first thoughts',
        }),
        ev({ type: 'assistant.text', sessionKey: KEY, ts: T0 + 9_000, runId: 'run-1', text: 'the answer' }),
        ev({ type: 'assistant.text', sessionKey: KEY, ts: T0 + 9_000, runId: 'run-1', text: 'is 42' }),
      ],
    });
    t.ledger.update('t', () => entry());
    expect(await result(t.ctx, 't')).toEqual({
      ok: true,
      label: 't',
      sessionKey: KEY,
      status: 'running',
      spawnedAt: new Date(T0).toISOString(),
      summary: 'the answer\nis 42',
      lastReply: 'the answer\nis 42',
      from: 'store',
      error: null,
    });
    expect(t.gw.of('chat.history')).toHaveLength(0);
  });

  it('asks chat.history when the store has no reply of this run', async () => {
    const t = setup({
      now: T0 + 10 * MIN,
      history: [{ role: 'assistant', content: [{ type: 'text', text: 'from the gateway' }] }],
      events: [
        ev({ type: 'assistant.text', sessionKey: KEY, ts: T0 - 3_600_000, runId: 'old', text: 'an old run' }),
      ],
    });
    t.ledger.update('t', () => entry({ summary: 'kept summary', status: 'done' }));
    expect(await result(t.ctx, 't')).toMatchObject({
      lastReply: 'from the gateway',
      from: 'gateway',
      summary: 'kept summary',
      status: 'done',
    });
  });

  it('says there is no reply when neither has one, with the error', async () => {
    const t = setup({ now: T0, rows: 'down' });
    t.ledger.update('t', () => entry({ status: 'error', error: 'boom' }));
    expect(await result(t.ctx, 't')).toMatchObject({
      lastReply: null,
      from: null,
      summary: null,
      error: 'boom',
    });
  });
});

describe('dispatch list', () => {
  it("prints labels.json's shape: an object keyed by label, most recent first, with --status and --limit", () => {
    const t = setup({ now: T0 });
    const at = (m: number) => new Date(T0 + m * MIN).toISOString();
    t.ledger.update('old', () => entry({ sessionKey: 'k1', updatedAt: at(1), status: 'done' }));
    t.ledger.update('newest', () => entry({ sessionKey: 'k3', updatedAt: at(3) }));
    t.ledger.update('middle', () => entry({ sessionKey: 'k2', updatedAt: at(2), status: 'done' }));
    const all = list(t.ctx, {});
    expect(Object.keys(all)).toEqual(['newest', 'middle', 'old']);
    expect(all.middle).toEqual(entry({ sessionKey: 'k2', updatedAt: at(2), status: 'done' }));
    expect(Object.keys(list(t.ctx, { status: 'done' }))).toEqual(['middle', 'old']);
    expect(Object.keys(list(t.ctx, { limit: 2 }))).toEqual(['newest', 'middle']);
    expect(Object.keys(list(t.ctx, { status: 'done', limit: 1 }))).toEqual(['middle']);
    expect(list(t.ctx, { status: 'stale' })).toEqual({});
    // the JSON is what a script reads from labels.json
    const parsed = JSON.parse(JSON.stringify(all)) as Record<string, LabelEntry>;
    expect(parsed.newest?.sessionKey).toBe('k3');
  });
});

/**
 * The ledger against the world: `sync` (gateway sessions: gone ones stale, unknown ones
 * imported), `import` (an openclaw-scheduler labels.json) and `recover` (the 529 safety net as
 * a one-shot: plans a retry, sends a due one exactly once across concurrent runs).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeCallError, fakeGatewayCaller } from '../../test/support/fake-gateway-caller.js';
import { labelEntry } from '../../test/support/label-entry.js';
import { recoverReport } from '../cli/dispatch-format.js';
import type { PulseEvent } from '../model/events.js';
import { ev, testLimits } from '../model/test-events.js';
import type { DispatchLedger, LabelEntry } from '../store/dispatch-ledger.js';
import { openLedgerFile } from '../store/sqlite-ledger.js';
import { createSqliteStore } from '../store/sqlite-store.js';
import { tempDir } from '../test-support/temp-dir.js';
import type { DispatchContext } from './context.js';
import { DispatchError } from './errors.js';
import type { LiveView } from './live.js';
import { storeView } from './live.js';
import { importLabels, recover, sync } from './reconcile.js';

const T0 = Date.parse('2026-12-07T10:00:00.000Z');
const MIN = 60_000;
const KEY = 'agent:main:subagent:aaa';
const dir = tempDir('clawpulse-reconcile-');

function entry(over: Partial<LabelEntry> = {}): LabelEntry {
  return labelEntry(T0, {
    sessionKey: KEY,
    model: 'fake/m',
    taskPrompt: 'do the thing',
    deliveryMode: 'announce',
    monitor: true,
    ...over,
  });
}

type Handlers = Parameters<typeof fakeGatewayCaller>[0];

function context(o: {
  ledger: DispatchLedger;
  now: () => number;
  live?: LiveView;
  handlers?: Handlers;
  down?: boolean;
}) {
  const gw = fakeGatewayCaller({
    'sessions.list': () => ({ sessions: [] }),
    'chat.send': (p) => ({ runId: p.idempotencyKey, status: 'started' }),
    ...o.handlers,
  });
  const emitted: unknown[] = [];
  const ctx: DispatchContext = {
    ledger: o.ledger,
    gateway: async () => {
      if (o.down) throw new Error('cannot reach the OpenClaw gateway at ws://127.0.0.1:1');
      return gw.caller;
    },
    live: o.live ?? { origin: 'store', session: async () => undefined, lastReply: async () => undefined },
    daemonRunning: false,
    now: o.now,
    host: 'h',
    emitter: { emit: (e) => emitted.push(e) },
    minRuntimeMs: 60_000,
  };
  return { ctx, gw, emitted };
}

describe('dispatch sync', () => {
  function setup(rows: unknown[], now = T0 + 10 * MIN) {
    const ledger = createSqliteStore(':memory:').ledger();
    return {
      ledger,
      ...context({ ledger, now: () => now, handlers: { 'sessions.list': () => ({ sessions: rows }) } }),
    };
  }

  it('marks a running label stale when its session is gone from the gateway', async () => {
    const t = setup([{ key: 'agent:main:subagent:listed', label: 'listed' }]);
    t.ledger.update('gone', () => entry({ sessionKey: 'agent:main:subagent:gone' }));
    t.ledger.update('listed', () => entry({ sessionKey: 'agent:main:subagent:listed' }));
    t.ledger.update('young', () =>
      entry({ sessionKey: 'agent:main:subagent:young', spawnedAt: new Date(T0 + 6 * MIN).toISOString() }),
    );
    t.ledger.update('finished', () => entry({ sessionKey: 'agent:main:subagent:fin', status: 'done' }));
    const r = await sync(t.ctx);
    expect(r).toEqual({
      ok: true,
      dryRun: false,
      stale: [{ label: 'gone', sessionKey: 'agent:main:subagent:gone' }],
      imported: [],
    });
    expect(t.ledger.get('gone')).toMatchObject({
      status: 'stale',
      error: 'session no longer on the gateway (sync)',
      updatedAt: new Date(T0 + 10 * MIN).toISOString(),
    });
    // listed, younger than 5 min (it may not be listed yet), or not running: untouched
    expect(t.ledger.get('listed')?.status).toBe('running');
    expect(t.ledger.get('young')?.status).toBe('running');
    expect(t.ledger.get('finished')?.status).toBe('done');
    expect(t.gw.of('sessions.list')[0]?.params).toMatchObject({ limit: 1000 });
  });

  it('imports sessions it does not know, under their label (else their key)', async () => {
    const t = setup([
      {
        key: 'agent:ops:subagent:1',
        label: '  nightly-report ',
        hasActiveRun: true,
        model: 'fake/m',
        updatedAt: T0,
      },
      { key: 'agent:main:main', status: 'done', updatedAt: T0 + MIN },
      { key: 'agent:main:subagent:2', label: 'taken', status: 'failed' },
      { key: KEY, label: 'known-session' },
    ]);
    t.ledger.update('taken', () => entry({ sessionKey: 'agent:main:subagent:other', status: 'done' }));
    t.ledger.update('mine', () => entry({ sessionKey: KEY }));
    const r = await sync(t.ctx);
    expect(r.imported).toEqual([
      { label: 'nightly-report', sessionKey: 'agent:ops:subagent:1', status: 'running' },
      { label: 'agent:main:main', sessionKey: 'agent:main:main', status: 'done' },
      { label: 'agent:main:subagent:2', sessionKey: 'agent:main:subagent:2', status: 'error' },
    ]);
    expect(t.ledger.get('nightly-report')).toMatchObject({
      sessionKey: 'agent:ops:subagent:1',
      agent: 'ops',
      model: 'fake/m',
      status: 'running',
      spawnedAt: new Date(T0).toISOString(),
      createdBy: 'sync',
      monitor: false,
    });
    expect(t.ledger.get('agent:main:main')).toMatchObject({
      status: 'done',
      endedAt: new Date(T0 + MIN).toISOString(),
    });
    expect(t.ledger.get('agent:main:subagent:2')).toMatchObject({
      status: 'error',
      error: 'session failed on the gateway',
    });
    // the label that was taken keeps its own session
    expect(t.ledger.get('taken')?.sessionKey).toBe('agent:main:subagent:other');
    // a second sync finds nothing new
    expect(await sync(t.ctx)).toMatchObject({ stale: [], imported: [] });
  });

  it('--dry-run reports the same and changes nothing', async () => {
    const t = setup([{ key: 'agent:main:subagent:new', label: 'new' }]);
    t.ledger.update('gone', () => entry({ sessionKey: 'agent:main:subagent:gone' }));
    const before = t.ledger.list();
    const r = await sync(t.ctx, true);
    expect(r).toMatchObject({
      dryRun: true,
      stale: [{ label: 'gone' }],
      imported: [{ label: 'new', sessionKey: 'agent:main:subagent:new', status: 'done' }],
    });
    expect(t.ledger.list()).toEqual(before);
  });

  it('fails with exit 1 when the gateway cannot be asked (nothing is marked stale)', async () => {
    const ledger = createSqliteStore(':memory:').ledger();
    ledger.update('gone', () => entry());
    const { ctx } = context({ ledger, now: () => T0 + 10 * MIN, down: true });
    const err = await sync(ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DispatchError);
    expect((err as DispatchError).exitCode).toBe(1);
    expect((err as Error).message).toContain('sync needs the gateway');
    expect(ledger.get('gone')?.status).toBe('running');
  });
});

describe('dispatch import', () => {
  /** labels.json as openclaw-scheduler's dispatch 0.2.0 writes it */
  const labelsJson = {
    'ticket-42': {
      sessionKey: 'agent:main:subagent:42',
      runId: 'r-42',
      agent: 'main',
      mode: 'fresh',
      model: 'anthropic/claude-sonnet-4-6',
      thinking: 'high',
      spawnedAt: '2026-11-30T09:00:00.000Z',
      timeoutSeconds: 600,
      status: 'done',
      summary: 'fixed it',
      error: null,
      updatedAt: '2026-11-30T09:30:00.000Z',
    },
    'still-going': {
      sessionKey: 'agent:coder:subagent:7',
      runId: 'r-7',
      agent: 'coder',
      mode: 'reuse',
      model: null,
      thinking: null,
      spawnedAt: '2026-11-30T10:00:00.000Z',
      status: 'spawn-warning',
      summary: null,
      error: null,
      updatedAt: '2026-11-30T10:00:05.000Z',
    },
    minimal: { sessionKey: 'agent:ops:subagent:1', status: 'weird' },
    broken: null,
    'no-key': { status: 'done' },
  };

  function file(content: unknown, name = 'labels.json') {
    const path = join(dir, `${Math.random().toString(36).slice(2)}-${name}`);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    return path;
  }

  it('imports the labels of a labels.json with their fields, and skips unreadable ones', () => {
    const ledger = createSqliteStore(':memory:').ledger();
    const { ctx } = context({ ledger, now: () => T0 });
    const path = file(labelsJson);
    const r = importLabels(ctx, path);
    expect(r).toEqual({
      ok: true,
      file: path,
      imported: ['ticket-42', 'still-going', 'minimal'],
      skipped: ['broken', 'no-key'],
    });
    expect(ledger.get('ticket-42')).toEqual({ ...labelsJson['ticket-42'], createdBy: 'import' });
    // spawn-warning was the original's "running, not seen yet"
    expect(ledger.get('still-going')).toMatchObject({ status: 'running', agent: 'coder', mode: 'reuse' });
    expect(ledger.get('minimal')).toEqual({
      sessionKey: 'agent:ops:subagent:1',
      runId: null,
      agent: 'ops',
      mode: 'fresh',
      model: null,
      thinking: null,
      spawnedAt: new Date(T0).toISOString(),
      status: 'done',
      summary: null,
      error: null,
      updatedAt: new Date(T0).toISOString(),
      createdBy: 'import',
    });
    // most recent first, as list shows them
    expect(ledger.list().map((x) => x.label)).toEqual(['minimal', 'still-going', 'ticket-42']);
  });

  it('keeps labels already in the ledger, and a second import of the same file imports nothing', () => {
    const ledger = createSqliteStore(':memory:').ledger();
    const { ctx } = context({ ledger, now: () => T0 });
    ledger.update('ticket-42', () => entry({ sessionKey: 'agent:main:subagent:mine', summary: 'mine' }));
    const path = file(labelsJson);
    expect(importLabels(ctx, path).imported).toEqual(['still-going', 'minimal']);
    expect(ledger.get('ticket-42')).toMatchObject({
      sessionKey: 'agent:main:subagent:mine',
      summary: 'mine',
    });
    const again = importLabels(ctx, path);
    expect(again.imported).toEqual([]);
    expect(again.skipped).toEqual(['ticket-42', 'still-going', 'minimal', 'broken', 'no-key']);
  });

  it('refuses a file that is not a labels.json (exit 1)', () => {
    const ledger = createSqliteStore(':memory:').ledger();
    const { ctx } = context({ ledger, now: () => T0 });
    for (const content of ['{not json', '[]', '"x"']) {
      const err = (() => {
        try {
          importLabels(ctx, file(content));
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(DispatchError);
      expect((err as DispatchError).exitCode).toBe(1);
      expect((err as Error).message).toMatch(/^cannot import /);
    }
    expect(() => importLabels(ctx, join(dir, 'missing.json'))).toThrow(/cannot import .*missing\.json/);
    expect(ledger.list()).toEqual([]);
  });
});

describe('dispatch recover', () => {
  const failed529 = (key: string, runId: string, at: number): PulseEvent[] => [
    ev({ type: 'agent.started', sessionKey: key, ts: at, runId }),
    ev({
      type: 'agent.finished',
      sessionKey: key,
      ts: at + 50,
      runId,
      outcome: 'error',
      error: '529 {"type":"overloaded_error","message":"Overloaded"}',
    }),
  ];

  function setup(events: PulseEvent[], handlers: Handlers = {}) {
    const path = join(dir, `${Math.random().toString(36).slice(2)}.sqlite`);
    const store = createSqliteStore(path);
    store.append(events);
    store.flush();
    let now = T0 + 1_000;
    const live = storeView(store, testLimits);
    // two processes: each its own connection to the ledger, one gateway between them
    const a = openLedgerFile(path);
    const b = openLedgerFile(path);
    const first = context({ ledger: a.ledger, now: () => now, live, handlers });
    const second = context({ ledger: b.ledger, now: () => now, live, handlers });
    const calls = () => [...first.gw.calls, ...second.gw.calls];
    return {
      ledger: a.ledger,
      a: first,
      b: second,
      calls,
      at: (t: number) => {
        now = t;
      },
      close: () => {
        a.close();
        b.close();
        store.close();
      },
    };
  }

  it('plans a retry for a running label whose run failed with 529, then sends it once when due', async () => {
    const t = setup(failed529(KEY, 'run-1', T0 + 100));
    t.ledger.update('flaky', () => entry());
    const planned = await recover(t.a.ctx);
    expect(planned).toEqual({
      ok: true,
      retried: [],
      failed: [],
      scheduled: [{ label: 'flaky', dueAt: new Date(T0 + 150 + 30_000).toISOString() }],
    });
    expect(recoverReport(planned)).toBe('');
    expect(t.ledger.get('flaky')).toMatchObject({
      status: 'error',
      failedAt: T0 + 150,
      retryDueAt: T0 + 30_150,
    });
    // a pass before it is due plans nothing new and sends nothing
    expect(await recover(t.a.ctx)).toEqual({ ok: true, retried: [], failed: [], scheduled: [] });
    expect(t.calls()).toHaveLength(0);

    t.at(T0 + 31_000);
    const [one, two] = await Promise.all([recover(t.a.ctx), recover(t.b.ctx)]);
    const retried = [...(one?.retried ?? []), ...(two?.retried ?? [])];
    expect(retried).toEqual([{ label: 'flaky', attempt: 1, via: 'continue', sessionKey: KEY }]);
    const sends = t.calls().filter((c) => c.method === 'chat.send');
    expect(sends).toHaveLength(1);
    expect(sends[0]?.params).toMatchObject({ sessionKey: KEY, queueMode: 'steer' });
    expect(String(sends[0]?.params.message)).toContain('[clawpulse retry 1/3]');
    expect(t.ledger.get('flaky')).toMatchObject({ status: 'running', retryCount: 1, error: null });
    expect(recoverReport(one?.retried.length ? one : (two as NonNullable<typeof two>))).toBe(
      'retried flaky (attempt 1/3, continued)',
    );
    // the one that retried says so (no daemon runs)
    expect([...t.a.emitted, ...t.b.emitted]).toMatchObject([
      { event: 'dispatch.retried', label: 'flaky', attempt: 1 },
    ]);
    // and nothing more happens on later passes
    t.at(T0 + 10 * MIN);
    expect(await recover(t.a.ctx)).toMatchObject({ retried: [], failed: [] });
    expect(t.calls().filter((c) => c.method === 'chat.send')).toHaveLength(1);
    t.close();
  });

  it('reports a retry that could not be sent, and tries again on the next pass', async () => {
    let gatewayUp = false;
    const refuse = () => {
      if (!gatewayUp) throw new FakeCallError('UNAVAILABLE', 'gateway restarting');
      return { runId: 'run-2', status: 'accepted' };
    };
    const t = setup(failed529(KEY, 'run-1', T0 + 100), {
      'chat.send': refuse,
      'sessions.patch': refuse,
      agent: refuse,
    });
    t.ledger.update('flaky', () => entry());
    await recover(t.a.ctx);
    t.at(T0 + 31_000);
    const r = await recover(t.a.ctx);
    expect(r.failed).toEqual([{ label: 'flaky', error: 'gateway restarting' }]);
    expect(recoverReport(r)).toBe('retry failed for flaky: gateway restarting');
    expect(t.ledger.get('flaky')).toMatchObject({ status: 'error', retryCount: 0 });
    gatewayUp = true;
    const again = await recover(t.b.ctx);
    expect(again.retried).toEqual([{ label: 'flaky', attempt: 1, via: 'continue', sessionKey: KEY }]);
    t.close();
  });

  it('leaves alone what is not a due 529 failure: other errors, ok runs, runs still going', async () => {
    const k = (n: string) => `agent:main:subagent:${n}`;
    const t = setup([
      ev({ type: 'agent.started', sessionKey: k('err'), ts: T0 + 100, runId: 'r' }),
      ev({
        type: 'agent.finished',
        sessionKey: k('err'),
        ts: T0 + 200,
        runId: 'r',
        outcome: 'error',
        error: 'tool crashed',
      }),
      ev({ type: 'agent.started', sessionKey: k('ok'), ts: T0 + 100, runId: 'r' }),
      ev({ type: 'agent.finished', sessionKey: k('ok'), ts: T0 + 200, runId: 'r', outcome: 'ok' }),
      ev({ type: 'agent.started', sessionKey: k('going'), ts: T0 + 100, runId: 'r' }),
    ]);
    t.ledger.update('err', () => entry({ sessionKey: k('err') }));
    t.ledger.update('ok', () => entry({ sessionKey: k('ok') }));
    t.ledger.update('going', () => entry({ sessionKey: k('going') }));
    t.ledger.update('unseen', () => entry({ sessionKey: k('unseen') }));
    t.at(T0 + 10 * MIN);
    const r = await recover(t.a.ctx);
    expect(r).toEqual({ ok: true, retried: [], failed: [], scheduled: [] });
    expect(recoverReport(r)).toBe('');
    expect(t.ledger.get('err')).toMatchObject({ status: 'error', error: 'tool crashed' });
    expect(t.ledger.get('err')?.retryDueAt).toBeUndefined();
    expect(t.ledger.get('ok')?.status).toBe('done');
    expect(t.ledger.get('going')?.status).toBe('running');
    expect(t.ledger.get('unseen')?.status).toBe('running');
    expect(t.calls()).toHaveLength(0);
    t.close();
  });
});

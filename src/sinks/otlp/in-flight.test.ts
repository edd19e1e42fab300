/**
 * In flight: a run and a tool call held open for 2 minutes (injected clock) show up within one
 * interval as in-progress snapshots whose duration grows, the stuck session is marked, and the
 * end is one completed span per operation. A collector that is down costs a bounded queue.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../infra/clock.js';
import type { PulseEvent } from '../../model/events.js';
import { type StrictCollector, startStrictCollector } from './strict-collector.js';
import { cleanUp, drained, exporterTo, makePipeline, onCleanUp, startB } from './test-kit.js';

afterEach(async () => {
  await cleanUp();
});

const KEY = 'agent:main:long';
const base = (ts: number, what: string) => ({
  ts,
  source: 'gateway' as const,
  sessionKey: KEY,
  agentId: 'main',
  dedupeKey: `long/${what}`,
});
type Obj = Record<string, unknown>;
const attr = (sp: Obj, k: string) =>
  ((sp.attributes as Array<{ key: string; value: Obj }>) ?? []).find((x) => x.key === k)?.value;
const ms = (ns: unknown) => Number(BigInt(String(ns)) / 1_000_000n);

describe('OTLP export of sessions in flight', () => {
  it('a run open for 2 minutes appears within one interval with a growing duration and ends as one span', async () => {
    const clock = new ManualClock(Date.parse('2026-11-20T10:00:00Z'));
    const t0 = clock.now();
    const a = makePipeline(clock);
    const b = await startB(clock);
    const strict: StrictCollector = await startStrictCollector();
    onCleanUp(() => strict.close());
    const interval = 10_000;
    const toStrict = exporterTo(strict.url, clock, 'http/protobuf', { progressIntervalMs: interval });
    const toB = exporterTo(b.url, clock, 'http/protobuf', { progressIntervalMs: interval });
    a.subscribe((u) => toStrict.onUpdate(u));
    a.subscribe((u) => toB.onUpdate(u));
    const run = 'run-long';
    a.ingest([
      { type: 'agent.started', ...base(t0, 'start'), runId: run } as PulseEvent,
      {
        type: 'agent.step_started',
        ...base(t0 + 100, 'step'),
        runId: run,
        step: 1,
        model: 'm',
      } as PulseEvent,
      {
        type: 'tool.call',
        ...base(t0 + 200, 'call'),
        runId: run,
        callId: 'c1',
        name: 'exec',
        args: 'sleep 120',
      } as PulseEvent,
    ]);
    // two minutes in 1 s ticks, as the daemon ticks
    const durations: number[] = [];
    let firstSeenAt: number | undefined;
    for (let s = 1; s <= 120; s++) {
      clock.advance(1000);
      a.tick(clock.now());
      toStrict.tick(clock.now());
      toB.tick(clock.now());
      if (s % 10 === 0) {
        await drained(toStrict);
        const snaps = strict
          .spans()
          .filter(
            (sp) =>
              sp.name === 'openclaw.run' && attr(sp, 'openclaw.span.state')?.stringValue === 'in_progress',
          );
        const last = snaps[snaps.length - 1];
        if (last && firstSeenAt === undefined) firstSeenAt = clock.now();
        if (last) durations.push(ms(last.endTimeUnixNano) - ms(last.startTimeUnixNano));
      }
    }
    expect(firstSeenAt).toBeDefined();
    expect((firstSeenAt ?? 0) - t0).toBeLessThanOrEqual(interval);
    expect(durations.length).toBe(12);
    for (let i = 1; i < durations.length; i++)
      expect(durations[i]).toBeGreaterThan(durations[i - 1] as number);
    expect(durations[durations.length - 1]).toBeGreaterThanOrEqual(119_000);

    // the model calls the session stuck after STUCK_AFTER (here 5 min): not yet. Tell it.
    a.ingest([
      { type: 'session.stuck', ...base(clock.now(), 'stuck'), reason: 'no progress for 2 min' } as PulseEvent,
    ]);
    clock.advance(interval);
    toStrict.tick(clock.now());
    await drained(toStrict);
    const stuckSnap = strict
      .spans()
      .filter((sp) => attr(sp, 'openclaw.span.state')?.stringValue === 'in_progress')
      .pop();
    expect(attr(stuckSnap ?? {}, 'openclaw.session.stuck')?.boolValue).toBe(true);
    expect(((stuckSnap?.events ?? []) as Obj[]).some((e) => e.name === 'openclaw.session.stuck')).toBe(true);

    // B sees the open run and the running tool before they end
    await drained(toB);
    const bs = b.pipeline.tracker.get(KEY);
    expect(bs?.runOpen).toBe(true);
    expect(bs?.tools.map((t) => [t.callId, t.status])).toEqual([['c1', 'running']]);

    // the end: one completed span per operation, with the ids the snapshots linked to
    const end = clock.now();
    a.ingest([
      {
        type: 'tool.output',
        ...base(end - 50, 'out'),
        runId: run,
        callId: 'c1',
        name: 'exec',
        durationMs: 120_000,
      } as PulseEvent,
      { type: 'agent.finished', ...base(end, 'fin'), runId: run, outcome: 'ok' } as PulseEvent,
    ]);
    await drained(toStrict);
    await drained(toB);
    const finals = strict.spans().filter((sp) => attr(sp, 'openclaw.span.state') === undefined);
    const runs = finals.filter((sp) => sp.name === 'openclaw.run');
    const tools = finals.filter((sp) => sp.name === 'openclaw.tool.execution');
    expect(runs).toHaveLength(1);
    expect(tools).toHaveLength(1);
    expect(ms(runs[0]?.endTimeUnixNano) - ms(runs[0]?.startTimeUnixNano)).toBe(end - t0);
    const snaps = strict
      .spans()
      .filter((sp) => attr(sp, 'openclaw.span.state')?.stringValue === 'in_progress');
    // every snapshot of the run kept one identity and links to the final span
    const runSnaps = snaps.filter((sp) => sp.name === 'openclaw.run');
    expect(new Set(runSnaps.map((sp) => sp.spanId)).size).toBe(1);
    expect(((runSnaps[0]?.links ?? []) as Obj[])[0]?.spanId).toBe(runs[0]?.spanId);
    expect(attr(runSnaps[0] ?? {}, 'openclaw.span.final_id')?.stringValue).toBe(runs[0]?.spanId);
    expect(strict.problems).toEqual([]);
    // and B counted one run, one tool call, both closed
    const done = b.pipeline.tracker.get(KEY);
    expect(done?.runs).toBe(1);
    expect(done?.runOpen).toBe(false);
    expect(done?.tools.map((t) => [t.callId, t.status, t.durationMs])).toEqual([['c1', 'ok', 120_000]]);
  }, 30_000);

  it('a collector that is down costs a bounded queue, honours Retry-After, and shows in health', async () => {
    const clock = new ManualClock(Date.parse('2026-11-20T10:00:00Z'));
    const strict = await startStrictCollector();
    onCleanUp(() => strict.close());
    for (let i = 0; i < 3; i++) strict.failWith.push({ status: 503, retryAfter: '1' });
    const ex = exporterTo(strict.url, clock, 'http/protobuf', { maxQueue: 50, batchSize: 10 });
    const p = makePipeline(clock);
    p.subscribe((u) => ex.onUpdate(u));
    const t = clock.now();
    const evs: PulseEvent[] = [];
    for (let i = 0; i < 200; i++) {
      const k = `agent:main:s${i}`;
      evs.push(
        {
          type: 'agent.started',
          ts: t,
          source: 'gateway',
          sessionKey: k,
          agentId: 'main',
          dedupeKey: `${k}/s`,
          runId: 'r',
        },
        {
          type: 'agent.finished',
          ts: t + 1,
          source: 'gateway',
          sessionKey: k,
          agentId: 'main',
          dedupeKey: `${k}/f`,
          runId: 'r',
          outcome: 'ok',
        },
      );
    }
    p.ingest(evs);
    await new Promise((r) => setTimeout(r, 50));
    const h = ex.health().find((r) => r.id === 'otlp-traces');
    expect(h?.queued).toBeLessThanOrEqual(50 + 10);
    expect(((h?.detail ?? {}) as { dropped: number }).dropped).toBeGreaterThanOrEqual(200 - 60);
    expect(((h?.detail ?? {}) as { nextAttemptAt?: number }).nextAttemptAt).toBe(clock.now() + 1000);
    // the collector comes back: after the Retry-After waits, what the queue kept is delivered
    for (let i = 0; i < 5 && ex.stats().traces?.queued; i++) {
      clock.advance(1000);
      await new Promise((r) => setTimeout(r, 30));
    }
    await drained(ex);
    expect(ex.stats().traces?.sent).toBe(200 - (ex.stats().traces?.dropped ?? 0));
    expect(strict.problems).toEqual([]);
    expect(ex.metrics()).toMatch(
      /clawpulse_runs_total\{agent="main",model="",channel="",host="test-host",outcome="ok"\} 200/,
    );
  }, 30_000);
});

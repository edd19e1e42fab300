/**
 * Round trip: clawpulse A (a pipeline fed the real recorded OpenClaw sessions) exports to
 * clawpulse B's own OTLP receiver and to a strict collector; B's model of every session must
 * equal A's (runs, tools, sub-agents, tokens, cost, errors), and every body must be valid OTLP.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../infra/clock.js';
import type { SessionState } from '../../model/session.js';
import type { Pipeline } from '../../pipeline.js';
import { type StrictCollector, startStrictCollector } from './strict-collector.js';
import { cleanUp, drained, exporterTo, makePipeline, onCleanUp, recordedEvents, startB } from './test-kit.js';

afterEach(async () => {
  await cleanUp();
});

const round = (n: number) => Math.round(n * 1e9) / 1e9;

/** what a session must agree on between A and B */
function view(s: SessionState) {
  return {
    key: s.key,
    agentId: s.agentId,
    parentKey: s.parentKey,
    children: [...s.children].sort(),
    label: s.parentKey ? s.label : undefined,
    runs: s.runs,
    runOpen: s.runOpen,
    lastOutcome: s.lastOutcome,
    model: s.model,
    tools: s.tools
      .map((t) => ({
        callId: t.callId,
        runId: t.runId,
        name: t.name,
        args: t.args,
        status: t.status,
        error: t.error,
        durationMs: t.durationMs,
      }))
      .sort((a, b) => a.callId.localeCompare(b.callId)),
    tokens: s.tokens,
    costUsd: round(s.costUsd),
    errors: s.errors.map((e) => ({
      message: e.message,
      status: e.status,
      retryable: e.retryable,
      runId: e.runId,
    })),
  };
}

const models = (p: Pipeline) =>
  p.tracker
    .all()
    .filter((s) => s.runs > 0 || s.tools.length > 0 || s.children.length > 0)
    .map(view)
    .sort((a, b) => a.key.localeCompare(b.key));

describe('OTLP export round trip', () => {
  for (const protocol of ['http/protobuf', 'http/json'] as const) {
    it(`B's model of every recorded session equals A's (${protocol})`, async () => {
      const clock = new ManualClock(Date.parse('2026-11-20T10:00:00Z'));
      const a = makePipeline(clock);
      const b = await startB(clock);
      const strict: StrictCollector = await startStrictCollector();
      onCleanUp(() => strict.close());
      const toB = exporterTo(b.url, clock, protocol);
      const toStrict = exporterTo(strict.url, clock, protocol);
      a.subscribe((u) => toB.onUpdate(u));
      a.subscribe((u) => toStrict.onUpdate(u));
      const events = recordedEvents();
      expect(events.length).toBeGreaterThan(50);
      // the sources hand batches: one per transcript read
      for (let i = 0; i < events.length; i += 7) a.ingest(events.slice(i, i + 7));
      clock.advance(2000); // sub-agent runs held for their spawning tool call go out
      for (const ex of [toB, toStrict]) ex.tick(clock.now());
      clock.advance(60_000);
      for (const ex of [toB, toStrict]) ex.tick(clock.now());
      await drained(toB);
      await drained(toStrict);

      expect(strict.problems).toEqual([]);
      const want = models(a);
      expect(want.length).toBeGreaterThanOrEqual(6);
      expect(want.some((s) => s.children.length === 1)).toBe(true);
      expect(want.some((s) => s.errors.some((e) => e.status === 529))).toBe(true);
      expect(models(b.pipeline)).toEqual(want);
      expect(b.rx.stats().rejected).toBe(0);

      // the sub-agent's run is a child span of the spawning tool call, in the parent's trace
      const spans = strict.spans();
      const attr = (sp: Record<string, unknown>, k: string) =>
        ((sp.attributes as Array<{ key: string; value: Record<string, unknown> }>) ?? []).find(
          (x) => x.key === k,
        )?.value;
      const childRuns = spans.filter(
        (sp) => sp.name === 'openclaw.run' && attr(sp, 'openclaw.session.parent_key') !== undefined,
      );
      expect(childRuns.length).toBeGreaterThan(0);
      for (const run of childRuns) {
        const spawnTool = spans.find((sp) => sp.spanId === run.parentSpanId);
        expect(attr(spawnTool ?? {}, 'gen_ai.tool.name')?.stringValue).toMatch(/spawn/);
        expect(spawnTool?.traceId).toBe(run.traceId);
        expect(attr(spawnTool ?? {}, 'openclaw.session.key')?.stringValue).toBe(
          attr(run, 'openclaw.session.parent_key')?.stringValue,
        );
      }
      // a 529 sets the model call's status and records the error
      const overloaded = spans.find((sp) => attr(sp, 'http.response.status_code')?.intValue !== undefined);
      expect(overloaded?.status).toMatchObject({ code: 2, message: '529 Overloaded' });
      expect((overloaded?.events as Array<{ name: string }> | undefined)?.[0]?.name).toBe('exception');
      // every span id is unique; re-exports would carry the same ids
      expect(new Set(spans.map((s) => s.spanId)).size).toBe(spans.length);

      // metrics and logs arrived and validated
      const signals = new Set(strict.received.map((r) => r.signal));
      expect(signals).toEqual(new Set(['traces', 'metrics', 'logs']));
    }, 30_000);
  }
});

/**
 * The conformance checks for one OpenClaw version: run the scenarios through the real gateway
 * with clawpulse's sources following live, then assert each source's view against the fake
 * model's log and against each other. A source whose code does not exist yet is skipped with
 * the reason in the test name; nothing is faked.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSourceArbiter } from '../../src/ingest/arbiter.js';
import type { PulseEvent } from '../../src/model/events.js';
import { childKeyIn, mismatches, SPAWN_KEY, viewDifferences } from './compare.js';
import {
  conformanceRun,
  type Expected,
  expectedFrom,
  type RunResult,
  SCENARIOS,
  sessionKeyOf,
  toolStatusFor,
} from './harness.js';
import { ensureInstalled, type OpenclawVersion } from './install.js';
import { coldRead, resumeRead, type SourceName, sourceFile, sourceObserver } from './sources.js';
import { createView, summarize, type View } from './view.js';

export function defineVersionSuite(
  version: OpenclawVersion,
  storeKind: Extract<SourceName, 'files' | 'sqlite'>,
): void {
  const has: Record<'store' | 'gateway', boolean> = {
    store: !!sourceFile(storeKind),
    gateway: !!sourceFile('gateway'),
  };
  const missing = (name: string) => ` [SKIPPED: src/ingest/${name}/ has no source yet]`;

  describe(`OpenClaw ${version} (real gateway, fake model)`, () => {
    // What the daemon does: both sources live into one model through the source arbiter
    // (one owner per session, gateway first), so a run must never count twice.
    const merged = createView('merged');
    const arbiter = createSourceArbiter(merged, () => true);
    const store = has.store ? sourceObserver(storeKind, storeKind, arbiter.sinkFor(storeKind)) : undefined;
    const gateway = has.gateway
      ? sourceObserver('gateway', 'gateway', arbiter.sinkFor('gateway'))
      : undefined;
    let run: RunResult;
    let expected: Expected;
    let cold: View | undefined;
    let resumed: { view: View; added: PulseEvent[] } | undefined;
    let failed = false;

    beforeEach((ctx) => {
      ctx.onTestFailed(() => {
        failed = true;
      });
    });
    // A passing run's artifacts go; a failing one's stay for inspection (or all, with KEEP=1).
    afterAll(() => {
      if (!run) return;
      if (failed || process.env.CLAWPULSE_CONFORMANCE_KEEP === '1')
        console.log(`[${version}] artifacts kept in ${run.oc.root}`);
      else fs.rmSync(run.oc.root, { recursive: true, force: true });
    });

    beforeAll(async () => {
      const installed = await ensureInstalled(() => {});
      const observers = [gateway, store].filter((o) => o !== undefined);
      run = await conformanceRun({ version, installed, observers, log: (m) => console.log(m) });
      expected = expectedFrom(run.requests, version, run.childKey);
      if (store) {
        const t0 = Date.now();
        cold = await coldRead(storeKind, run.oc, expected, run.childKey);
        console.log(`[${version}] cold ${storeKind} read in ${Date.now() - t0} ms`);
        resumed = await resumeRead(storeKind, run.oc, store.view);
      }
      const report = {
        version,
        root: run.oc.root,
        timings: run.timings,
        childKey: run.childKey,
        expected: [...expected.values()],
        views: Object.fromEntries(
          [store?.view, gateway?.view, cold, has.store && has.gateway ? merged : undefined, resumed?.view]
            .filter((v) => v !== undefined)
            .map((v) => [
              v.name,
              {
                summary: [...summarize(v).values()],
                mismatches: mismatches(v, expected, run.childKey),
                events: v.events.length,
                duplicates: v.duplicateTypes,
              },
            ]),
        ),
      };
      fs.writeFileSync(path.join(run.oc.root, 'conformance-report.json'), JSON.stringify(report, null, 2));
      for (const v of [store?.view, gateway?.view, cold, merged, resumed?.view]) {
        if (v)
          fs.writeFileSync(
            path.join(run.oc.root, `events-${v.name}.jsonl`),
            v.events.map((e) => JSON.stringify(e)).join('\n'),
          );
      }
      console.log(
        `[${version}] timings ${JSON.stringify(run.timings)}; report ${path.join(run.oc.root, 'conformance-report.json')}`,
      );
    }, 600_000);

    it('OpenClaw ran every scenario against the fake model', () => {
      for (const s of SCENARIOS) {
        const a = run.agents[s];
        if (s === 'fail') expect(a.code, `${s}: the CLI reports the terminal overload`).not.toBe(0);
        else expect(a.code, `${s}: ${a.stderr.slice(-300)}`).toBe(0);
      }
      // plus, when the gateway's own heartbeat poll ran, 'heartbeat' (agent:main:main)
      expect([...expected.keys()].filter((k) => k !== 'heartbeat').sort()).toEqual([
        'child',
        'execfail',
        'fail',
        'overload',
        'spawn',
        'tool',
        'toolfail',
      ]);
      expect(run.childKey, 'the spawn tool result names the child session').toMatch(/^agent:main:subagent:/);
      expect(expected.get('fail')?.calls).toBe(0);
      expect(expected.get('fail')?.errors529).toBeGreaterThan(0);
      expect(expected.get('overload')?.errors529).toBe(1);
      expect(expected.get('tool')?.tools.map((t) => t.name)).toEqual(['exec']);
      expect(expected.get('child')?.tools.map((t) => t.name)).toEqual(['exec']);
    });

    const views: Array<[string, boolean, () => View | undefined]> = [
      [storeKind, has.store, () => store?.view],
      ['gateway', has.gateway, () => gateway?.view],
    ];
    for (const [name, available, view] of views) {
      const skip = available ? '' : missing(name);
      it.skipIf(!available)(
        `${name}: every session, tool call, token total and the 529 match the fake model's log${skip}`,
        () => {
          expect(mismatches(view() as View, expected, run.childKey)).toEqual([]);
        },
      );
      it.skipIf(!available)(`${name}: the sub-agent's parentKey is the spawning session${skip}`, () => {
        const v = view() as View;
        const child = v.tracker.get(run.childKey ?? '');
        expect(child?.parentKey).toBe(SPAWN_KEY);
        expect(v.tracker.get(SPAWN_KEY)?.children).toContain(run.childKey);
      });
      it.skipIf(!available)(`${name}: the terminal overload shows as an error with status 529${skip}`, () => {
        const s = (view() as View).tracker.get(sessionKeyOf('fail'));
        expect(s?.errors.map((e) => e.status)).toContain(529);
      });
      it.skipIf(!available)(
        `${name}: the failed read and the non-zero exec are error tool calls, the others ok${skip}`,
        () => {
          const v = view() as View;
          const tools = (key: string | undefined) =>
            v.tracker.get(key ?? '')?.tools.map((t) => `${t.name}:${t.status}`);
          expect(tools(sessionKeyOf('toolfail'))).toEqual(['read:error']);
          expect(tools(sessionKeyOf('execfail'))).toEqual([`exec:${toolStatusFor(version).execfail}`]);
          expect(tools(sessionKeyOf('tool'))).toEqual(['exec:ok']);
          expect(tools(childKeyIn(v, run.childKey))).toEqual(['exec:ok']);
        },
      );
      it.skipIf(!available)(
        `${name}: once every run has ended, no session is shown active and the failed one is in error${skip}`,
        () => {
          const statuses = Object.fromEntries((view() as View).tracker.all().map((s) => [s.key, s.status]));
          expect(statuses[sessionKeyOf('fail')]).toBe('error');
          const stillActive = Object.entries(statuses).filter(([, st]) => st === 'active' || st === 'stuck');
          expect(stillActive, JSON.stringify(statuses)).toEqual([]);
        },
      );
    }

    it.skipIf(!has.store)(
      `${storeKind}: reading the finished state from nothing ends where the live view did${has.store ? '' : missing(storeKind)}`,
      () => {
        expect(viewDifferences(store?.view as View, cold as View)).toEqual([]);
        expect(mismatches(cold as View, expected, run.childKey)).toEqual([]);
      },
    );

    it.skipIf(!has.store)(
      `${storeKind}: a restart from the saved offsets re-reads nothing and loses nothing${has.store ? '' : missing(storeKind)}`,
      () => {
        const added = (resumed?.added ?? []).map((e) => `${e.type} ${e.sessionKey} ${e.dedupeKey}`);
        expect(added).toEqual([]);
        // metadata (session rows) may be re-announced at start; transcript facts must not be re-read
        const reread = Object.entries(resumed?.view.duplicateTypes ?? {}).filter(
          ([type]) => type !== 'session.seen' && type !== 'subagent.spawned',
        );
        expect(reread, 'events re-read past the saved offsets').toEqual([]);
        expect(viewDifferences(store?.view as View, resumed?.view as View)).toEqual([]);
      },
    );

    it.skipIf(!(has.store && has.gateway))(
      `${storeKind} + gateway merged through the arbiter (as the daemon runs them) count nothing twice${has.store && has.gateway ? '' : missing(has.store ? 'gateway' : storeKind)}`,
      () => {
        expect(mismatches(merged, expected, run.childKey)).toEqual([]);
      },
    );

    it.skipIf(!(has.store && has.gateway))(
      `${storeKind} and gateway views agree${has.store && has.gateway ? '' : missing(has.store ? 'gateway' : storeKind)}`,
      () => {
        expect(viewDifferences(store?.view as View, gateway?.view as View)).toEqual([]);
      },
    );
  });
}

/**
 * The usage aggregate's contract (`usage-store.ts`), run against every store that keeps one
 * (SQLite: sqlite-usage.test.ts; PostgreSQL: pg/pg-usage.test.ts), on the demo's recorded real
 * sessions: reports equal a plain scan of the stored events to the cent, nothing is counted
 * twice across a restart, a fold lost with a crash is caught up, and a store made before the
 * feature is backfilled once.
 */
import { describe, expect, it } from 'vitest';
import { relayTeamEvents, type Scan, scanBy, utcDay } from '../../test/support/usage-fixture.js';
import type { PulseEvent, StoredEvent } from '../model/events.js';
import { CACHED_ATTRS } from '../usage/fold.js';
import type { UsageRow, UsageStore } from './usage-store.js';

export interface UsageSide {
  /** stores events (dropping duplicates); does not fold them */
  append(events: readonly PulseEvent[]): StoredEvent[];
  usage(): UsageStore;
  /** commits what is written */
  flush(): void;
  /** closes and opens the same store again (a restart) */
  reopen(): UsageSide;
  close(): void;
}

export interface UsageHarness {
  /** a new empty store */
  open(): Promise<UsageSide>;
}

function batches<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/** stores events in batches, folding each as the pipeline does */
function ingest(side: UsageSide, events: readonly PulseEvent[], size = 7): void {
  for (const b of batches(events, size)) side.usage().record(side.append(b));
}

function expectMatches(rows: readonly UsageRow[], scan: Map<string, Scan>): void {
  expect(rows.map((r) => r.key).sort()).toEqual([...scan.keys()].sort());
  for (const r of rows) {
    const s = scan.get(r.key) as Scan;
    expect({
      key: r.key,
      input: r.input,
      output: r.output,
      cacheRead: r.cacheRead,
      cacheWrite: r.cacheWrite,
      runs: r.runs,
      toolCalls: r.toolCalls,
      failedTools: r.failedTools,
    }).toEqual({
      key: r.key,
      input: s.input,
      output: s.output,
      cacheRead: s.cacheRead,
      cacheWrite: s.cacheWrite,
      runs: s.runs,
      toolCalls: s.toolCalls,
      failedTools: s.failedTools,
    });
    expect(Math.round(r.costUsd * 100)).toBe(Math.round(s.costUsd * 100));
    expect(r.costUsd).toBeCloseTo(s.costUsd, 9);
  }
}

/** the events a store keeps: a second sighting of a fact (same session and dedupeKey) is dropped */
function unique(events: readonly PulseEvent[]): PulseEvent[] {
  const seen = new Set<string>();
  return events.filter((e) => {
    const k = `${e.sessionKey}\u0000${e.dedupeKey}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export function usageStoreContract(name: string, harness: UsageHarness): void {
  const events = unique(relayTeamEvents());
  const byDay = scanBy(events, utcDay);
  const bySession = scanBy(events, (e) => e.sessionKey);

  describe(`usage store contract: ${name}`, () => {
    it('reports by day and by session equal a scan of the stored events (tokens, runs, tools; cost to the cent)', async () => {
      const side = await harness.open();
      try {
        ingest(side, events);
        expect(byDay.size).toBeGreaterThan(3);
        expectMatches(side.usage().report({ by: 'day' }), byDay);
        expectMatches(side.usage().report({ by: 'session' }), bySession);
        const total = [...byDay.values()].reduce((a, s) => a + s.costUsd, 0);
        expect(total).toBeGreaterThan(0.01);
        const months = side.usage().report({ by: 'month' });
        expect(months.reduce((a, r) => a + r.costUsd, 0)).toBeCloseTo(total, 9);
        expect(side.usage().appliedSeq()).toBe(side.append([]).length + events.length);
      } finally {
        side.close();
      }
    });

    it('groups by agent, model, channel, label, repo and week, and cuts on UTC days', async () => {
      const side = await harness.open();
      try {
        ingest(side, events, 50);
        const u = side.usage();
        const byModel = u.report({ by: 'model' });
        expect(byModel.map((r) => r.key)).toContain('demo-model');
        const agents = u.report({ by: 'agent' });
        expect(agents.map((r) => r.key)).toEqual(['main']);
        expect(agents[0]?.sessions).toBe(bySession.size);
        // the transcripts' header cwd
        const repos = u.report({ by: 'repo' });
        expect(repos.every((r) => r.key.startsWith('/'))).toBe(true);
        // sub-agents carry their spawn label; the review's channel is webchat
        expect(u.report({ by: 'label' }).map((r) => r.key)).toEqual(
          expect.arrayContaining(['pr-412 tests', 'pr-412 integration']),
        );
        expect(u.report({ by: 'channel' }).map((r) => r.key)).toContain('webchat');
        const days = [...byDay.keys()].sort();
        const second = Date.parse(`${days[1]}T00:00:00Z`);
        const cut = u.report({ by: 'day', since: second, until: second + 86_400_000 });
        expect(cut.map((r) => r.key)).toEqual([days[1]]);
        const weeks = u.report({ by: 'week' });
        for (const w of weeks) expect(new Date(`${w.key}T00:00:00Z`).getUTCDay()).toBe(1);
        expect(weeks.reduce((a, r) => a + r.runs, 0)).toBe(
          [...byDay.values()].reduce((a, s) => a + s.runs, 0),
        );
        expect(u.report({ by: 'session', limit: 2 })).toHaveLength(2);
      } finally {
        side.close();
      }
    });

    it('counts nothing twice across a restart, and catches up a fold lost with a crash', async () => {
      let side = await harness.open();
      const half = Math.floor(events.length / 2);
      ingest(side, events.slice(0, half));
      side.flush();
      side = side.reopen();
      // the sources read the first half again after the restart: the store drops it
      ingest(side, events);
      // a batch stored but never folded (the daemon died between the two) ...
      const extra = events.map((e) => ({
        ...e,
        dedupeKey: `${e.dedupeKey}/again`,
        ts: e.ts + 30 * 86_400_000,
      }));
      side.append(extra.slice(0, 40));
      side.flush();
      side = side.reopen();
      // ... is folded with the next batch (a gap before it) or by catchUp at start
      side.usage().record(side.append(extra.slice(40, 60)));
      side.usage().catchUp();
      try {
        const all = [...events, ...extra.slice(0, 60)];
        expectMatches(side.usage().report({ by: 'day' }), scanBy(all, utcDay));
        // the same stored events handed over again are not counted again
        const again = extra.slice(60).map((e) => e);
        const stored = side.append(again);
        side.usage().record(stored);
        side.usage().record(stored);
        expectMatches(
          side.usage().report({ by: 'session' }),
          scanBy([...events, ...extra], (e) => e.sessionKey),
        );
      } finally {
        side.close();
      }
    });

    it('a session whose attributes left the memory cache goes on from its stored row', async () => {
      // every session's first half, then more sessions than the cache keeps, then the second halves
      const firsts: PulseEvent[] = [];
      const seconds: PulseEvent[] = [];
      for (const key of bySession.keys()) {
        const mine = events.filter((e) => e.sessionKey === key);
        const cut = Math.ceil(mine.length / 2);
        firsts.push(...mine.slice(0, cut));
        seconds.push(...mine.slice(cut));
      }
      const ts = events[0]?.ts ?? 0;
      const filler: PulseEvent[] = Array.from({ length: CACHED_ATTRS + 1 }, (_, i) => ({
        type: 'session.seen',
        source: 'files',
        agentId: 'filler',
        sessionKey: `agent:filler:${i}`,
        label: 'filler',
        ts,
        dedupeKey: `filler/${i}`,
      }));
      const plain = await harness.open();
      const churned = await harness.open();
      try {
        ingest(plain, [...firsts, ...seconds], 50);
        ingest(churned, [...firsts, ...filler, ...seconds], 50);
        const relay = (rows: UsageRow[]) =>
          rows.filter((r) => r.key !== 'filler' && !r.key.startsWith('agent:filler'));
        for (const by of ['session', 'label', 'repo', 'channel', 'model'] as const)
          expect(relay(churned.usage().report({ by })), by).toEqual(relay(plain.usage().report({ by })));
        expectMatches(relay(churned.usage().report({ by: 'session' })), bySession);
      } finally {
        plain.close();
        churned.close();
      }
    });

    it('backfills a store made before the aggregate once, from its events', async () => {
      let side = await harness.open();
      for (const b of batches(events, 100)) side.append(b);
      side.flush();
      side = side.reopen();
      try {
        expect(side.usage().catchUp()).toBe(events.length);
        expect(side.usage().catchUp()).toBe(0);
        expectMatches(side.usage().report({ by: 'day' }), byDay);
        side.flush();
        side = side.reopen();
        expect(side.usage().catchUp()).toBe(0);
        expectMatches(side.usage().report({ by: 'session' }), bySession);
      } finally {
        side.close();
      }
    });
  });
}

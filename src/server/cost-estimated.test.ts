/**
 * A cost clawpulse priced from its price table (the source gave none: src/usage/estimate.ts
 * flags the event `costEstimated`) is marked in every shape the dashboard reads: the list's
 * summaries (/api/sessions and the SSE snapshot and sessions messages), the whole model's
 * totals, and the session detail. The flag is there only when true, so a session whose source
 * gave its cost carries no key at all, and it survives the session becoming a brief.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  createHarness,
  type Harness,
  openSse,
  type SseReader,
  sessionEvents,
} from '../../test/e2e/harness.js';
import type { ManualClock } from '../infra/clock.js';
import type { PulseEvent } from '../model/events.js';
import type { SessionDetail, SessionsMessage, SessionsPage, SnapshotMessage } from './summary.js';

const PRICED = 'agent:main:priced';
const ESTIMATED = 'agent:main:estimated';

let h: Harness;
const readers: SseReader[] = [];
afterEach(async () => {
  for (const r of readers.splice(0)) r.close();
  await h?.close();
});

/** one run of `key` spending tokens; `estimated`: the cost came from the price table */
function feed(h: Harness, key: string, costUsd: number, estimated: boolean): void {
  const clock = h.clock as ManualClock;
  const e = sessionEvents(key, 'main', () => clock.now());
  const tokens = e.tokens(100_000, 5000, costUsd);
  const batch: PulseEvent[] = [
    e.seen({ label: key.slice(11) }),
    e.started(),
    estimated ? ({ ...tokens, costEstimated: true } as PulseEvent) : tokens,
    e.finished(),
  ];
  h.pipeline.ingest(batch);
  clock.advance(1000);
}

async function json<T>(h: Harness, url: string): Promise<T> {
  const res = await h.app.request(url);
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

describe('costEstimated in the API', () => {
  it('marks the estimated session in /api/sessions and the totals, and nothing else', async () => {
    h = await createHarness();
    feed(h, PRICED, 0.5, false);
    let p = await json<SessionsPage>(h, '/api/sessions');
    expect(p.sessions).toHaveLength(1);
    // only when true: no `costEstimated: false` on the wire
    expect('costEstimated' in (p.sessions[0] ?? {})).toBe(false);
    expect('costEstimated' in p.totals).toBe(false);

    feed(h, ESTIMATED, 0.375, true);
    p = await json<SessionsPage>(h, '/api/sessions');
    const byKey = new Map(p.sessions.map((s) => [s.key, s]));
    expect(byKey.get(ESTIMATED)).toMatchObject({ costUsd: 0.375, costEstimated: true });
    expect('costEstimated' in (byKey.get(PRICED) ?? {})).toBe(false);
    expect(p.totals).toMatchObject({ costUsd: 0.875, costEstimated: true });
  });

  it('marks the session detail: its summary, its tree node and its state', async () => {
    h = await createHarness();
    feed(h, ESTIMATED, 0.375, true);
    const d = await json<SessionDetail>(h, `/api/sessions/${encodeURIComponent(ESTIMATED)}`);
    expect(d.summary.costEstimated).toBe(true);
    expect(d.tree.summary.costEstimated).toBe(true);
    expect(d.session.costEstimated).toBe(true);
  });

  it('keeps the mark when a finished session is kept as a brief', async () => {
    h = await createHarness({ briefs: { afterMs: 10_000, everyMs: 0 } });
    feed(h, ESTIMATED, 0.375, true);
    feed(h, PRICED, 0.5, false);
    const clock = h.clock as ManualClock;
    clock.advance(120_000);
    h.pipeline.tick(clock.now()); // idle -> done
    h.pipeline.flushSnapshots();
    clock.advance(11_000);
    h.pipeline.tick(clock.now());
    expect(h.pipeline.tracker.briefCount()).toBe(2);
    const p = await json<SessionsPage>(h, '/api/sessions');
    const byKey = new Map(p.sessions.map((s) => [s.key, s]));
    expect(byKey.get(ESTIMATED)).toMatchObject({ status: 'done', costEstimated: true });
    expect('costEstimated' in (byKey.get(PRICED) ?? {})).toBe(false);
    expect(p.totals.costEstimated).toBe(true);
    // and the detail, read back from the store for a brief
    const d = await json<SessionDetail>(h, `/api/sessions/${encodeURIComponent(ESTIMATED)}`);
    expect(d.summary.costEstimated).toBe(true);
  });

  it('marks it in the SSE snapshot and in sessions messages', async () => {
    h = await createHarness({ listen: true });
    feed(h, ESTIMATED, 0.375, true);
    const r = await openSse(`${h.url}/api/stream`);
    readers.push(r);
    await r.waitFor((x) => x.messages.some((m) => m.event === 'snapshot'));
    const snap = JSON.parse(r.messages[0]?.data ?? '') as SnapshotMessage;
    expect(snap.sessions.find((s) => s.key === ESTIMATED)?.costEstimated).toBe(true);
    expect(snap.totals?.costEstimated).toBe(true);

    feed(h, PRICED, 0.5, false);
    await r.waitFor((x) =>
      x.messages.some((m) => m.event === 'sessions' && m.data.includes(JSON.stringify(PRICED))),
    );
    const msg = JSON.parse(
      r.messages.find((m) => m.event === 'sessions' && m.data.includes(JSON.stringify(PRICED)))?.data ?? '',
    ) as SessionsMessage;
    const priced = msg.sessions.find((s) => s.key === PRICED);
    expect(priced?.costUsd).toBe(0.5);
    expect('costEstimated' in (priced ?? {})).toBe(false);
  });
});

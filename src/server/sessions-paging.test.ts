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
import type { SessionsMessage, SessionsPage, SnapshotMessage } from './summary.js';

let h: Harness;
const readers: SseReader[] = [];
afterEach(async () => {
  for (const r of readers.splice(0)) r.close();
  await h?.close();
});

const key = (i: number) => `agent:main:s${String(i).padStart(4, '0')}`;

/** `n` sessions, one a second, each finished (done after the idle timeout), on hosts h0..h2 */
function feedFinished(h: Harness, n: number, from = 0): void {
  const clock = h.clock as ManualClock;
  for (let i = from; i < from + n; i++) {
    const e = sessionEvents(key(i), 'main', () => clock.now());
    const scope = { host: `h${i % 3}`, gateway: i % 2 ? 'gw-b' : 'gw-a' };
    const batch: PulseEvent[] = [
      { ...e.seen({ label: `task ${i}` }), ...scope },
      { ...e.started(), ...scope },
      { ...e.text(`step of ${i}`), ...scope },
      { ...e.finished(), ...scope },
    ];
    h.pipeline.ingest(batch);
    clock.advance(1000);
  }
}

async function page(h: Harness, query: string): Promise<SessionsPage> {
  const res = await h.app.request(`/api/sessions${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as SessionsPage;
}

describe('/api/sessions in pages', () => {
  it('pages with a cursor, newest first, with totals and filters by host, gateway and words', async () => {
    h = await createHarness();
    feedFinished(h, 25);
    const first = await page(h, '?limit=10');
    expect(first.total).toBe(25);
    expect(first.sessions.map((s) => s.key)).toEqual(Array.from({ length: 10 }, (_, i) => key(24 - i)));
    expect(first.sessions[0]).toMatchObject({ host: 'h0', gateway: 'gw-a', label: 'task 24' });
    expect(first.totals).toMatchObject({
      sessions: 25,
      hosts: ['h0', 'h1', 'h2'],
      gateways: ['gw-a', 'gw-b'],
    });
    const keys: string[] = [];
    let cursor: string | null = '';
    for (let n = 0; n < 10 && cursor !== null; n++) {
      const p: SessionsPage = await page(h, `?limit=10${cursor ? `&cursor=${cursor}` : ''}`);
      keys.push(...p.sessions.map((s) => s.key));
      cursor = p.nextCursor;
    }
    expect(keys).toHaveLength(25);
    expect(new Set(keys).size).toBe(25);

    const h1 = await page(h, '?host=h1&limit=100');
    expect(h1.total).toBe(8);
    expect(h1.sessions.every((s) => s.host === 'h1')).toBe(true);
    const gw = await page(h, '?gateway=gw-b&host=h1');
    expect(gw.sessions.map((s) => s.key).every((k) => Number(k.slice(-4)) % 6 === 1)).toBe(true);
    expect((await page(h, '?q=TASK%2017')).sessions.map((s) => s.key)).toEqual([key(17)]);
    // the default page is bounded; an old client asking without parameters still gets `sessions`
    expect((await page(h, '')).sessions).toHaveLength(25);
    expect((await h.app.request('/api/sessions?cursor=bogus')).status).toBe(400);
    expect((await h.app.request('/api/sessions?limit=0')).status).toBe(400);
  });

  it('a cursor neither repeats nor skips rows that did not change while others come and move', async () => {
    h = await createHarness();
    feedFinished(h, 30);
    const clock = h.clock as ManualClock;
    const p1 = await page(h, '?limit=10');
    // meanwhile: new sessions arrive, one on the next page gets a new event (moves up), one of p1 too
    feedFinished(h, 5, 100);
    const moved = sessionEvents(key(15), 'main', () => clock.now());
    h.pipeline.ingest([moved.text('back again')]);
    const again = sessionEvents(key(27), 'main', () => clock.now());
    h.pipeline.ingest([again.text('also back')]);
    const rest: string[] = [];
    let cursor = p1.nextCursor;
    while (cursor) {
      const p: SessionsPage = await page(h, `?limit=7&cursor=${cursor}`);
      rest.push(...p.sessions.map((s) => s.key));
      cursor = p.nextCursor;
    }
    const unchanged = Array.from({ length: 20 }, (_, i) => key(19 - i)).filter((k) => k !== key(15));
    expect(rest).toEqual(unchanged);
    expect(rest.filter((k) => p1.sessions.some((s) => s.key === k))).toEqual([]);
  });

  it('lists briefs (finished sessions summarized) like whole ones', async () => {
    h = await createHarness({ briefs: { afterMs: 10_000, everyMs: 0 } });
    feedFinished(h, 12);
    const clock = h.clock as ManualClock;
    clock.advance(120_000);
    h.pipeline.tick(clock.now()); // idle -> done
    h.pipeline.flushSnapshots();
    // a tree the store did not hold yet is looked at again after the grace
    clock.advance(11_000);
    h.pipeline.tick(clock.now());
    expect(h.pipeline.tracker.briefCount()).toBe(12);
    const p = await page(h, '?limit=5&host=h2');
    expect(p.total).toBe(4);
    expect(p.sessions[0]).toMatchObject({ key: key(11), status: 'done', host: 'h2', lastText: 'step of 11' });
    const detail = await h.app.request(`/api/sessions/${encodeURIComponent(key(11))}`);
    expect(((await detail.json()) as { session: { lines: unknown[] } }).session.lines.length).toBeGreaterThan(
      0,
    );
  });
});

describe('SSE snapshot in pages', () => {
  it('carries the live sessions and the first page, totals and a cursor for the rest', async () => {
    h = await createHarness({ listen: true, sse: { snapshotPage: 10 } });
    feedFinished(h, 30);
    const clock = h.clock as ManualClock;
    clock.advance(120_000);
    h.pipeline.tick(clock.now()); // those are done now
    // 12 idle (live) sessions: more than the first page holds, all are sent
    feedFinished(h, 12, 100);
    const r = await openSse(`${h.url}/api/stream`);
    readers.push(r);
    await r.waitFor((x) => x.messages.some((m) => m.event === 'snapshot'));
    const snap = JSON.parse(r.messages[0]?.data ?? '') as SnapshotMessage;
    expect(snap.sessions.map((s) => s.status)).toEqual(Array(12).fill('idle'));
    expect(snap.totals).toMatchObject({ sessions: 42, running: 0, byStatus: { idle: 12, done: 30 } });
    expect(snap.nextCursor).toBeTruthy();
    const rest = await page(h, `?limit=1000&cursor=${snap.nextCursor}`);
    const all = new Set([...snap.sessions, ...rest.sessions].map((s) => s.key));
    expect(all.size).toBe(42);
    // a change comes with the new totals
    const e = sessionEvents(key(3), 'main', () => clock.now());
    clock.advance(1000);
    h.pipeline.ingest([e.started()]);
    await r.waitFor((x) => x.messages.some((m) => m.event === 'sessions'));
    const msg = JSON.parse(r.messages.find((m) => m.event === 'sessions')?.data ?? '') as SessionsMessage;
    expect(msg.sessions.map((s) => s.key)).toEqual([key(3)]);
    expect(msg.totals?.running).toBe(1);
  });
});

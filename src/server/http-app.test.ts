import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness, sessionEvents } from '../../test/e2e/harness.js';
import type { ManualClock } from '../infra/clock.js';
import type { SessionDetail, SessionEventsPage, SessionSummary, SessionToolsPage } from './summary.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

function feedTree(h: Harness) {
  const clock = h.clock as ManualClock;
  const parent = sessionEvents('agent:main:mattermost:channel:abc', 'main', () => clock.now());
  const child = sessionEvents('agent:main:subagent:1234', 'main', () => clock.now());
  h.pipeline.ingest([
    parent.seen({ label: 'fix the build', channel: { provider: 'mattermost', channelId: 'abc' } }),
    parent.started(),
    parent.text('Reading the code...'),
    parent.tool('c1', 'exec', 'ls -la'),
  ]);
  clock.advance(2000);
  h.pipeline.ingest([
    parent.toolOk('c1', 'exec', 2000),
    parent.tokens(1000, 200, 0.01),
    parent.spawn('agent:main:subagent:1234', 'planner'),
    child.seen({ label: 'planner', parentKey: 'agent:main:mattermost:channel:abc' }),
    child.started(),
    child.tool('k1', 'read', 'README.md'),
    child.toolErr('k1', 'read', 'ENOENT'),
  ]);
  clock.advance(1000);
  h.pipeline.ingest([parent.tokens(500, 100, 0.005)]);
}

describe('HTTP API', () => {
  it('lists sessions with summaries and filters by status and agent', async () => {
    h = await createHarness();
    feedTree(h);
    const res = await h.app.request('/api/sessions');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { sessions: SessionSummary[] };
    expect(body.sessions.map((s) => s.key).sort()).toEqual([
      'agent:main:mattermost:channel:abc',
      'agent:main:subagent:1234',
    ]);
    const parent = body.sessions.find((s) => s.key === 'agent:main:mattermost:channel:abc');
    expect(parent).toMatchObject({
      agentId: 'main',
      label: 'fix the build',
      status: 'active',
      tokens: 1800,
      children: 1,
      channel: { provider: 'mattermost', channelId: 'abc' },
    });
    expect(parent?.costUsd).toBeCloseTo(0.015);
    expect(parent?.elapsed).toBe(3000);
    const child = body.sessions.find((s) => s.key === 'agent:main:subagent:1234');
    expect(child?.parentKey).toBe('agent:main:mattermost:channel:abc');
    expect(child?.toolErrors).toBe(1);

    const none = (await (await h.app.request('/api/sessions?status=done')).json()) as { sessions: unknown[] };
    expect(none.sessions).toHaveLength(0);
    const byAgent = (await (await h.app.request('/api/sessions?agent=other')).json()) as {
      sessions: unknown[];
    };
    expect(byAgent.sessions).toHaveLength(0);
    const bad = await h.app.request('/api/sessions?status=bogus');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('bad_request');
  });

  it('returns one session with its tree, tools and token series; keys with ":" work encoded or not', async () => {
    h = await createHarness();
    feedTree(h);
    const res = await h.app.request(`/api/sessions/${encodeURIComponent('agent:main:subagent:1234')}`);
    expect(res.status).toBe(200);
    const d = (await res.json()) as SessionDetail;
    expect(d.session.key).toBe('agent:main:subagent:1234');
    expect(d.tree.summary.key).toBe('agent:main:mattermost:channel:abc');
    expect(d.tree.children.map((c) => c.summary.key)).toEqual(['agent:main:subagent:1234']);
    expect(d.session.tools[0]).toMatchObject({ name: 'read', status: 'error', error: 'ENOENT' });

    const raw = (await (
      await h.app.request('/api/sessions/agent:main:mattermost:channel:abc')
    ).json()) as SessionDetail;
    expect(raw.tokenSeries.map((p) => p.tokens)).toEqual([1200, 1800]);
    expect(raw.tokenSeries[1]?.costUsd).toBeCloseTo(0.015);
    expect(raw.events.length).toBeGreaterThan(3);

    const missing = await h.app.request('/api/sessions/nope');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: 'not_found', message: 'no such session' } });
  });

  it('serves a session that left the live model (finished long ago) from its stored snapshot', async () => {
    h = await createHarness();
    feedTree(h);
    const clock = h.clock as ManualClock;
    h.pipeline.interruptAll(clock.now()); // finished (and snapshotted)
    clock.advance(48 * 3600_000);
    h.pipeline.tick(clock.now());
    expect(h.pipeline.tracker.all()).toEqual([]);
    const list = (await (await h.app.request('/api/sessions')).json()) as { sessions: unknown[] };
    expect(list.sessions).toEqual([]);
    const res = await h.app.request(`/api/sessions/${encodeURIComponent('agent:main:subagent:1234')}`);
    expect(res.status).toBe(200);
    const d = (await res.json()) as SessionDetail;
    expect(d.session.status).toBe('interrupted');
    expect(d.tree.summary.key).toBe('agent:main:mattermost:channel:abc');
    expect(d.tree.children.map((c) => c.summary.key)).toEqual(['agent:main:subagent:1234']);
    expect(d.tokenSeries).toEqual([]);
  });

  it("bounds one session's detail whatever it holds, and pages its events and tool calls", async () => {
    h = await createHarness();
    const key = 'agent:main:huge';
    const ev = sessionEvents(key);
    h.pipeline.ingest([ev.seen({ label: 'huge' }), ev.started()]);
    const big = 'q'.repeat(4096);
    // 600 tool calls with long arguments and errors, 300 long texts, 1,200 model calls
    for (let i = 0; i < 600; i++) {
      h.pipeline.ingest([
        ev.tool(`c${i}`, 'exec', `${i} ${big}`),
        ev.toolErr(`c${i}`, 'exec', `${i} ${big}`),
      ]);
      if (i % 2) h.pipeline.ingest([ev.text(`${i} ${big}`)]);
      h.pipeline.ingest([ev.tokens(100, 10, 0.001), ev.tokens(100, 10, 0.001)]);
    }
    h.pipeline.ingest([ev.tool('last', 'exec', 'still running')]);
    const res = await h.app.request(`/api/sessions/${encodeURIComponent(key)}`);
    const text = await res.text();
    expect(text.length).toBeLessThan(640 * 1024);
    const d = JSON.parse(text) as SessionDetail;
    expect(d.session.tools).toHaveLength(100);
    expect(d.session.tools.at(-1)).toMatchObject({ callId: 'last', status: 'running' });
    expect(d.session.tools[0]?.args?.length).toBeLessThanOrEqual(500);
    expect(d.session.tools[0]?.args?.endsWith('...')).toBe(true);
    expect(d.toolTotals).toEqual({ [key]: 601 });
    expect(d.toolsBefore).toBe(501);
    expect(d.summary.toolCalls).toBe(601);
    expect(d.tokenSeries.length).toBe(500);
    expect(d.tokenSeries.at(-1)?.tokens).toBe(1200 * 110);
    expect(d.events.length).toBeGreaterThan(10);
    expect(d.events.length).toBeLessThanOrEqual(200);
    const lastSeq = h.store.lastSeq();
    expect(d.events.at(-1)?.seq).toBe(lastSeq);
    expect(d.eventsBefore).toBe(d.events[0]?.seq);

    // every event, newest page first, through `before`: in order, none twice, none missed
    const seqs: number[] = d.events.map((e) => e.seq);
    let before = d.eventsBefore;
    for (let pages = 0; before !== null && pages < 1000; pages++) {
      const r = await h.app.request(
        `/api/sessions/${encodeURIComponent(key)}/events?before=${before}&limit=500`,
      );
      const t = await r.text();
      expect(t.length).toBeLessThan(512 * 1024);
      const page = JSON.parse(t) as SessionEventsPage;
      seqs.unshift(...page.events.map((e) => e.seq));
      before = page.before;
    }
    expect(seqs).toEqual(Array.from({ length: lastSeq }, (_, i) => i + 1));
    // the detail itself takes the same paging
    const older = (await (
      await h.app.request(`/api/sessions/${encodeURIComponent(key)}?before=100&limit=10`)
    ).json()) as SessionDetail;
    expect(older.events.map((e) => e.seq)).toEqual(Array.from({ length: 10 }, (_, i) => 90 + i));
    expect(older.eventsBefore).toBe(90);

    // older tool calls by index
    const tools = (await (
      await h.app.request(`/api/sessions/${encodeURIComponent(key)}/tools?before=501&limit=200`)
    ).json()) as SessionToolsPage;
    expect(tools.total).toBe(601);
    expect(tools.tools.map((t) => t.callId)).toEqual(Array.from({ length: 200 }, (_, i) => `c${301 + i}`));
    expect(tools.before).toBe(301);
    const first = (await (
      await h.app.request(`/api/sessions/${encodeURIComponent(key)}/tools?before=3`)
    ).json()) as SessionToolsPage;
    expect(first.tools.map((t) => t.callId)).toEqual(['c0', 'c1', 'c2']);
    expect(first.before).toBeNull();

    for (const q of ['before=x', 'limit=0', 'limit=1001', 'before=-1']) {
      expect((await h.app.request(`/api/sessions/${encodeURIComponent(key)}?${q}`)).status).toBe(400);
      expect((await h.app.request(`/api/sessions/${encodeURIComponent(key)}/events?${q}`)).status).toBe(400);
    }
    expect((await h.app.request(`/api/sessions/${encodeURIComponent(key)}/tools?limit=501`)).status).toBe(
      400,
    );
    expect((await h.app.request('/api/sessions/nope/events')).status).toBe(404);
    expect((await h.app.request('/api/sessions/nope/tools')).status).toBe(404);
  });

  it('refuses a query parameter given twice', async () => {
    h = await createHarness();
    for (const q of [
      '/api/events?after=1&after=2',
      '/api/events?limit=5&after=0&limit=6',
      '/api/sessions?status=active&status=done',
      '/api/stream?after=1&after=2',
      '/api/sessions/x?before=5&before=6',
    ]) {
      const r = await h.app.request(q);
      expect(r.status).toBe(400);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('bad_request');
    }
    expect((await h.app.request('/api/events?after=1&limit=2')).status).toBe(200);
  });

  it('pages event history with nextAfter and rejects bad paging', async () => {
    h = await createHarness();
    feedTree(h);
    const total = h.store.lastSeq();
    expect(total).toBe(12);
    const seen: number[] = [];
    let after: number | null = 0;
    while (after !== null) {
      const page = (await (await h.app.request(`/api/events?after=${after}&limit=5`)).json()) as {
        events: Array<{ seq: number }>;
        nextAfter: number | null;
      };
      seen.push(...page.events.map((e) => e.seq));
      after = page.nextAfter;
    }
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    for (const q of ['after=-1', 'after=x', 'limit=0', 'limit=abc']) {
      const r = await h.app.request(`/api/events?${q}`);
      expect(r.status).toBe(400);
    }
  });

  it('serves /health JSON and /metrics in Prometheus text', async () => {
    h = await createHarness();
    feedTree(h);
    const health = (await (await h.app.request('/health')).json()) as {
      status: string;
      sessions: Record<string, number>;
    };
    expect(health.status).toBe('ok');
    expect(health.sessions.active).toBe(2);
    const res = await h.app.request('/metrics');
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('clawpulse_events_ingested_total 12');
    expect(text).toContain('clawpulse_sessions{status="active"} 2');
    expect(text).toContain('clawpulse_source_lag_seconds{source="files",kind="files"} 0.012');
    expect(text).toContain('clawpulse_sink_failures_total{sink="mattermost",kind="mattermost"} 1');
    expect(text).toContain('clawpulse_sink_breaker_state{sink="mattermost",kind="mattermost"} 0');
    expect(text).toContain('clawpulse_sse_clients 0');
    // every sample line parses as name{labels} value
    for (const line of text
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('#'))) {
      expect(line).toMatch(/^[a-z_]+(\{[^}]*\})? -?[\d.e+-]+$/);
    }
  });

  it('answers JSON errors for unknown routes and serves the UI with SPA fallback', async () => {
    h = await createHarness();
    const r = await h.app.request('/api/nothing');
    expect(r.status).toBe(404);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('not_found');
    expect((await h.app.request('/')).status).toBe(404);
    await h.close();

    const ui = fs.mkdtempSync(path.join(h.dir, '..', 'clawpulse-ui-'));
    fs.mkdirSync(path.join(ui, 'assets'));
    fs.writeFileSync(path.join(ui, 'index.html'), '<!doctype html><title>clawpulse</title>');
    fs.writeFileSync(path.join(ui, 'assets', 'app-1.js'), 'console.log(1)');
    h = await createHarness({ uiDir: ui });
    const index = await h.app.request('/');
    expect(index.headers.get('content-type')).toContain('text/html');
    expect(await index.text()).toContain('<title>clawpulse</title>');
    const deep = await h.app.request('/session/agent%3Amain%3Ax');
    expect(await deep.text()).toContain('<title>clawpulse</title>');
    const asset = await h.app.request('/assets/app-1.js');
    expect(asset.headers.get('content-type')).toContain('javascript');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    const outside = await h.app.request('/..%2F..%2Fetc%2Fpasswd');
    expect(await outside.text()).not.toContain('root:');
    fs.rmSync(ui, { recursive: true, force: true });
  });

  it('answers garbage input with a 4xx JSON error, never a 500', async () => {
    h = await createHarness();
    for (const p of [
      '/api/sessions/%E0%A4%A',
      '/%E0%A4%A',
      '/api/events?after=%E0',
      '/api/sessions?status=%E0%A4%A',
    ]) {
      const r = await h.app.request(p);
      expect(r.status, p).toBeGreaterThanOrEqual(400);
      expect(r.status, p).toBeLessThan(500);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBeTruthy();
    }
    const post = await h.app.request('/api/sessions', { method: 'POST', body: '\u0000{' });
    expect(post.status).toBe(404);
  });
});

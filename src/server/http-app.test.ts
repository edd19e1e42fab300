import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness, sessionEvents } from '../../test/e2e/harness.js';
import type { ManualClock } from '../infra/clock.js';
import type { SessionDetail, SessionSummary } from './summary.js';

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

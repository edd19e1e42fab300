/**
 * Alerts wired in the daemon for real: SQLite store on disk, HTTP on 127.0.0.1, the generic
 * webhook destination posting to a real receiver. Events enter through the pipeline as a source
 * hands them over; the alerts are stored, listed at /api/alerts, counted on /metrics, delivered to
 * the webhook, and not fired again after a restart.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../src/alerts/alert.js';
import { loadConfig } from '../src/config/config.js';
import { type Daemon, startDaemon } from '../src/daemon/daemon.js';
import { silentLogger } from '../src/infra/logger.js';
import type { PulseEvent } from '../src/model/events.js';
import type { AlertsResponse } from '../src/server/alerts-api.js';
import { type Receiver, startReceiver } from './support/http-receiver.js';

let daemon: Daemon | undefined;
let hook: Receiver;
beforeAll(async () => {
  hook = await startReceiver();
});
const roots: string[] = [];
afterAll(() => {
  hook.close();
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});
afterEach(async () => {
  await daemon?.stop('test');
  daemon = undefined;
});

function configFor(root: string) {
  const stateDir = join(root, 'openclaw');
  mkdirSync(stateDir, { recursive: true });
  return loadConfig({
    HOME: root,
    OPENCLAW_STATE_DIR: stateDir,
    CLAWPULSE_HOME: join(root, 'clawpulse'),
    SOURCES: 'files',
    HEALTH_PORT: 'any',
    LOG_LEVEL: 'silent',
    ALERT_WEBHOOK_URL: hook.url,
    BUDGET_SESSION_USD: '1',
  });
}

let n = 0;
const event = (e: Record<string, unknown>): PulseEvent =>
  ({ source: 'files', agentId: 'main', dedupeKey: `e${++n}`, ts: Date.now(), ...e }) as PulseEvent;

describe('alerts in the daemon', () => {
  it('stores, lists, counts and delivers a budget crossed; a restart does not fire it again', async () => {
    const root = mkdtempSync(join(tmpdir(), 'clawpulse-alerts-daemon-'));
    roots.push(root);
    const config = configFor(root);
    daemon = await startDaemon(config, { logger: silentLogger, tickMs: 50 });
    const d = daemon;
    const key = 'agent:main:main';
    d.pipeline.ingest([
      event({ type: 'agent.started', sessionKey: key, runId: 'r1' }),
      event({
        type: 'llm.tokens',
        sessionKey: key,
        runId: 'r1',
        input: 1000,
        output: 100,
        cacheRead: 0,
        cacheWrite: 0,
        reasoning: 0,
        costUsd: 1.25,
      }),
    ]);
    const base = `http://127.0.0.1:${d.port}`;
    const list = async (q = '') => (await (await fetch(`${base}/api/alerts${q}`)).json()) as AlertsResponse;
    await expect.poll(async () => (await list()).counts.firing, { timeout: 10_000 }).toBe(2);
    const body = await list();
    expect(body.alerts.map((a) => [a.key, a.severity])).toEqual(
      expect.arrayContaining([
        [`budget:session:${key}:80`, 'warning'],
        [`budget:session:${key}:100`, 'critical'],
      ]),
    );
    expect(body.counts.firingByRule.budget).toBe(2);
    expect((await list('?state=resolved')).alerts).toEqual([]);
    expect((await list('?state=firing&limit=1')).alerts).toHaveLength(1);

    const bad = await fetch(`${base}/api/alerts?state=open`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toBe(
      'state must be firing or resolved',
    );
    expect((await fetch(`${base}/api/alerts?limit=0`)).status).toBe(400);

    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('clawpulse_alerts_firing{rule="budget"} 2');
    expect(metrics).toContain('clawpulse_alerts_firing{rule="stuck"} 0');

    await expect.poll(() => hook.requests.length, { timeout: 10_000 }).toBe(2);
    const posted = hook.requests.map((r) => JSON.parse(r.body.toString('utf8')) as Partial<Alert>);
    expect(posted.map((p) => p.rule)).toEqual(['budget', 'budget']);
    expect(posted.map((p) => p.sessionKey)).toEqual([key, key]);

    const health = (await (await fetch(`${base}/health`)).json()) as { sinks: Array<{ kind: string }> };
    expect(health.sinks.map((s) => s.kind)).toContain('webhook');

    await d.stop('restart');
    daemon = await startDaemon(config, { logger: silentLogger, tickMs: 50 });
    const d2 = daemon;
    const base2 = `http://127.0.0.1:${d2.port}`;
    const after = (await (await fetch(`${base2}/api/alerts`)).json()) as AlertsResponse;
    expect(after.counts.firing).toBe(2);
    await new Promise((r) => setTimeout(r, 300)); // a few ticks
    expect(hook.requests).toHaveLength(2);
  });
});

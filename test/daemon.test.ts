/**
 * The daemon wired for real: file source on a temp OpenClaw state dir (real fixtures), SQLite
 * store on disk, HTTP on 127.0.0.1:0. A restart must neither repeat nor miss lines.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.js';
import { type Daemon, startDaemon } from '../src/daemon/daemon.js';
import { silentLogger } from '../src/infra/logger.js';
import { CHILD_ID, CHILD_KEY, fixtureTokenTotal, makeStateDir, PARENT_ID } from './support/state-dir.js';

let daemon: Daemon | undefined;
afterEach(async () => {
  await daemon?.stop('test');
  daemon = undefined;
});

function configFor(root: string, stateDir: string) {
  return loadConfig({
    HOME: root,
    OPENCLAW_STATE_DIR: stateDir,
    CLAWPULSE_HOME: join(root, 'clawpulse'),
    SOURCES: 'files',
    HEALTH_PORT: 'any',
    POLL_INTERVAL_MS: '50',
    LOG_LEVEL: 'silent',
  });
}

describe('daemon', () => {
  it('follows a state dir, models it, stores it, serves /health and survives a restart without repeats', async () => {
    const { root, stateDir, sessionsDir } = makeStateDir();
    const config = configFor(root, stateDir);
    daemon = await startDaemon(config, { logger: silentLogger, tickMs: 50 });
    const d1 = daemon;
    await expect
      .poll(() => d1.pipeline.tracker.get(CHILD_KEY)?.parentKey, { timeout: 10_000 })
      .toBe('agent:main:main');
    await expect
      .poll(() => d1.pipeline.tracker.get('agent:main:main')?.tokens.total, { timeout: 10_000 })
      .toBe(fixtureTokenTotal(PARENT_ID));
    expect(d1.pipeline.tracker.get(CHILD_KEY)?.tokens.total).toBe(fixtureTokenTotal(CHILD_ID));

    const health = (await (await fetch(`http://127.0.0.1:${d1.port}/health`)).json()) as {
      sources: Array<{ id: string; state: string }>;
      store: { events: number };
      sessions: Record<string, number>;
    };
    expect(health.sources.map((s) => s.id)).toEqual(['files', 'otlp']);
    expect(health.store.events).toBeGreaterThan(10);
    const eventsBefore = d1.store.countEvents();
    await d1.stop('restart');

    // while it is down, OpenClaw writes one more line
    const extra = {
      type: 'message',
      id: 'feedbeef',
      parentId: null,
      timestamp: new Date().toISOString(),
      message: {
        role: 'assistant',
        content: [{ type: 'text', text: 'written while clawpulse was down' }],
        stopReason: 'stop',
        timestamp: Date.now(),
      },
    };
    appendFileSync(join(sessionsDir, `${PARENT_ID}.jsonl`), `${JSON.stringify(extra)}\n`);

    daemon = await startDaemon(config, { logger: silentLogger, tickMs: 50 });
    const d2 = daemon;
    await expect
      .poll(
        () =>
          d2.pipeline.tracker
            .get('agent:main:main')
            ?.lines.some((l) => l.kind === 'text' && l.text.includes('while clawpulse was down')),
        {
          timeout: 10_000,
        },
      )
      .toBe(true);
    // the restart read only the new line: no earlier event was stored twice
    const texts = d2.store.readSession('agent:main:main').filter((e) => e.event.type === 'assistant.text');
    expect(
      texts.filter((e) => (e.event as { text: string }).text.includes('while clawpulse was down')),
    ).toHaveLength(1);
    expect(d2.store.countEvents()).toBeGreaterThan(eventsBefore);
    // only sessions.json (one small file, read whole at start) may be seen again; its entries dedupe
    expect(d2.pipeline.stats().duplicates).toBeLessThanOrEqual(4);
    // the model came back from the snapshots with its totals intact
    expect(d2.pipeline.tracker.get(CHILD_KEY)?.tokens.total).toBe(fixtureTokenTotal(CHILD_ID));
    expect(readFileSync(join(sessionsDir, 'sessions.json'), 'utf8')).toContain(CHILD_KEY);
  });
});

/**
 * The demo: the bundled real recordings played into a temp state dir, the daemon following
 * it. What a new user sees must be true: errors, failed tools, the sub-agent under its parent.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { recordingsDir } from '../src/cli/demo.js';
import { loadConfig } from '../src/config/config.js';
import { type Daemon, startDaemon } from '../src/daemon/daemon.js';
import { type Player, playRecording } from '../src/demo/player.js';
import { loadRecording, mergeRecordings } from '../src/demo/recording.js';
import { silentLogger } from '../src/infra/logger.js';
import { tempDir } from '../src/test-support/temp-dir.js';

let daemon: Daemon | undefined;
let player: Player | undefined;
afterEach(async () => {
  player?.stop();
  await daemon?.stop('test');
});

describe('demo', () => {
  it('plays every bundled recording and the daemon shows what really happened', async () => {
    const root = tempDir('clawpulse-demo-test-');
    const stateDir = join(root, 'openclaw');
    const config = loadConfig({
      OPENCLAW_STATE_DIR: stateDir,
      CLAWPULSE_HOME: join(root, 'cp'),
      SOURCES: 'files',
      HEALTH_PORT: 'any',
      POLL_INTERVAL_MS: '50',
    });
    daemon = await startDaemon(config, { logger: silentLogger, tickMs: 100 });
    const recs = readdirSync(recordingsDir(), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => loadRecording(join(recordingsDir(), d.name)));
    expect(recs.length).toBeGreaterThanOrEqual(2);
    const merged = mergeRecordings(recs);
    const playedFrom = Date.now();
    player = playRecording(merged, { stateDir, speed: 20 });
    await player.done;

    const d = daemon;
    const tracker = d.pipeline.tracker;
    await expect
      .poll(() => tracker.all().length, { timeout: 15_000 })
      .toBe(Object.keys(merged.entries).length);
    // the 529 that OpenClaw gave up on: the session failed, with the status
    await expect.poll(() => tracker.get('agent:main:conf-fail')?.status, { timeout: 10_000 }).toBe('error');
    expect(tracker.get('agent:main:conf-fail')?.errors[0]).toMatchObject({ status: 529, retryable: true });
    // failed tools are failures
    await expect
      .poll(() => tracker.get('agent:main:conf-toolfail')?.tools.map((t) => `${t.name}:${t.status}`))
      .toEqual(['read:error']);
    await expect
      .poll(() => tracker.get('agent:main:conf-execfail')?.tools.map((t) => `${t.name}:${t.status}`))
      .toEqual(['exec:error']);
    // the sub-agent hangs under its parent
    const child = tracker.all().find((s) => s.label === 'fake-child');
    expect(child?.parentKey).toBe('agent:main:main');
    expect(tracker.get('agent:main:main')?.children).toContain(child?.key);
    // every recording plays now: no time of any session lies outside the playback
    for (const s of tracker.all()) {
      for (const t of [
        s.startedAt,
        s.lastEventAt,
        s.activeSince ?? s.startedAt,
        s.endedAt ?? s.lastEventAt,
      ]) {
        expect(t).toBeGreaterThanOrEqual(playedFrom - 60_000);
        expect(t).toBeLessThanOrEqual(Date.now() + 1000);
      }
    }
  });
});

/**
 * The demo: the bundled real recordings played into a temp state dir, the daemon following
 * it. What a new user sees must be true: a stuck tool, a 529 OpenClaw retried and one it gave
 * up on, a sub-agent tree two deep; and each loop is a fresh set of sessions, not the same
 * boxes filling up again.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { recordingsDir } from '../src/cli/demo.js';
import { loadConfig } from '../src/config/config.js';
import { type Daemon, startDaemon } from '../src/daemon/daemon.js';
import { type Player, playRecording } from '../src/demo/player.js';
import { freshIds, loadRecording, mergeRecordings } from '../src/demo/recording.js';
import { silentLogger } from '../src/infra/logger.js';
import type { SessionState } from '../src/model/session.js';
import { tempDir } from '../src/test-support/temp-dir.js';

let daemon: Daemon | undefined;
let player: Player | undefined;
afterEach(async () => {
  player?.stop();
  await daemon?.stop('test');
});

const bundled = () =>
  mergeRecordings(
    readdirSync(recordingsDir(), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => loadRecording(join(recordingsDir(), d.name))),
  );

async function startDemoDaemon(extra: Record<string, string> = {}) {
  const root = tempDir('clawpulse-demo-test-');
  const stateDir = join(root, 'openclaw');
  const config = loadConfig({
    OPENCLAW_STATE_DIR: stateDir,
    CLAWPULSE_HOME: join(root, 'cp'),
    SOURCES: 'files',
    HEALTH_PORT: 'any',
    POLL_INTERVAL_MS: '50',
    ...extra,
  });
  daemon = await startDaemon(config, { logger: silentLogger, tickMs: 100 });
  return { stateDir, tracker: daemon.pipeline.tracker };
}

const short = (key: string) => key.replace(/^agent:main:/, '');
const depth = (s: SessionState, all: Map<string, SessionState>): number =>
  s.parentKey && all.get(s.parentKey) ? 1 + depth(all.get(s.parentKey) as SessionState, all) : 0;

describe('demo', () => {
  it('shows a team at work: tools, a sub-agent tree two deep, a stuck tool, a retried 529 and a failed one', async () => {
    const { stateDir, tracker } = await startDemoDaemon({ STUCK_AFTER_S: '2' });
    const rec = bundled();
    // realistic names, nothing from the conformance suite
    expect(Object.keys(rec.entries).map(short)).toEqual(
      expect.arrayContaining(['review-pr-412', 'triage-flaky-ci', 'release-notes', 'postmortem-inc-2291']),
    );
    expect(JSON.stringify(rec)).not.toMatch(/conf-|nonexistent|fake-model|clawpulse-demo-rec/);
    const playedFrom = Date.now();
    player = playRecording(rec, { stateDir, speed: 20 });
    await player.done;

    await expect
      .poll(
        () =>
          tracker
            .all()
            .map((s) => s.key)
            .sort(),
        { timeout: 15_000 },
      )
      .toEqual(Object.keys(rec.entries).sort());
    // the model gave up after OpenClaw's own retries: the session failed with the 529
    await expect
      .poll(() => tracker.get('agent:main:postmortem-inc-2291')?.status, { timeout: 10_000 })
      .toBe('error');
    expect(tracker.get('agent:main:postmortem-inc-2291')?.errors[0]).toMatchObject({ status: 529 });
    // the 529 OpenClaw retried itself: the run went on and finished (OpenClaw keeps no trace of it)
    await expect
      .poll(() => {
        const s = tracker.get('agent:main:release-notes');
        return [s?.status, s?.errors.length, s?.tools.map((t) => `${t.name}:${t.status}`)];
      })
      .toEqual([expect.stringMatching(/^(idle|done)$/), 0, ['exec:ok', 'read:ok', 'write:ok']]);
    // the CI reproduction hangs on its database: its exec stays open and the session is STUCK
    await expect
      .poll(() => tracker.get('agent:main:triage-flaky-ci')?.status, { timeout: 10_000 })
      .toBe('stuck');
    const triage = tracker.get('agent:main:triage-flaky-ci');
    expect(triage?.tools.map((t) => `${t.name}:${t.status}`)).toEqual(['read:ok', 'exec:running']);
    expect(triage?.note).toMatch(/tool running/);
    // the review's test runner spawned a worker of its own: a tree two deep
    const all = new Map(tracker.all().map((s) => [s.key, s]));
    const worker = tracker.all().find((s) => s.label === 'pr-412 integration') as SessionState;
    const runner = tracker.all().find((s) => s.label === 'pr-412 tests') as SessionState;
    expect(worker.parentKey).toBe(runner.key);
    expect(runner.parentKey).toBe('agent:main:review-pr-412');
    expect(depth(worker, all)).toBe(2);
    expect(tracker.get('agent:main:review-pr-412')?.children).toEqual([runner.key]);
    expect(runner.children).toEqual([worker.key]);
    await expect
      .poll(() => [runner, worker, tracker.get('agent:main:review-pr-412')].map((s) => s?.status))
      .toEqual([
        expect.stringMatching(/^(idle|done)$/),
        expect.stringMatching(/^(idle|done)$/),
        expect.stringMatching(/^(idle|done)$/),
      ]);
    // real token and cost figures, from the transcripts
    for (const s of tracker.all().filter((x) => x.key !== 'agent:main:postmortem-inc-2291')) {
      expect(s.tokens.total).toBeGreaterThan(10_000);
      expect(s.costUsd).toBeGreaterThan(0.005);
    }
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

  it('plays each loop as a fresh set of sessions with the same totals, and ends the stuck run before the next', async () => {
    const { stateDir, tracker } = await startDemoDaemon();
    const rec = bundled();
    const loops: string[][] = [];
    player = playRecording(rec, {
      stateDir,
      speed: 50,
      maxGapMs: 1000,
      loopPauseMs: 300,
      onLoop: (_n, keys) => loops.push(keys),
    });
    const n = Object.keys(rec.entries).length;
    await expect.poll(() => loops.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(3);
    player.stop();
    const [first, second] = loops as [string[], string[]];
    expect(first).toHaveLength(n);
    expect(second).toHaveLength(n);
    expect(second.filter((k) => first.includes(k))).toEqual([]);
    expect(second).toContain('agent:main:review-pr-412-run2');
    const totals = (keys: string[]) =>
      keys.map((k) => {
        const s = tracker.get(k);
        return [s?.tokens.total, s?.costUsd, s?.tools.length];
      });
    await expect.poll(() => totals(second), { timeout: 10_000 }).toEqual(totals(first));
    expect(totals(first).every(([t]) => typeof t === 'number')).toBe(true);
    // the tree of the second loop hangs under the second loop's review, not the first's
    const worker2 = second.map((k) => tracker.get(k)).find((s) => s?.label === 'pr-412 integration');
    const runner2 = tracker.get(worker2?.parentKey ?? '');
    expect(runner2?.parentKey).toBe('agent:main:review-pr-412-run2');
    expect(tracker.get('agent:main:review-pr-412')?.children).toHaveLength(1);
    // the first loop's stuck run was ended (killed) when the second began: not left running
    await expect
      .poll(() => tracker.get('agent:main:triage-flaky-ci')?.status, { timeout: 5000 })
      .toBe('interrupted');
  });

  it('renames top-level keys per loop and gives sub-agents fresh ids, consistently in rows and lines', () => {
    const rec = bundled();
    const two = freshIds(rec, 2);
    const keys = Object.keys(two.entries);
    expect(keys).toContain('agent:main:triage-flaky-ci-run2');
    for (const [key, e] of Object.entries(two.entries)) {
      expect(Object.keys(rec.entries)).not.toContain(key);
      if (typeof e.spawnedBy === 'string') expect(keys).toContain(e.spawnedBy);
    }
    for (const l of two.lines) {
      expect(keys).toContain(l.sessionKey);
      expect(two.entries[l.sessionKey]?.sessionId).toBe(l.sessionId);
    }
    expect(two.lines.length).toBe(rec.lines.length);
  });
});

import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/support/http-receiver.js';
import { type FakePlatform, startFakePlatform } from '../../test/support/monitor-platform.js';
import { ManualClock } from '../infra/clock.js';
import { tempDir } from '../test-support/temp-dir.js';
import { updateCredentials, writeCredentials } from './credentials.js';
import type { CycleResult } from './loop.js';
import { createMonitorRuntime, type MonitorRuntime } from './runtime.js';

const T0 = Date.UTC(2026, 2, 29, 10, 0, 0);
const MIN = 60_000;

let platform: FakePlatform;
let runtime: MonitorRuntime | undefined;
afterEach(async () => {
  await runtime?.loop.stop();
  runtime = undefined;
  await platform?.close();
});

async function setup(
  o: { token?: string; interval?: number; filter?: (ids: string[], w: number) => Promise<string[]> } = {},
) {
  platform = await startFakePlatform({ tokens: ['tok', 'tok2'] });
  const stateDir = tempDir('clawpulse-loop-');
  fs.writeFileSync(
    path.join(stateDir, 'openclaw.json'),
    '{ agents: { list: [{ id: "main" }, { id: "coding" }] } }',
  );
  const cred = path.join(stateDir, 'credentials', 'openclaw-status-monitor.json');
  writeCredentials(cred, {
    ...(o.token === undefined ? { agentToken: 'tok' } : o.token ? { agentToken: o.token } : {}),
    monitorUrl: platform.url,
    ...(o.interval ? { syncIntervalMinutes: o.interval } : {}),
  });
  const clock = new ManualClock(T0);
  const cycles: CycleResult[] = [];
  runtime = createMonitorRuntime({
    stateDir,
    clock,
    filter: o.filter,
    onCycle: (r) => cycles.push(r),
    uploader: { random: () => 0.5 },
  });
  const log = () => {
    try {
      return fs.readFileSync(path.join(stateDir, 'logs', 'status_uploader.log'), 'utf8');
    } catch {
      return '';
    }
  };
  return { stateDir, cred, clock, cycles, loop: runtime.loop, log };
}

/** lets I/O settle without moving the injected clock */
const settle = () => new Promise((r) => setTimeout(r, 30));

describe('monitor loop', () => {
  it('uploads at start, then once per interval', async () => {
    const { clock, loop, cycles, log } = await setup();
    loop.start();
    await waitFor(() => cycles.length === 1, 'the first cycle');
    expect(platform.uploads.map((u) => u.ids)).toEqual([['main', 'coding']]);
    expect(log()).toContain('INFO - Upload interval: 300 seconds (5 minutes)');
    clock.advance(5 * MIN - 1);
    await settle();
    expect(platform.uploads).toHaveLength(1);
    clock.advance(1);
    await waitFor(() => cycles.length === 2, 'the second cycle');
    expect(platform.uploads).toHaveLength(2);
  });

  it('takes a new interval from the credentials file without a restart (set-interval)', async () => {
    const { clock, loop, cycles, cred, log } = await setup({ interval: 30 });
    loop.start();
    await waitFor(() => cycles.length === 1, 'the first cycle');
    clock.advance(10 * MIN);
    updateCredentials(cred, { syncIntervalMinutes: 1 });
    clock.advance(2000); // the next check of the file
    expect(log()).toContain('INFO - Sync interval changed: 30 minutes -> 1 minute');
    expect(loop.intervalMinutes()).toBe(1);
    // 10 min since the last upload, more than the new interval: the next one is now
    await waitFor(() => cycles.length === 2, 'the upload at the new interval');
    const second = clock.now();
    clock.advance(MIN - 1);
    await settle();
    expect(cycles).toHaveLength(2);
    clock.advance(1);
    await waitFor(() => cycles.length === 3, 'one minute later');
    expect(clock.now() - second).toBe(MIN);
    // a longer interval postpones the next upload
    updateCredentials(cred, { syncIntervalMinutes: 10 });
    clock.advance(2000);
    clock.advance(MIN);
    await settle();
    expect(cycles).toHaveLength(3);
  });

  it('logs the steps when there is no token, and uploads once one is saved (login)', async () => {
    const { clock, loop, cycles, cred, stateDir, log } = await setup({ token: '' });
    loop.start();
    await waitFor(() => cycles.length === 1, 'the first cycle');
    expect(cycles[0]).toEqual({ kind: 'no-token' });
    expect(log()).toMatch(/ERROR - No monitor platform token found .*clawpulse monitor login <TOKEN>/);
    expect(fs.readFileSync(path.join(stateDir, 'logs', 'status_uploader_error.log'), 'utf8')).toMatch(
      / - ERROR - No token configured\n$/,
    );
    updateCredentials(cred, { agentToken: 'tok2' });
    clock.advance(5 * MIN);
    await waitFor(() => cycles.length === 2, 'the next cycle');
    expect(platform.uploads.map((u) => u.token)).toEqual(['tok2']);
  });

  it('retries inside the interval and the next cycle comes at its time', async () => {
    const { clock, loop, cycles, log } = await setup();
    platform.failNext(500, 502);
    loop.start();
    // a retry's wait is on the clock once its line is logged
    const retries = () => log().split('Retrying the upload').length - 1;
    await waitFor(() => retries() === 1, 'the first retry planned');
    clock.advance(3750); // retry 1 (5 s step, equal jitter at 0.5)
    await waitFor(() => retries() === 2, 'the second retry planned');
    clock.advance(7500); // retry 2 (10 s step)
    await waitFor(() => cycles.length === 1, 'the cycle');
    expect(cycles[0]).toMatchObject({ kind: 'uploaded', outcome: { ok: true, attempts: 3 } });
    clock.advance(5 * MIN - 11_250);
    await waitFor(() => cycles.length === 2, 'the next cycle, 5 min after the first started');
  });

  it('skips a cycle with no agent to upload (--only-live found none), naming the interval as the window', async () => {
    const windows: number[] = [];
    const { loop, cycles, log } = await setup({
      interval: 7,
      filter: async (_ids, w) => {
        windows.push(w);
        return [];
      },
    });
    loop.start();
    await waitFor(() => cycles.length === 1, 'the cycle');
    expect(cycles[0]).toEqual({ kind: 'no-agents' });
    expect(windows).toEqual([7 * MIN]);
    expect(log()).toContain('INFO - No agents, skipping this upload');
    expect(platform.requests).toHaveLength(0);
  });

  it('stop() aborts an upload under way and plans nothing more', async () => {
    const { clock, loop, cycles } = await setup();
    platform.failNext('hang');
    loop.start();
    await waitFor(() => platform.requests.length === 1, 'the request');
    await loop.stop();
    expect(cycles).toHaveLength(0);
    clock.advance(60 * MIN);
    await settle();
    expect(platform.requests).toHaveLength(1);
    expect(clock.pending()).toBe(0);
  });
});

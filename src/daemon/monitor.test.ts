import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/support/http-receiver.js';
import { type FakePlatform, startFakePlatform } from '../../test/support/monitor-platform.js';
import { loadConfig } from '../config/config.js';
import { ManualClock } from '../infra/clock.js';
import { silentLogger } from '../infra/logger.js';
import type { SessionState } from '../model/session.js';
import { writeCredentials } from '../monitor/credentials.js';
import { monitorPaths } from '../monitor/paths.js';
import { tempDir } from '../test-support/temp-dir.js';
import { createDaemonMonitor, type DaemonMonitor } from './monitor.js';

const T0 = Date.UTC(2026, 2, 29, 10, 0, 0);
const MIN = 60_000;
const OTHER_PID = process.ppid; // a live process that is not us

let platform: FakePlatform;
let monitor: DaemonMonitor | undefined;
afterEach(async () => {
  await monitor?.stop();
  monitor = undefined;
  await platform?.close();
});

async function setup(env: Record<string, string> = {}, o: { credentials?: boolean } = {}) {
  platform = await startFakePlatform({ tokens: ['tok'] });
  const stateDir = tempDir('clawpulse-dmon-');
  fs.writeFileSync(
    path.join(stateDir, 'openclaw.json'),
    '{ agents: { list: [{ id: "main" }, { id: "coding" }, { id: "ops" }] } }',
  );
  const paths = monitorPaths(stateDir);
  if (o.credentials !== false)
    writeCredentials(paths.credentials, { agentToken: 'tok', monitorUrl: platform.url });
  const config = loadConfig({
    OPENCLAW_STATE_DIR: stateDir,
    CLAWPULSE_HOME: tempDir('clawpulse-dmon-home-'),
    ...env,
  });
  const clock = new ManualClock(T0);
  const sessions: Array<Pick<SessionState, 'agentId' | 'lastEventAt'>> = [];
  let gateway = 'down';
  let cycles = 0;
  monitor = createDaemonMonitor(config, {
    logger: silentLogger,
    clock,
    tracker: { all: () => sessions as SessionState[] },
    gateway: { status: () => ({ state: gateway }) },
    runtime: {
      onCycle: () => {
        cycles++;
      },
    },
  });
  return {
    paths,
    clock,
    sessions,
    monitor,
    /** cycles ended (the next one is planned only then) */
    cycles: () => cycles,
    setGateway: (s: string) => {
      gateway = s;
    },
  };
}

describe('monitor uploads in the daemon', () => {
  it('upload when the credentials file exists (MONITOR_PLATFORM unset), holding the PID file with the daemon pid', async () => {
    const { paths, monitor: m } = await setup();
    m.start();
    await waitFor(() => platform.uploads.length === 1, 'the first upload');
    expect(platform.uploads[0]?.ids).toEqual(['main', 'coding', 'ops']);
    expect(fs.readFileSync(paths.pid, 'utf8').trim()).toBe(String(process.pid));
    expect(fs.readFileSync(paths.log, 'utf8')).toMatch(
      /INFO - Status uploader started inside the clawpulse daemon, PID: \d+\n.*INFO - Upload interval: 300 seconds/,
    );
    await m.stop();
    expect(fs.existsSync(paths.pid)).toBe(false);
  });

  it('stays off with MONITOR_PLATFORM=off, and without a token configured in auto', async () => {
    const off = await setup({ MONITOR_PLATFORM: 'off' });
    off.monitor.start();
    off.clock.advance(MIN);
    await new Promise((r) => setTimeout(r, 50));
    expect(off.monitor.active()).toBe(false);
    await off.monitor.stop();
    await platform.close();
    const none = await setup({}, { credentials: false });
    none.monitor.start();
    expect(none.monitor.active()).toBe(false);
    expect(fs.existsSync(none.paths.pid)).toBe(false);
  });

  it('MONITOR_PLATFORM_TOKEN alone turns it on (auto)', async () => {
    const { monitor: m } = await setup(
      { MONITOR_PLATFORM_TOKEN: 'tok', OPENCLAW_MONITOR_URL: 'http://127.0.0.1:1' },
      { credentials: false },
    );
    m.start();
    expect(m.active()).toBe(true);
  });

  it('leaves the uploads to a standalone uploader that runs, and takes over when it stops', async () => {
    const { paths, clock, monitor: m } = await setup();
    fs.mkdirSync(paths.logDir, { recursive: true });
    fs.writeFileSync(paths.pid, `${OTHER_PID}\n`);
    m.start();
    expect(m.active()).toBe(false);
    fs.rmSync(paths.pid);
    clock.advance(10_000);
    expect(m.active()).toBe(true);
    await waitFor(() => platform.uploads.length === 1, 'the upload');
  });

  it('--only-live: every agent while the gateway is live, else those with a session event within the interval', async () => {
    const { clock, sessions, setGateway, cycles, monitor: m } = await setup({ MONITOR_ONLY_LIVE: '1' });
    sessions.push(
      { agentId: 'coding', lastEventAt: T0 - 4 * MIN },
      { agentId: 'ops', lastEventAt: T0 - 6 * MIN },
    );
    m.start();
    await waitFor(() => cycles() === 1, 'the first cycle');
    expect(platform.uploads[0]?.ids).toEqual(['coding']);
    setGateway('live');
    clock.advance(5 * MIN);
    await waitFor(() => platform.uploads.length === 2, 'the second upload');
    expect(platform.uploads[1]?.ids).toEqual(['main', 'coding', 'ops']);
  });
});

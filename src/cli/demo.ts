/**
 * `clawpulse demo`: for a new user without OpenClaw. Plays the bundled recorded real sessions
 * into a temp state dir at their recorded pace and runs the daemon on it: the dashboard, the
 * API and (on a terminal) the live boxes show clawpulse at work. Everything lives in a temp
 * folder that is removed on exit. While it runs, `clawpulse status`, `sessions`, `tail` and
 * `stop` find it (it holds the usual PID file when no daemon does, and says where it listens).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/config.js';
import { type Daemon, startDaemon } from '../daemon/daemon.js';
import { playRecording } from '../demo/player.js';
import { loadRecording, mergeRecordings } from '../demo/recording.js';
import { createProcessLogger } from '../infra/logger.js';
import { claimPidFile, readLivePid } from '../infra/pidfile.js';
import { loadToolLabels } from '../render/tool-labels.js';
import { type CommonOptions, configFromCli, fail } from './config-from-cli.js';
import { writeRunInfo } from './daemon-link.js';
import { ignoreBrokenStdio, installShutdown } from './shutdown.js';
import { dashboardBase } from './start.js';
import { pipelineModel, startTerminalView } from './terminal-view.js';

export interface DemoOptions extends CommonOptions {
  speed?: string;
  once?: boolean;
  terminal?: boolean;
}

export function recordingsDir(): string {
  for (const rel of ['../../demo/recordings', '../../../demo/recordings']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    try {
      readdirSync(dir);
      return dir;
    } catch {
      // try the next layout (src/cli vs dist/cli)
    }
  }
  throw new Error('bundled demo recordings not found (demo/recordings)');
}

/** `--speed`: a number above 0 (1 = the recorded pace), at most 1000; anything else exits 2 */
export function parseSpeed(raw: string | undefined): number {
  if (raw === undefined) return 1;
  const v = raw.trim();
  const n = /^\d+(\.\d+)?$|^\.\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!(n > 0 && n <= 1000))
    fail(`--speed ${JSON.stringify(raw)}: expected a number above 0 and at most 1000 (1 = recorded pace)`, 2);
  return n;
}

export async function runDemo(opts: DemoOptions): Promise<void> {
  const speed = parseSpeed(opts.speed);
  ignoreBrokenStdio();
  // the user's own clawpulse folder: where `status` and friends look for a running daemon
  const home = configFromCli({ db: opts.db, home: opts.home });
  const root = mkdtempSync(join(tmpdir(), 'clawpulse-demo-'));
  const stateDir = join(root, 'openclaw');
  const base = {
    OPENCLAW_STATE_DIR: stateDir,
    CLAWPULSE_HOME: join(root, 'clawpulse'),
    SOURCES: 'files',
    POLL_INTERVAL_MS: '250',
    // the recorded CI reproduction hangs on its database: STUCK after 20 s, not the usual 5 min
    STUCK_AFTER_S: '20',
  };
  let config: Readonly<Config> = configFromCli({ ...opts, stateDir }, base);
  const useTerminal = opts.terminal !== false && Boolean(process.stdout.isTTY);
  const { logger, release: showLogs } = createProcessLogger(
    useTerminal ? 'error' : config.logLevel,
    config.logFormat,
    { hold: true },
  );

  let daemon: Daemon;
  try {
    daemon = await startDaemon(config, { logger });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') {
      rmSync(root, { recursive: true, force: true });
      throw err;
    }
    // the usual port is taken (a real daemon?): the demo takes any free one
    config = configFromCli({ ...opts, stateDir, port: '0' }, base);
    daemon = await startDaemon(config, { logger });
  }
  const url = config.http.disabled ? null : dashboardBase(config, daemon.port);
  // found by `status`, `sessions`, `tail`, `stop` unless a real daemon holds the PID file
  let releasePid = () => {};
  let dropRunInfo = () => {};
  if (!readLivePid(home.pidFile)) {
    try {
      releasePid = claimPidFile(home.pidFile);
      dropRunInfo = writeRunInfo(home.pidFile, { pid: process.pid, url, kind: 'demo', db: config.dbPath });
    } catch {
      // another start won the race: the demo runs on, unlisted
    }
  }
  const recordings = readdirSync(recordingsDir(), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => loadRecording(join(recordingsDir(), d.name)));
  const players = [
    playRecording(mergeRecordings(recordings), {
      stateDir,
      speed,
      // then again as a fresh set of sessions (new keys), after the stuck one was seen stuck
      loopPauseMs: opts.once ? undefined : 15_000,
    }),
  ];
  const where = url ? `Dashboard: ${url}/` : 'no dashboard (HEALTH_PORT=0)';
  const view = useTerminal
    ? startTerminalView(pipelineModel(daemon.pipeline), {
        out: process.stdout,
        toolLabels: loadToolLabels(config.model.toolLabelsFile),
        header: `clawpulse demo — recorded real OpenClaw sessions. ${where}  (Ctrl-C quits)`,
      })
    : undefined;
  if (!useTerminal)
    process.stdout.write(
      `clawpulse demo: ${url ? `dashboard ${url}/` : 'no dashboard (HEALTH_PORT=0)'} (state dir ${stateDir}; Ctrl-C quits)\n`,
    );
  showLogs();

  const stop = async () => {
    for (const p of players) p.stop();
    view?.stop();
    await daemon.stop('demo ended');
  };
  const cleanup = () => {
    dropRunInfo();
    releasePid();
    rmSync(root, { recursive: true, force: true });
  };
  installShutdown({ stop, cleanup });
  if (opts.once) {
    await Promise.all(players.map((p) => p.done));
    // let the daemon see the last lines, then show the final boxes and leave
    await new Promise((r) => setTimeout(r, 1500));
    if (!useTerminal)
      process.stdout.write(
        `clawpulse demo: played ${recordings.length} recording(s); ${daemon.pipeline.tracker.all().length} sessions seen\n`,
      );
    await stop();
    cleanup();
    process.exit(0);
  }
}

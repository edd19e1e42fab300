/**
 * `clawpulse demo`: for a new user without OpenClaw. Plays the bundled recorded real sessions
 * into a temp state dir at their recorded pace and runs the daemon on it: the dashboard, the
 * API and (on a terminal) the live boxes show clawpulse at work. Everything lives in a temp
 * folder that is removed on exit.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/config.js';
import { type Daemon, startDaemon } from '../daemon/daemon.js';
import { playRecording } from '../demo/player.js';
import { loadRecording, mergeRecordings } from '../demo/recording.js';
import { createLogger } from '../infra/logger.js';
import { loadToolLabels } from '../render/tool-labels.js';
import { type CommonOptions, configFromCli } from './config-from-cli.js';
import { startTerminalView } from './terminal-view.js';

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

export async function runDemo(opts: DemoOptions): Promise<void> {
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
  const logger = createLogger(useTerminal ? 'error' : config.logLevel);

  let daemon: Daemon;
  try {
    daemon = await startDaemon(config, { logger });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    // the usual port is taken (a real daemon?): the demo takes any free one
    config = configFromCli({ ...opts, stateDir, port: '0' }, base);
    daemon = await startDaemon(config, { logger });
  }
  const url = `http://${config.http.host}:${daemon.port}/`;
  const speed = Number(opts.speed ?? '1');
  const recordings = readdirSync(recordingsDir(), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => loadRecording(join(recordingsDir(), d.name)));
  const players = [
    playRecording(mergeRecordings(recordings), {
      stateDir,
      speed: speed > 0 ? speed : 1,
      // then again as a fresh set of sessions (new keys), after the stuck one was seen stuck
      loopPauseMs: opts.once ? undefined : 15_000,
    }),
  ];
  const view = useTerminal
    ? startTerminalView(daemon.pipeline, {
        out: process.stdout,
        toolLabels: loadToolLabels(config.model.toolLabelsFile),
        header: `clawpulse demo — recorded real OpenClaw sessions. Dashboard: ${url}  (Ctrl-C quits)`,
      })
    : undefined;
  if (!useTerminal)
    process.stdout.write(`clawpulse demo: dashboard ${url} (state dir ${stateDir}; Ctrl-C quits)\n`);

  const quit = async (code = 0) => {
    for (const p of players) p.stop();
    view?.stop();
    await daemon.stop('demo ended');
    rmSync(root, { recursive: true, force: true });
    process.exit(code);
  };
  process.once('SIGINT', () => void quit());
  process.once('SIGTERM', () => void quit());
  if (opts.once) {
    await Promise.all(players.map((p) => p.done));
    // let the daemon see the last lines, then show the final boxes and leave
    await new Promise((r) => setTimeout(r, 1500));
    if (!useTerminal)
      process.stdout.write(
        `clawpulse demo: played ${recordings.length} recording(s); ${daemon.pipeline.tracker.all().length} sessions seen\n`,
      );
    await quit();
  }
}

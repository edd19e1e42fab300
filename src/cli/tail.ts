/**
 * `clawpulse tail`: the live status boxes of the active sessions, in the terminal. It reads
 * OpenClaw itself (the same sources as the daemon, into an in-memory store), so it works
 * whether or not the daemon runs and never competes with it for the daemon's store.
 */
import type { Config } from '../config/config.js';
import { createArbitratedSources } from '../daemon/sources.js';
import { systemClock } from '../infra/clock.js';
import { createLogger } from '../infra/logger.js';
import { createSessionTracker } from '../model/tracker.js';
import { createPipeline } from '../pipeline.js';
import { loadToolLabels } from '../render/tool-labels.js';
import { createSqliteStore } from '../store/sqlite-store.js';
import { startTerminalView } from './terminal-view.js';

export async function runTail(config: Readonly<Config>): Promise<void> {
  // logs would tear the redrawn screen: only errors, to stderr
  const logger = createLogger(config.logLevel === 'silent' ? 'silent' : 'error');
  const store = createSqliteStore(':memory:');
  const tracker = createSessionTracker(config.model);
  const pipeline = createPipeline({ store, tracker, logger, snapshotEveryMs: Number.MAX_SAFE_INTEGER });
  const { sources } = createArbitratedSources(config, {
    sink: pipeline,
    offsets: store,
    logger,
    clock: systemClock,
  });
  for (const s of sources) await s.start().catch(() => undefined);
  const ticker = setInterval(() => pipeline.tick(Date.now()), 1000);
  const view = startTerminalView(pipeline, {
    out: process.stdout,
    toolLabels: loadToolLabels(config.model.toolLabelsFile),
    header: `clawpulse tail — ${config.sources.stateDir} (Ctrl-C quits)`,
  });
  const quit = async () => {
    clearInterval(ticker);
    view.stop();
    for (const s of sources) await s.stop().catch(() => undefined);
    store.close();
    process.exit(0);
  };
  process.once('SIGINT', quit);
  process.once('SIGTERM', quit);
}

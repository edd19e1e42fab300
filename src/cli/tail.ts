/**
 * `clawpulse tail [--once]`: the live status boxes of the active sessions, in the terminal.
 * While a daemon (or the demo) runs it follows that daemon through its API (/api/stream): one
 * source of truth. Without one it reads OpenClaw itself (the same sources as the daemon, into
 * an in-memory store) and says so. `--once` prints one frame (no escape codes when stdout is
 * not a terminal) and exits: for scripts and chat.
 */
import type { Config } from '../config/config.js';
import { createArbitratedSources } from '../daemon/sources.js';
import { systemClock } from '../infra/clock.js';
import { createLogger } from '../infra/logger.js';
import type { Source } from '../ingest/source.js';
import { createSessionTracker } from '../model/tracker.js';
import { createPipeline, type Pipeline } from '../pipeline.js';
import { loadToolLabels } from '../render/tool-labels.js';
import { createSqliteStore } from '../store/sqlite-store.js';
import { type DaemonLink, findDaemon } from './daemon-link.js';
import { createRemoteModel } from './remote-model.js';
import { ignoreBrokenStdio, installShutdown } from './shutdown.js';
import { pipelineModel, renderView, startTerminalView, type ViewModel } from './terminal-view.js';

export interface TailOptions {
  once?: boolean;
}

function printOnce(model: ViewModel, config: Readonly<Config>, header: string): void {
  const out = process.stdout;
  const text = renderView(model, {
    now: Date.now(),
    toolLabels: loadToolLabels(config.model.toolLabelsFile),
    width: out.columns || 100,
    color: Boolean(out.isTTY),
    header,
    waiting: 'no active session right now',
  });
  out.write(`${text}\n`);
}

const daemonName = (link: DaemonLink) =>
  `the ${link.kind === 'demo' ? 'demo' : 'daemon'} (pid ${link.pid}${link.url ? `, ${link.url}` : ''})`;

export async function runTail(config: Readonly<Config>, o: TailOptions = {}): Promise<void> {
  ignoreBrokenStdio();
  const link = findDaemon(config);
  if (link?.url) {
    await tailDaemon(link, config, o);
    return;
  }
  const why = link
    ? `${daemonName(link)} runs without HTTP (HEALTH_PORT=0): reading ${config.sources.stateDir} directly`
    : `no daemon running: reading ${config.sources.stateDir} directly`;
  await tailSources(config, o, why);
}

async function tailDaemon(link: DaemonLink, config: Readonly<Config>, o: TailOptions): Promise<void> {
  const model = createRemoteModel(link, config);
  const source = `following ${daemonName(link)}`;
  if (o.once) {
    try {
      await model.loadOnce();
    } catch (err) {
      process.stderr.write(`clawpulse: ${daemonName(link)} did not answer: ${(err as Error).message}\n`);
      process.exitCode = 1;
      return;
    }
    printOnce(model, config, `clawpulse tail — ${source}`);
    return;
  }
  let state = 'connecting…';
  const view = startTerminalView(model, {
    out: process.stdout,
    toolLabels: loadToolLabels(config.model.toolLabelsFile),
    header: () => `clawpulse tail — ${source} (Ctrl-C quits)${state === 'live' ? '' : `\n${state}`}`,
  });
  model.follow((s) => {
    state = s;
  });
  installShutdown({
    async stop() {
      model.stop();
      view.stop();
    },
  });
}

/** waits until the sources stop delivering (their backlog read), at most `maxMs` */
async function settled(pipeline: Pipeline, quietMs = 400, maxMs = 8000): Promise<void> {
  let last = Date.now();
  const off = pipeline.subscribe(() => {
    last = Date.now();
  });
  const start = Date.now();
  while (Date.now() - last < quietMs && Date.now() - start < maxMs)
    await new Promise((r) => setTimeout(r, 50));
  off();
}

async function tailSources(config: Readonly<Config>, o: TailOptions, why: string): Promise<void> {
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
  const stopSources = async (list: readonly Source[]) => {
    for (const s of list) await s.stop().catch(() => undefined);
  };
  for (const s of sources) await s.start().catch(() => undefined);
  if (o.once) {
    await settled(pipeline);
    pipeline.tick(Date.now());
    printOnce(pipelineModel(pipeline), config, `clawpulse tail — ${why}`);
    await stopSources(sources);
    store.close();
    // a gateway connection or a watch may hold the loop open
    process.exit(process.exitCode ?? 0);
  }
  const ticker = setInterval(() => pipeline.tick(Date.now()), 1000);
  const view = startTerminalView(pipelineModel(pipeline), {
    out: process.stdout,
    toolLabels: loadToolLabels(config.model.toolLabelsFile),
    header: `clawpulse tail — ${why} (Ctrl-C quits)`,
  });
  installShutdown({
    async stop() {
      clearInterval(ticker);
      view.stop();
      await stopSources(sources);
      store.close();
    },
  });
}

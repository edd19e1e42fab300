/**
 * clawpulse's real sources, wired as live observers of a conformance run.
 *
 * Factories are loaded by file at run time: the suite keeps type-checking and running while a
 * source is still being written (its checks are skipped with the reason, never faked).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { createLogger, type Logger } from '../../src/infra/logger.js';
import type { IngestSink, OffsetReader, Source } from '../../src/ingest/source.js';
import type { PulseEvent } from '../../src/model/events.js';
import { mismatches } from './compare.js';
import type { Expected, LiveObserver } from './harness.js';
import type { OpenclawEnv } from './run-openclaw.js';
import { createView, type View } from './view.js';

/** a view is "caught up" once no new event arrived for this long (sources poll every 200 ms here) */
const QUIET_MS = 2000;

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface CommonDeps {
  sink: IngestSink;
  offsets: OffsetReader;
  logger: Logger;
  pollIntervalMs?: number;
}
type StoreFactory = (deps: CommonDeps & { stateDir: string; usePolling?: boolean }) => Source;
type GatewayFactory = (deps: CommonDeps & { url: string; token?: string; stateDir?: string }) => Source;

export type SourceName = 'files' | 'sqlite' | 'gateway';

const CANDIDATES: Record<SourceName, { files: string[]; factory: string }> = {
  files: {
    files: ['src/ingest/files/index.ts', 'src/ingest/files/file-source.ts'],
    factory: 'createFileSource',
  },
  sqlite: {
    files: ['src/ingest/sqlite/index.ts', 'src/ingest/sqlite/sqlite-source.ts'],
    factory: 'createSqliteSource',
  },
  gateway: {
    files: [
      'src/ingest/gateway/index.ts',
      'src/ingest/gateway/gateway-source.ts',
      'src/ingest/gateway/source.ts',
    ],
    factory: 'createGatewaySource',
  },
};

/** the file that should hold a source's factory, or undefined while nobody has written it */
export function sourceFile(name: SourceName): string | undefined {
  return CANDIDATES[name].files.map((f) => path.join(REPO, f)).find((f) => fs.existsSync(f));
}

async function loadFactory<T>(name: SourceName): Promise<T> {
  const file = sourceFile(name);
  if (!file) throw new Error(`${name} source not found (${CANDIDATES[name].files.join(', ')})`);
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const f = mod[CANDIDATES[name].factory];
  if (typeof f !== 'function') throw new Error(`${file} exports no ${CANDIDATES[name].factory}`);
  return f as T;
}

function fileLogger(oc: OpenclawEnv, name: string): Logger {
  const level = process.env.CLAWPULSE_CONFORMANCE_LOG_LEVEL ?? 'info';
  return createLogger(
    level,
    pino.destination({ dest: path.join(oc.root, `clawpulse-${name}.log`), sync: true }),
  );
}

export interface SourceObserver extends LiveObserver {
  view: View;
  source?: Source;
}

/**
 * A clawpulse source feeding its own view (and `tee`, when given). `mode: 'cold'` names a second reading of the same
 * state after the run (a restart from nothing), which must end where the live one did.
 */
export function sourceObserver(kind: SourceName, label: string = kind, tee?: IngestSink): SourceObserver {
  const obs: SourceObserver = {
    name: label,
    view: createView(label),
    async start(oc: OpenclawEnv) {
      const logger = fileLogger(oc, label);
      // `tee` also gets every batch: the daemon's arbiter, merging sources as it does in production
      const sink: IngestSink = {
        ingest(events, offsets) {
          obs.view.ingest(events, offsets);
          tee?.ingest(events, offsets);
        },
      };
      const common = { sink, offsets: obs.view, logger, pollIntervalMs: 200 };
      if (kind === 'gateway') {
        const create = await loadFactory<GatewayFactory>('gateway');
        obs.source = create({ ...common, url: oc.gatewayUrl, token: oc.token, stateDir: oc.stateDir });
      } else if (kind === 'files') {
        const create = await loadFactory<StoreFactory>('files');
        obs.source = create({ ...common, stateDir: oc.stateDir });
      } else {
        const create = await loadFactory<StoreFactory>('sqlite');
        obs.source = create({ ...common, stateDir: oc.stateDir });
      }
      await obs.source.start();
    },
    // caught up = matches the fake's log so far AND nothing new for a while (late status rows)
    settled: (expected: Expected) =>
      Date.now() - obs.view.lastNewEventAt > QUIET_MS &&
      mismatches(obs.view, expected, undefined).length === 0,
    async stop() {
      await obs.source?.stop();
    },
  };
  return obs;
}

/** reads a finished run's state from nothing, until it matches `expected` or `timeoutMs` passes */
export async function coldRead(
  kind: 'files' | 'sqlite',
  oc: OpenclawEnv,
  expected: Expected,
  childKey: string | undefined,
  timeoutMs = 20_000,
): Promise<View> {
  const obs = sourceObserver(kind, `${kind}-cold`);
  await obs.start(oc);
  const end = Date.now() + timeoutMs;
  try {
    while (Date.now() < end && mismatches(obs.view, expected, childKey).length > 0) {
      await new Promise((r) => setTimeout(r, 200));
    }
    // quiet for a while, so late events (status rows) land too
    while (Date.now() < end && Date.now() - obs.view.lastNewEventAt < QUIET_MS)
      await new Promise((r) => setTimeout(r, 200));
  } finally {
    await obs.stop();
  }
  return obs.view;
}

/**
 * A restart: a fresh source given the live view's saved offsets (and its events, as the store
 * would hold them) must add nothing: no re-read rows/lines under new dedupeKeys, nothing lost.
 */
export async function resumeRead(
  kind: 'files' | 'sqlite',
  oc: OpenclawEnv,
  live: View,
  timeoutMs = 15_000,
): Promise<{ view: View; added: PulseEvent[] }> {
  const obs = sourceObserver(kind, `${kind}-resumed`);
  obs.view.ingest(live.events, live.listOffsets(''));
  const before = obs.view.events.length;
  // count only what the restarted source itself sends again
  obs.view.duplicates = 0;
  obs.view.duplicateTypes = {};
  const startedAt = Date.now();
  await obs.start(oc);
  try {
    const end = startedAt + timeoutMs;
    while (Date.now() < end && Date.now() - Math.max(startedAt, obs.view.lastNewEventAt) < QUIET_MS) {
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await obs.stop();
  }
  return { view: obs.view, added: obs.view.events.slice(before) };
}

/**
 * Which sources the daemon runs. `auto` (the default) runs all three readers of OpenClaw at
 * once — the gateway (current releases, live), the SQLite session store (2026.8+) and the
 * legacy files (2026.7 and earlier) — because each is cheap while idle, any of them may
 * appear later (an upgrade, a gateway restart), and the arbiter makes the best live one own
 * each session (gateway > sqlite > files), so nothing is counted twice.
 */
import type { Config } from '../config/config.js';
import type { GatewayConnection } from '../gateway/connection.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import { createSourceArbiter, type SourceArbiter } from '../ingest/arbiter.js';
import { createFileSource } from '../ingest/files/file-source.js';
import { createGatewaySource } from '../ingest/gateway/gateway-source.js';
import type { IngestSink, OffsetReader, Source } from '../ingest/source.js';
import { createSqliteSource } from '../ingest/sqlite/sqlite-source.js';
import type { SourceKind } from '../model/events.js';

export type SourceName = 'gateway' | 'sqlite' | 'files';

export function selectedSources(mode: Config['sources']['mode']): SourceName[] {
  return mode === 'auto' || mode === 'all' ? ['gateway', 'sqlite', 'files'] : [...new Set(mode)];
}

/**
 * The selected sources, each feeding the pipeline through the arbiter, which asks the sources
 * themselves whether the owner of a session is still live. Used by the daemon and by `tail`.
 */
export function createArbitratedSources(
  config: Readonly<Config>,
  deps: {
    sink: IngestSink;
    offsets: OffsetReader;
    logger: Logger;
    clock: Clock;
    /** the daemon's gateway connection, shared with dispatch (else the source makes its own) */
    gatewayConnection?: GatewayConnection;
  },
): { sources: Source[]; arbiter: SourceArbiter } {
  const byKind = new Map<SourceKind, Source>();
  const arbiter = createSourceArbiter(deps.sink, (kind) => byKind.get(kind)?.health().state === 'live');
  const sources = createSources(config, { ...deps, arbiter });
  for (const s of sources) byKind.set(s.kind, s);
  return { sources, arbiter };
}

function createSources(
  config: Readonly<Config>,
  deps: {
    arbiter: SourceArbiter;
    offsets: OffsetReader;
    logger: Logger;
    clock: Clock;
    gatewayConnection?: GatewayConnection;
  },
): Source[] {
  const { arbiter, offsets, logger, clock } = deps;
  const s = config.sources;
  // each source tags its own log lines (source: files|sqlite|gateway)
  return selectedSources(s.mode).map((name): Source => {
    switch (name) {
      case 'files':
        return createFileSource({
          stateDir: s.stateDir,
          transcriptDir: s.transcriptDir,
          sessionsJson: s.sessionsJson,
          sink: arbiter.sinkFor('files'),
          offsets,
          logger,
          clock,
          pollIntervalMs: s.pollIntervalMs,
        });
      case 'sqlite':
        return createSqliteSource({
          stateDir: s.stateDir,
          sink: arbiter.sinkFor('sqlite'),
          offsets,
          logger,
          clock,
          pollIntervalMs: Math.min(s.pollIntervalMs, 250),
        });
      default: // 'gateway'
        return createGatewaySource({
          url: s.gatewayUrl,
          token: s.gatewayToken,
          stateDir: s.stateDir,
          sink: arbiter.sinkFor('gateway'),
          offsets,
          logger,
          clock,
          connection: deps.gatewayConnection,
          // with SOURCES=auto and the default URL, no gateway running is a setup without one
          optional: s.mode === 'auto' && !s.gatewayUrlSet,
        });
    }
  });
}

/**
 * Which sources the daemon runs. `auto` (the default) runs all three readers of OpenClaw at
 * once — the gateway (current releases, live), the SQLite session store (2026.8+) and the
 * legacy files (2026.7 and earlier) — because each is cheap while idle, any of them may
 * appear later (an upgrade, a gateway restart), and the arbiter makes the best live one own
 * each session (gateway > sqlite > files), so nothing is counted twice.
 *
 * SOURCES is about the local OpenClaw (its state dir and OPENCLAW_GATEWAY_URL). The gateways
 * named in OPENCLAW_GATEWAYS come on top, always: each its own source `gateway:<name>` with its
 * own connection, state, lag and backoff, its sessions under scoped keys (`<name>|<key>`) that
 * no local reader ever reports, so the arbiter never weighs them against the local sources.
 */
import type { Config } from '../config/config.js';
import type { GatewayConnection } from '../gateway/connection.js';
import type { NamedGatewayLink } from '../gateway/routed-actions.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import { createSourceArbiter, type SourceArbiter } from '../ingest/arbiter.js';
import { createFileSource } from '../ingest/files/file-source.js';
import { createGatewaySource, type GatewaySource } from '../ingest/gateway/gateway-source.js';
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
  const sources = [
    ...createSources(config, { ...deps, arbiter }),
    ...namedGatewaySources(config, { ...deps, arbiter }),
  ];
  // the local sources only (id = kind): a named gateway's sessions are its own, never arbitrated
  for (const s of sources) if (s.id === s.kind) byKind.set(s.kind, s);
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
          // with SOURCES=auto (or named gateways listed) and the default URL, no gateway running
          // there is a setup without a local one
          optional: (s.mode === 'auto' || s.gateways.length > 0) && !s.gatewayUrlSet,
        });
    }
  });
}

/** OPENCLAW_GATEWAYS: one source per named gateway, each with its own connection */
function namedGatewaySources(
  config: Readonly<Config>,
  deps: { arbiter: SourceArbiter; offsets: OffsetReader; logger: Logger; clock: Clock },
): GatewaySource[] {
  return config.sources.gateways.map((g) => {
    // said at every start (and by doctor): a remote plain ws:// URL sends its token in clear
    if (g.warning) deps.logger.warn({ gateway: g.name, url: g.url }, g.warning);
    return createGatewaySource({
      url: g.url,
      name: g.name,
      token: g.token,
      sink: deps.arbiter.sinkFor('gateway'),
      offsets: deps.offsets,
      logger: deps.logger,
      clock: deps.clock,
    });
  });
}

/** the named gateways' connections, for routing steer/abort to a session's own gateway */
export function namedGatewayLinks(sources: readonly Source[]): NamedGatewayLink[] {
  return sources.flatMap((s) => {
    const g = s as Partial<GatewaySource>;
    return g.gatewayName && g.connection ? [{ name: g.gatewayName, connection: g.connection }] : [];
  });
}

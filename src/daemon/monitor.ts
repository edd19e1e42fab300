/**
 * The agent-monitor platform uploader inside the daemon, so one process serves everything:
 * with MONITOR_PLATFORM=on, or when a token is configured (the credentials file exists, or
 * MONITOR_PLATFORM_TOKEN is set) and MONITOR_PLATFORM is not off. It is the same loop as
 * `clawpulse monitor start` (src/monitor), writing the same log files, and it holds the same PID
 * file with the daemon's pid: `clawpulse monitor status` reports it, and a standalone uploader
 * and the daemon never upload side by side. Whoever holds the PID file uploads; the daemon
 * checks every 10 s and takes over when a standalone uploader stops.
 *
 * `--only-live` (MONITOR_ONLY_LIVE=1) uses what the daemon knows: every agent while the gateway
 * connection is live, else the agents with a session event within the interval in the model.
 */
import fs from 'node:fs';
import type { Config } from '../config/config.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import { readLivePid } from '../infra/pidfile.js';
import type { SessionState } from '../model/session.js';
import { onlyLiveFilter } from '../monitor/liveness.js';
import { monitorPaths } from '../monitor/paths.js';
import { claimUploaderPid, createMonitorRuntime, type MonitorRuntime } from '../monitor/runtime.js';

export interface DaemonMonitor {
  start(): void;
  stop(): Promise<void>;
  /** whether this daemon is the one uploading now */
  active(): boolean;
}

export interface DaemonMonitorDeps {
  logger: Logger;
  clock: Clock;
  tracker: { all(): SessionState[] };
  gateway: { status(): { state: string } };
  /** how often the daemon checks whether it should upload (default 10 s) */
  superviseEveryMs?: number;
  /** the runtime's knobs (tests) */
  runtime?: Partial<Parameters<typeof createMonitorRuntime>[0]>;
  pid?: number;
}

export function createDaemonMonitor(config: Readonly<Config>, deps: DaemonMonitorDeps): DaemonMonitor {
  const { clock } = deps;
  const log = deps.logger.child({ part: 'monitor' });
  const stateDir = config.sources.stateDir;
  const paths = monitorPaths(stateDir);
  const pid = deps.pid ?? process.pid;
  const every = deps.superviseEveryMs ?? 10_000;
  let runtime: MonitorRuntime | undefined;
  let release: (() => void) | undefined;
  let timer: unknown;
  let stopped = false;
  let yieldedTo: number | undefined;

  const wanted = () =>
    config.monitor.platform === 'on' ||
    (config.monitor.platform === 'auto' &&
      (Boolean(config.monitor.token) || fs.existsSync(paths.credentials)));

  const filter = config.monitor.onlyLive
    ? onlyLiveFilter({
        gatewayUp: async () => deps.gateway.status().state === 'live',
        recentlyActive: (ids, since) => {
          const out = new Set<string>();
          for (const s of deps.tracker.all())
            if (s.lastEventAt >= since && ids.includes(s.agentId)) out.add(s.agentId);
          return out;
        },
        now: () => clock.now(),
      })
    : undefined;

  function supervise(): void {
    if (stopped) return;
    try {
      if (!runtime && wanted()) {
        const holder = readLivePid(paths.pid);
        if (holder !== undefined && holder !== pid) {
          if (yieldedTo !== holder)
            log.info(
              { pid: holder },
              'a standalone status uploader runs; the daemon leaves the monitor uploads to it',
            );
          yieldedTo = holder;
        } else {
          release = claimUploaderPid(paths, pid);
          yieldedTo = undefined;
          runtime = createMonitorRuntime({
            stateDir,
            envToken: config.monitor.token,
            envUrl: config.monitor.url,
            clock,
            filter,
            echo: (line) => (line.includes(' - ERROR - ') ? log.warn(line) : log.debug(line)),
            ...deps.runtime,
          });
          runtime.log.info(`Status uploader started inside the clawpulse daemon, PID: ${pid}`);
          runtime.loop.start();
          log.info(
            { log: paths.log, onlyLive: Boolean(filter) },
            'uploading agent status to the monitor platform',
          );
        }
      } else if (runtime && readLivePid(paths.pid) !== pid) {
        // the PID file was taken from us (removed by hand, another uploader started): stand down
        log.warn(
          { pidFile: paths.pid },
          'the status uploader PID file is no longer ours; stopping the monitor uploads',
        );
        const r = runtime;
        runtime = undefined;
        release = undefined;
        void r.loop.stop();
      }
    } catch (err) {
      log.error({ err }, 'monitor uploads could not start');
    }
    timer = clock.setTimeout(supervise, every);
  }

  return {
    start() {
      if (config.monitor.platform === 'off') return;
      stopped = false;
      supervise();
    },
    async stop() {
      stopped = true;
      clock.clearTimeout(timer);
      const r = runtime;
      runtime = undefined;
      if (r) {
        r.log.info('Received stop signal, exiting...');
        await r.loop.stop();
      }
      release?.();
      release = undefined;
    },
    active: () => runtime !== undefined,
  };
}

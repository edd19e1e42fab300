/**
 * The uploader's loop: an upload now, then one every interval. Before each cycle the settings
 * (token, URL, interval) are read again, so `clawpulse monitor login` and `set-interval` reach
 * a running uploader without a restart; between cycles a cheap check (the credentials file's
 * stat, every 2 s) notices an interval change at once and moves the next upload to
 * `last start + new interval` (now, when that has passed). A cycle's retries stop before the
 * next cycle is due, and a cycle never starts while one is under way.
 */
import type { Clock } from '../infra/clock.js';
import { type MonitorSettings, minutesText } from './credentials.js';
import type { UploaderLog } from './log-file.js';
import type { Uploader, UploadOutcome } from './uploader.js';

export interface MonitorLoopOptions {
  clock: Clock;
  log: UploaderLog;
  uploader: Uploader;
  /** the settings now; throws when they cannot be read (logged, the cycle skipped) */
  settings(): MonitorSettings;
  /** changes when the settings may have changed (the credentials file's stat) */
  settingsVersion(): string;
  /** the ids to upload this cycle (`--only-live` filters here); `windowMs` is the interval */
  agents(windowMs: number): Promise<string[]>;
  /** what to log when there is no token */
  noTokenMessage: string;
  /** how often the settings version is checked between cycles (default 2 s) */
  checkEveryMs?: number;
  /** tries per cycle (default 5; retries also end before the next cycle is due) */
  maxAttempts?: number;
  /** after each cycle (tests, the daemon's counters) */
  onCycle?(result: CycleResult): void;
}

export type CycleResult =
  | { kind: 'uploaded'; outcome: UploadOutcome }
  | { kind: 'no-token' }
  | { kind: 'no-agents' }
  | { kind: 'error'; message: string };

export interface MonitorLoop {
  start(): void;
  /** cancels the wait, aborts an upload under way, resolves when the cycle has ended */
  stop(): Promise<void>;
  /** the interval in use, in minutes */
  intervalMinutes(): number;
}

/** the shortest interval the loop runs at (the file may hold anything) */
const MIN_INTERVAL_MS = 1000;

export function createMonitorLoop(o: MonitorLoopOptions): MonitorLoop {
  const { clock, log } = o;
  const checkEveryMs = o.checkEveryMs ?? 2000;
  let interval = 5;
  let version = '';
  let lastStart = 0;
  let nextTimer: unknown;
  let checkTimer: unknown;
  let current: Promise<void> | undefined;
  let stopped = true;

  const intervalMs = () => Math.max(MIN_INTERVAL_MS, Math.round(interval * 60_000));

  const readInterval = (): number | undefined => {
    try {
      return o.settings().intervalMinutes;
    } catch {
      return undefined;
    }
  };

  function scheduleNext(): void {
    clock.clearTimeout(nextTimer);
    if (stopped) return;
    const wait = Math.max(0, lastStart + intervalMs() - clock.now());
    nextTimer = clock.setTimeout(() => void runCycle(), wait);
  }

  function runCycle(): Promise<void> {
    if (current || stopped) return current ?? Promise.resolve();
    current = cycle().finally(() => {
      current = undefined;
      scheduleNext();
    });
    return current;
  }

  async function cycle(): Promise<void> {
    lastStart = clock.now();
    let result: CycleResult;
    try {
      version = o.settingsVersion();
      const s = o.settings();
      if (s.intervalMinutes !== interval) {
        log.info(`Sync interval changed: ${minutesText(interval)} -> ${minutesText(s.intervalMinutes)}`);
        interval = s.intervalMinutes;
      }
      if (!s.token) {
        log.error(o.noTokenMessage, 'No token configured');
        result = { kind: 'no-token' };
      } else {
        const ids = await o.agents(intervalMs());
        if (!ids.length) {
          log.info('No agents, skipping this upload');
          result = { kind: 'no-agents' };
        } else {
          const outcome = await o.uploader.upload(
            { url: s.url, token: s.token, agentIds: ids },
            { deadline: lastStart + intervalMs(), maxAttempts: o.maxAttempts },
          );
          result = { kind: 'uploaded', outcome };
        }
      }
    } catch (err) {
      const message = (err as Error).message ?? String(err);
      log.error(`Loop exception: ${message}`, `Loop Exception: ${message}`);
      result = { kind: 'error', message };
    }
    if (!stopped) o.onCycle?.(result);
  }

  function check(): void {
    if (stopped) return;
    try {
      const v = o.settingsVersion();
      if (v !== version) {
        version = v;
        const next = readInterval();
        if (next !== undefined && next !== interval) {
          log.info(`Sync interval changed: ${minutesText(interval)} -> ${minutesText(next)}`);
          interval = next;
          if (!current) scheduleNext();
        }
      }
    } catch {
      // the next cycle logs what is wrong with the settings
    }
    checkTimer = clock.setTimeout(check, checkEveryMs);
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      interval = readInterval() ?? interval;
      log.info(`Upload interval: ${Math.round(intervalMs() / 1000)} seconds (${minutesText(interval)})`);
      checkTimer = clock.setTimeout(check, checkEveryMs);
      void runCycle();
    },
    async stop() {
      stopped = true;
      clock.clearTimeout(nextTimer);
      clock.clearTimeout(checkTimer);
      await o.uploader.close();
      await current;
    },
    intervalMinutes: () => interval,
  };
}

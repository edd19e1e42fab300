/** The Mattermost sink's configuration and health shapes. */
import type { Config } from '../../config/config.js';
import type { BreakerStats } from '../../infra/breaker.js';
import type { SinkCounters } from './box.js';
import type { BoxMode } from './plugin-mode.js';

/** the `mattermost` part of the daemon's Config */
export type MattermostConfig = Config['mattermost'];

export interface MattermostSinkHealth {
  state: 'disabled' | 'starting' | 'ok' | 'degraded' | 'stopped';
  /** what is wrong now (disabled, breaker open, the last request failed); gone once requests succeed */
  reason?: string;
  url?: string;
  mode: BoxMode;
  modeReason: string;
  breaker?: BreakerStats;
  boxes: { live: number; waiting: number; retiring: number };
  maxMessageChars: number;
  requests: number;
  failures: number;
  /** requests the server answered 429 */
  rateLimited: number;
  /** the last failed request (a 429 included) and when, kept after recovery */
  lastError?: string;
  lastErrorAt?: number;
  lastSuccessAt?: number;
  /** late boxes posted, and turns counted in a channel summary instead (late.ts) */
  late: { late: number; summarised: number };
  counters: SinkCounters;
}

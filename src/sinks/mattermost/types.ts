/** The Mattermost sink's configuration and health shapes. */
import type { Config } from '../../config/config.js';
import type { BreakerStats } from '../../infra/breaker.js';
import type { SinkCounters } from './box.js';
import type { BoxMode } from './plugin-mode.js';

/** the `mattermost` part of the daemon's Config */
export type MattermostConfig = Config['mattermost'];

export interface MattermostSinkHealth {
  state: 'disabled' | 'starting' | 'ok' | 'degraded' | 'stopped';
  reason?: string;
  url?: string;
  mode: BoxMode;
  modeReason: string;
  breaker?: BreakerStats;
  boxes: { live: number; waiting: number; retiring: number };
  maxMessageChars: number;
  requests: number;
  failures: number;
  counters: SinkCounters;
}

/** The Mattermost sink's configuration and health shapes. */
import type { BreakerStats } from '../../infra/breaker.js';
import type { SinkCounters } from './box.js';
import type { BoxMode } from './plugin-mode.js';

/** the `mattermost` part of Config (structurally the same) */
export interface MattermostConfig {
  url?: string;
  token?: string;
  defaultChannel?: string;
  throttleMs: number;
  maxActiveSessions: number;
  maxMessageChars: number;
  breakerThreshold: number;
  breakerCooldownMs: number;
  pluginUrl?: string;
  pluginSecret?: string;
  pluginEnabled: boolean;
}

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

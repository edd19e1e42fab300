/**
 * Plugin mode: when the clawpulse webapp plugin (com.clawpulse.livestatus) is enabled, boxes
 * are `custom_livestatus` posts carrying the session tree in `props.livestatus`, updated by
 * props-only patches (no "Edited" label). Without the plugin, boxes are plain REST posts.
 *
 * Whether the plugin is enabled is checked at start and every 60 s (injected clock):
 * `GET /api/v4/plugins/webapp` lists the enabled webapp plugins to any logged-in user;
 * PLUGIN_URL replaces that check (PLUGIN_SECRET goes in the X-Clawpulse-Plugin-Secret
 * header); PLUGIN_ENABLED=false forces REST mode. A failed check keeps the last answer, so a
 * blip does not flip every new box's kind.
 */
import type { Clock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import {
  DEFAULT_STALE_AFTER_MS,
  LIVESTATUS_SEARCH_MARKER,
  type LiveStatusProps,
} from '../../render/livestatus-props.js';
import type { MattermostClient } from './client.js';

export const PLUGIN_ID = 'com.clawpulse.livestatus';
export const PLUGIN_CHECK_EVERY_MS = 60_000;
export const PLUGIN_SECRET_HEADER = 'X-Clawpulse-Plugin-Secret';

export type BoxMode = 'plugin' | 'rest';

/**
 * The fixed `message` of a plugin-mode box (what clients without the plugin show). It ends with
 * the search marker, so the plugin's panel finds live boxes in every channel via post search.
 */
export function pluginBoxMessage(name: string): string {
  return `clawpulse live status: ${name} (${LIVESTATUS_SEARCH_MARKER})`;
}

/** Adds the stale threshold (PLUGIN_STALE_AFTER_S) the plugin reads from the props. */
export function withStaleAfter(
  props: LiveStatusProps,
  staleAfterMs = DEFAULT_STALE_AFTER_MS,
): LiveStatusProps {
  return { ...props, stale_after_ms: staleAfterMs };
}

/**
 * How often a live plugin box is re-sent though nothing changed: a third of its stale threshold,
 * so one lost or throttled keepalive still leaves two before the plugin calls it stale.
 */
export function keepaliveMs(staleAfterMs: number | undefined = DEFAULT_STALE_AFTER_MS): number {
  return Math.max(10_000, Math.floor(staleAfterMs / 3));
}

export interface PluginCheck {
  /** checks once now, then every intervalMs */
  start(): Promise<void>;
  stop(): void;
  mode(): BoxMode;
  /** why the mode is what it is (health) */
  reason(): string;
  checkNow(): Promise<BoxMode>;
}

export interface PluginCheckDeps {
  client: MattermostClient;
  clock: Clock;
  logger: Logger;
  enabled: boolean;
  pluginUrl?: string;
  pluginSecret?: string;
  intervalMs?: number;
  onChange?: (mode: BoxMode) => void;
}

/** reads a PLUGIN_URL answer: a manifest list, `{enabled}`/`{active}`, or any other 2xx = on */
function answerSaysEnabled(json: unknown): boolean {
  if (Array.isArray(json)) return json.some((m) => (m as { id?: unknown })?.id === PLUGIN_ID);
  if (json && typeof json === 'object') {
    const o = json as Record<string, unknown>;
    if (typeof o.enabled === 'boolean') return o.enabled;
    if (typeof o.active === 'boolean') return o.active;
  }
  return true;
}

export function createPluginCheck(deps: PluginCheckDeps): PluginCheck {
  const { client, clock, logger } = deps;
  const every = deps.intervalMs ?? PLUGIN_CHECK_EVERY_MS;
  let mode: BoxMode = 'rest';
  let reason = deps.enabled ? 'not checked yet' : 'PLUGIN_ENABLED=false';
  let timer: unknown;
  let stopped = false;

  function set(next: BoxMode, why: string): void {
    reason = why;
    if (next === mode) return;
    mode = next;
    logger.info({ mode, reason }, 'mattermost box mode changed');
    deps.onChange?.(mode);
  }

  async function checkNow(): Promise<BoxMode> {
    if (!deps.enabled) return mode;
    try {
      if (deps.pluginUrl) {
        const headers: Record<string, string> = { accept: 'application/json' };
        if (deps.pluginSecret) headers[PLUGIN_SECRET_HEADER.toLowerCase()] = deps.pluginSecret;
        const r = await client.probe(deps.pluginUrl, headers);
        if (r.status >= 200 && r.status < 300 && answerSaysEnabled(r.json))
          set('plugin', `PLUGIN_URL answered ${r.status}: plugin enabled`);
        else set('rest', `PLUGIN_URL answered ${r.status}: plugin not enabled`);
      } else {
        const ids = await client.getWebappPluginIds();
        if (ids.includes(PLUGIN_ID)) set('plugin', `${PLUGIN_ID} is enabled`);
        else set('rest', `${PLUGIN_ID} is not among the enabled webapp plugins`);
      }
    } catch (err) {
      reason = `plugin check failed (keeping ${mode} mode): ${err instanceof Error ? err.message : String(err)}`;
      logger.warn({ err: reason }, 'mattermost plugin check failed');
    }
    return mode;
  }

  function schedule(): void {
    if (stopped || !deps.enabled) return;
    timer = clock.setTimeout(() => {
      timer = undefined;
      void checkNow().finally(schedule);
    }, every);
  }

  return {
    async start() {
      stopped = false;
      await checkNow();
      schedule();
    },
    stop() {
      stopped = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
    },
    mode: () => mode,
    reason: () => reason,
    checkNow,
  };
}

/**
 * The Mattermost sink: keeps one status box per root session turn up to date.
 *
 * It listens to the pipeline, maps every changed session to its root (sub-agents live in
 * their root's box), routes the root (routing.ts), and hands the rendered state to the root's
 * box (box.ts), which coalesces, paces and delivers it. At most MAX_ACTIVE_SESSIONS boxes are
 * live: a new one waits until a finished box can be released.
 *
 * Start checks the token (GET /users/me); a rejected token disables the sink with a clear
 * reason in health, and the daemon carries on without Mattermost. Stop delivers every
 * pending final state (the daemon has just marked open sessions interrupted), bounded by a
 * timeout.
 */
import { type Breaker, createBreaker } from '../../infra/breaker.js';
import type { Clock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import type { SessionState } from '../../model/session.js';
import { parseSessionKey } from '../../openclaw/session-key.js';
import type { Pipeline, PipelineUpdate } from '../../pipeline.js';
import { sessionName } from '../../render/format.js';
import { LIVESTATUS_POST_TYPE } from '../../render/livestatus-props.js';
import { toLiveStatusProps } from '../../render/livestatus-tree.js';
import { renderStatusBox } from '../../render/status-box.js';
import type { ToolLabels } from '../../render/tool-labels.js';
import type { EventStore } from '../../store/event-store.js';
import {
  type Box,
  type BoxContent,
  type BoxRecord,
  createBox,
  isServerFailure,
  newPendingPostId,
  type PaceGate,
  type SinkCounters,
} from './box.js';
import { createMattermostClient, type MattermostClient, MattermostError } from './client.js';
import { type BoxMode, createPluginCheck, type PluginCheck } from './plugin-mode.js';
import { createRateLimiter } from './rate-limit.js';
import { createBoxRecords, FINISHED, isNewTurn, RECORD_TTL_MS } from './records.js';
import { type BoxRoute, routeSession } from './routing.js';
import { type BoxRenderer, renderQuoted } from './text.js';
import type { MattermostConfig, MattermostSinkHealth } from './types.js';

export type { MattermostConfig, MattermostSinkHealth } from './types.js';

export interface MattermostSinkDeps {
  config: MattermostConfig;
  pipeline: Pipeline;
  store: EventStore;
  logger: Logger;
  clock: Clock;
  toolLabels: ToolLabels;
  /** plugin check period (default 60 s) */
  pluginCheckEveryMs?: number;
  /** how long stop() may spend delivering final states (default 5 s) */
  stopTimeoutMs?: number;
  render?: BoxRenderer;
  /** server-wide request pace for all boxes (default 8/s, bucket of 1: under Mattermost's 10/s) */
  maxRequestsPerSec?: number;
  requestBurst?: number;
}

export interface MattermostSink {
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): MattermostSinkHealth;
}

/** documented default when the server does not publish MaxPostSize (PostMessageMaxRunesV2) */
export const DEFAULT_MAX_POST_SIZE = 16383;
const MIN_SERVER_MAX = 4000;
const STOP_BURST = 90;
/** under PostPropsMaxUserRunes (760,000), leaving room for the server's own props */
const PROPS_BUDGET = 700_000;

export function createMattermostSink(deps: MattermostSinkDeps): MattermostSink {
  const { config, pipeline, store, clock } = deps;
  const logger = deps.logger.bindings().sink ? deps.logger : deps.logger.child({ sink: 'mattermost' });
  const render = deps.render ?? renderStatusBox;
  const tracker = pipeline.tracker;
  const counters: SinkCounters = {
    creates: 0,
    edits: 0,
    recreated: 0,
    rateLimited: 0,
    dropped: 0,
    failures: 0,
  };
  const boxes = new Map<string, Box>();
  const waiting = new Set<string>();
  const retiring = new Set<Box>();
  const gate: PaceGate = { until: 0 };
  let state: MattermostSinkHealth['state'] = config.url && config.token ? 'starting' : 'disabled';
  let reason: string | undefined = state === 'disabled' ? 'MM_URL and MM_TOKEN are not set' : undefined;
  let client: MattermostClient | undefined;
  let breaker: Breaker | undefined;
  let plugin: PluginCheck | undefined;
  let unsubscribe: (() => void) | undefined;
  let userId = 'clawpulse';
  let maxChars = config.maxMessageChars;
  const limiter = createRateLimiter({
    clock,
    perSec: deps.maxRequestsPerSec ?? 8,
    burst: deps.requestBurst ?? 1,
  });

  const records = createBoxRecords(store, logger);
  const persist = (rec: BoxRecord) => {
    // a retired box of the previous turn must not overwrite the new turn's record
    const live = boxes.get(rec.rootKey);
    if (live && live.record !== rec) return;
    records.save(rec);
  };

  const modeNow = (): BoxMode => plugin?.mode() ?? 'rest';

  function content(root: SessionState, rec: BoxRecord): BoxContent {
    const now = clock.now();
    const lookup = (k: string) => tracker.get(k);
    const text = renderQuoted(render, root, lookup, { now, toolLabels: deps.toolLabels, maxChars });
    const c: BoxContent = {
      status: root.status,
      text,
      summary: `clawpulse live status: ${sessionName(root)}`,
    };
    if (rec.type === LIVESTATUS_POST_TYPE) {
      const props = toLiveStatusProps(root, lookup, now, deps.toolLabels);
      // the server refuses props over 800,000 runes; a huge tree keeps its root only
      c.props =
        JSON.stringify(props).length > PROPS_BUDGET
          ? {
              ...props,
              root: {
                ...props.root,
                children: [],
                lines: props.root.lines.filter((l) => l.kind !== 'child'),
              },
            }
          : props;
    }
    return c;
  }

  function openBox(root: SessionState, route: BoxRoute): Box {
    let rec = records.load(root.key);
    if (
      !rec ||
      isNewTurn(rec.lastStatus, root.status) ||
      rec.channelId !== route.channelId ||
      rec.rootId !== route.rootId
    ) {
      const now = clock.now();
      rec = {
        v: 1,
        rootKey: root.key,
        turn: (rec?.turn ?? 0) + 1,
        pendingPostId: newPendingPostId(userId, now),
        channelId: route.channelId,
        ...(route.rootId ? { rootId: route.rootId } : {}),
        type: modeNow() === 'plugin' ? LIVESTATUS_POST_TYPE : '',
        recreated: 0,
        createdAt: now,
      };
      persist(rec);
    }
    const box = createBox({
      record: rec,
      client: client as MattermostClient,
      breaker: breaker as Breaker,
      clock,
      throttleMs: config.throttleMs,
      gate,
      limiter,
      pluginOn: () => modeNow() === 'plugin',
      persist,
      logger,
      counters,
      onTooLong: (_err, refused) => {
        // Mattermost never allows fewer than 4000 runes (PostMessageMaxRunesV1): jump there
        // first; below that (a plugin or proxy refusing) shrink by a quarter each time
        maxChars =
          refused > MIN_SERVER_MAX
            ? MIN_SERVER_MAX
            : Math.max(100, Math.floor(Math.min(maxChars, refused) * 0.75));
        logger.warn({ maxChars }, 'server refused a status box as too long; lowering the limit');
        const s = tracker.get(root.key);
        if (s) handleRoot(s);
      },
      onSettled: admit,
    });
    boxes.set(root.key, box);
    return box;
  }

  function retire(key: string, box: Box): void {
    boxes.delete(key);
    retiring.add(box);
    void box.flush().finally(() => {
      box.dispose();
      retiring.delete(box);
    });
  }

  /** frees a slot by releasing the oldest box whose session finished and whose state is delivered */
  function releaseOne(): boolean {
    for (const [key, box] of boxes) {
      const last = box.record.lastStatus;
      if ((box.abandoned() || (last && FINISHED.has(last))) && !box.busy()) {
        boxes.delete(key);
        box.dispose();
        return true;
      }
    }
    return false;
  }

  function admit(): void {
    while (waiting.size && state !== 'stopped' && state !== 'disabled') {
      if (boxes.size >= config.maxActiveSessions && !releaseOne()) return;
      const key = waiting.values().next().value as string;
      waiting.delete(key);
      const s = tracker.get(key);
      if (s) handleRoot(s);
    }
  }

  function handleRoot(root: SessionState): void {
    if (root.parentKey || parseSessionKey(root.key).kind === 'subagent') return; // shown in its parent's box
    const route = routeSession(root, config.defaultChannel);
    if (!route) return;
    let box = boxes.get(root.key);
    if (box && isNewTurn(box.record.lastStatus, root.status)) {
      retire(root.key, box);
      box = undefined;
    }
    if (!box) {
      if (boxes.size >= config.maxActiveSessions && !releaseOne()) {
        waiting.add(root.key);
        return;
      }
      box = openBox(root, route);
    }
    box.update(content(root, box.record));
  }

  function onUpdate(update: PipelineUpdate): void {
    if (state === 'disabled' || state === 'stopped') return;
    const roots = new Map<string, SessionState>();
    for (const s of update.changed) {
      const root = tracker.rootOf(s.key) ?? s;
      roots.set(root.key, root);
    }
    for (const root of roots.values()) {
      try {
        handleRoot(root);
      } catch (err) {
        logger.error({ err, rootKey: root.key }, 'status box update failed');
      }
    }
  }

  /** a wall-clock bound: shutdown must end even if the injected clock never moves */
  async function withTimeout(p: Promise<unknown>, ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const t = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
      timer.unref?.();
    });
    const r = await Promise.race([p.then(() => true), t]);
    clearTimeout(timer);
    return r;
  }

  return {
    async start() {
      if (!config.url || !config.token) {
        logger.info('Mattermost not configured (MM_URL/MM_TOKEN); status boxes are off');
        return;
      }
      client = createMattermostClient({ url: config.url, token: config.token });
      breaker = createBreaker({
        name: `mattermost ${config.url}`,
        threshold: config.breakerThreshold,
        cooldownMs: config.breakerCooldownMs,
        clock,
        isFailure: isServerFailure,
        onStateChange: (s, prev) =>
          logger.warn({ state: s, prev }, 'mattermost circuit breaker changed state'),
      });
      try {
        const me = await client.getMe();
        userId = me.id;
      } catch (err) {
        const e = err instanceof MattermostError ? err : undefined;
        if (e && (e.status === 401 || e.status === 403)) {
          state = 'disabled';
          reason = `Mattermost rejected MM_TOKEN: GET ${config.url}/api/v4/users/me answered ${e.status} (${e.id || 'no error id'}). Check MM_TOKEN for MM_URL=${config.url}; status boxes are off.`;
          logger.error({ status: e.status, id: e.id, url: config.url }, reason);
          await client.close();
          return;
        }
        // the server is down or failing: keep going, the breaker paces the retries
        reason = `token not verified yet: GET ${config.url}/api/v4/users/me failed: ${err instanceof Error ? err.message : String(err)}`;
        logger.warn({ url: config.url }, reason);
      }
      try {
        const max = await client.getMaxPostSize();
        maxChars = Math.min(config.maxMessageChars, max ?? DEFAULT_MAX_POST_SIZE);
      } catch (err) {
        maxChars = Math.min(config.maxMessageChars, DEFAULT_MAX_POST_SIZE);
        logger.debug({ err }, 'MaxPostSize not readable; using the documented default');
      }
      plugin = createPluginCheck({
        client,
        clock,
        logger,
        enabled: config.pluginEnabled,
        pluginUrl: config.pluginUrl,
        pluginSecret: config.pluginSecret,
        intervalMs: deps.pluginCheckEveryMs,
      });
      records.prune(clock.now() - RECORD_TTL_MS);
      await plugin.start();
      if (state === 'starting') state = 'ok';
      unsubscribe = pipeline.subscribe(onUpdate);
      logger.info({ url: config.url, mode: plugin.mode(), maxChars }, 'Mattermost status boxes on');
    },

    async stop() {
      if (state === 'stopped') return;
      const wasOn = state !== 'disabled';
      unsubscribe?.();
      plugin?.stop();
      const all = [...boxes.values(), ...retiring];
      // final states matter more than pace now: the server's limiter (10/s, burst 100 when on)
      // has a full bucket after our steady 8/s, so spend most of it; a 429 still waits
      limiter.setRate(10, STOP_BURST);
      if (wasOn && all.length) {
        const done = await withTimeout(
          Promise.allSettled(all.map((b) => b.flush())),
          deps.stopTimeoutMs ?? 5000,
        );
        if (!done)
          logger.warn(
            { boxes: all.filter((b) => b.busy()).length },
            'some final status box states were not delivered before the stop timeout',
          );
      }
      for (const b of all) b.dispose();
      limiter.dispose();
      boxes.clear();
      retiring.clear();
      waiting.clear();
      if (wasOn) state = 'stopped';
      await client?.close();
    },

    health() {
      const b = breaker?.stats();
      const c = client?.stats();
      let s = state;
      if (s === 'ok' && b && b.state !== 'closed') s = 'degraded';
      // a start-time "not verified" note is stale once the server has accepted our requests
      if (reason?.startsWith('token not verified') && counters.creates + counters.edits > 0)
        reason = undefined;
      return {
        state: s,
        ...(reason ? { reason } : {}),
        ...(config.url ? { url: config.url } : {}),
        mode: modeNow(),
        modeReason: plugin?.reason() ?? (config.pluginEnabled ? 'not started' : 'PLUGIN_ENABLED=false'),
        ...(b ? { breaker: b } : {}),
        boxes: { live: boxes.size, waiting: waiting.size, retiring: retiring.size },
        maxMessageChars: maxChars,
        requests: c?.requests ?? 0,
        failures: c?.failures ?? 0,
        counters: { ...counters },
      };
    },
  };
}

/**
 * The Mattermost sink: keeps one status box per root session turn up to date.
 *
 * It listens to the pipeline, maps every changed session to its root (sub-agents live in
 * their root's box), routes the root (routing.ts), and hands the rendered state to the root's
 * box (box.ts), which coalesces, paces and delivers it. At most MAX_ACTIVE_SESSIONS boxes are
 * live: a new one waits until a finished box can be released.
 *
 * Start checks the token (GET /users/me); a rejected token disables the sink with a clear
 * reason in health, and the daemon carries on without Mattermost. Then it brings every box an
 * earlier run left open to a final state (`reconcile`): a box whose session is still in the
 * same turn shows the session as it is now (final if it finished meanwhile); one whose turn is
 * over gets the final content its record kept, or is closed as interrupted. Turns the model
 * ran together (read after the fact) are split again (turns.ts) and get late boxes, bounded
 * per channel (late.ts). Stop delivers every pending final state (the daemon has just marked
 * open sessions interrupted), bounded by a timeout; what it cannot deliver the next start does.
 */
import { type Breaker, createBreaker } from '../../infra/breaker.js';
import type { Clock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import type { StoredEvent } from '../../model/events.js';
import type { SessionState, TrackerLimits } from '../../model/session.js';
import { openclawKey } from '../../model/session-scope.js';
import { parseSessionKey } from '../../openclaw/session-key.js';
import type { Pipeline, PipelineUpdate } from '../../pipeline.js';
import { sessionName } from '../../render/format.js';
import { LIVESTATUS_POST_TYPE } from '../../render/livestatus-props.js';
import { toLiveStatusProps } from '../../render/livestatus-tree.js';
import { renderStatusBox, type SessionLookup } from '../../render/status-box.js';
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
import { createLateGate, SUMMARY_PREFIX } from './late.js';
import {
  type BoxMode,
  createPluginCheck,
  keepaliveMs,
  type PluginCheck,
  pluginBoxMessage,
  withStaleAfter,
} from './plugin-mode.js';
import { createRateLimiter } from './rate-limit.js';
import { createBoxRecords, FINISHED, isNewTurn, RECORD_TTL_MS } from './records.js';
import { type BoxRoute, routeSession } from './routing.js';
import { type BoxRenderer, renderQuoted } from './text.js';
import { type Boundary, findBoundaries, markOf, replayTurnEnds, type TurnMark } from './turns.js';
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
  /**
   * the model's limits (IDLE_TIMEOUT_S ...): with them, turns the model ran together (read
   * after the fact) are split again into one box each; without, they share a box
   */
  modelLimits?: TrackerLimits;
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
  const limits = deps.modelLimits;
  const counters: SinkCounters = {
    creates: 0,
    edits: 0,
    recreated: 0,
    rateLimited: 0,
    dropped: 0,
    failures: 0,
  };
  /** the live box of each root session's current turn */
  const boxes = new Map<string, Box>();
  const waiting = new Set<string>();
  /** roots whose next box must be a new turn (their earlier turns were just split off) */
  const forceNew = new Set<string>();
  /** boxes of ended turns still delivering their final state (kept until the server has it) */
  const retiring = new Set<Box>();
  /** the channels' summary posts (late.ts), alive until stop */
  const summaries = new Set<Box>();
  /** what each root session was like at the last update (turn ends, turns.ts) */
  const marks = new Map<string, TurnMark>();
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
  const persist = (rec: BoxRecord) => records.save(rec);
  const late = createLateGate({
    clock,
    logger,
    records,
    newPendingPostId: () => newPendingPostId(userId, clock.now()),
    openSummaryBox: (rec, lookup) => {
      const box = makeBox(rec, lookup);
      summaries.add(box);
      return box;
    },
  });

  const modeNow = (): BoxMode => plugin?.mode() ?? 'rest';
  const isRootSession = (s: SessionState) =>
    !s.parentKey && parseSessionKey(openclawKey(s.key)).kind !== 'subagent';

  function renderContent(root: SessionState, lookup: SessionLookup, type: BoxRecord['type']): BoxContent {
    const now = clock.now();
    const text = renderQuoted(render, root, lookup, { now, toolLabels: deps.toolLabels, maxChars });
    const c: BoxContent = {
      status: root.status,
      text,
      summary: pluginBoxMessage(sessionName(root)),
      name: sessionName(root),
    };
    if (FINISHED.has(root.status)) c.endedAt = root.endedAt ?? root.lastEventAt;
    if (type === LIVESTATUS_POST_TYPE) {
      const props = withStaleAfter(
        toLiveStatusProps(root, lookup, now, deps.toolLabels),
        config.pluginStaleAfterMs,
      );
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

  const content = (root: SessionState, rec: BoxRecord): BoxContent =>
    renderContent(root, (k) => tracker.get(k), rec.type);

  function newRecord(rootKey: string, turn: number, route: BoxRoute): BoxRecord {
    const now = clock.now();
    return {
      v: 1,
      rootKey,
      turn,
      pendingPostId: newPendingPostId(userId, now),
      channelId: route.channelId,
      ...(route.rootId ? { rootId: route.rootId } : {}),
      type: modeNow() === 'plugin' ? LIVESTATUS_POST_TYPE : '',
      recreated: 0,
      createdAt: now,
    };
  }

  function makeBox(rec: BoxRecord, lookup: boolean): Box {
    const box: Box = createBox({
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
      lookup,
      userId,
      admitCreate: late.admit,
      onTooLong: (_err, refused) => {
        // Mattermost never allows fewer than 4000 runes (PostMessageMaxRunesV1): jump there
        // first; below that (a plugin or proxy refusing) shrink by a quarter each time
        maxChars =
          refused > MIN_SERVER_MAX
            ? MIN_SERVER_MAX
            : Math.max(100, Math.floor(Math.min(maxChars, refused) * 0.75));
        logger.warn({ maxChars }, 'server refused a status box as too long; lowering the limit');
        const s = tracker.get(rec.rootKey);
        if (s && boxes.get(rec.rootKey) === box) handleRoot(s);
      },
      onSettled: () => settled(box),
    });
    return box;
  }

  /** after every send: a retired box that has nothing left to deliver is done */
  function settled(box: Box): void {
    if (retiring.has(box) && !box.busy()) {
      retiring.delete(box);
      box.dispose();
    }
    admit();
  }

  /** a box of an ended turn: delivers what it was given, then goes */
  function finish(box: Box, c?: BoxContent): void {
    retiring.add(box);
    if (c) box.update(c);
    void box.flush().then(() => settled(box));
  }

  function openBox(root: SessionState, route: BoxRoute, newTurn: boolean): Box | undefined {
    const stored = records.load(root.key);
    let rec = stored;
    if (
      !rec ||
      newTurn ||
      isNewTurn(rec.lastStatus, root.status) ||
      rec.channelId !== route.channelId ||
      rec.rootId !== route.rootId
    ) {
      rec = newRecord(root.key, (rec?.turn ?? 0) + 1, route);
      // the intent, before any request: a restart finds this turn's post instead of making another
      persist(rec);
    } else if (rec.summarised) return undefined; // counted in a summary post: no box for this turn
    const box = makeBox(rec, rec === stored && !rec.postId);
    boxes.set(root.key, box);
    return box;
  }

  function retire(key: string, box: Box): void {
    boxes.delete(key);
    finish(box);
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

  function handleRoot(root: SessionState, newTurn = false): void {
    if (!isRootSession(root)) return; // shown in its parent's box
    const route = routeSession(root, config.defaultChannel);
    if (!route) return;
    const fresh = newTurn || forceNew.has(root.key);
    let box = boxes.get(root.key);
    if (box && (fresh || isNewTurn(box.record.lastStatus, root.status))) {
      retire(root.key, box);
      box = undefined;
    }
    if (!box) {
      if (boxes.size >= config.maxActiveSessions && !releaseOne()) {
        waiting.add(root.key);
        if (fresh) forceNew.add(root.key);
        return;
      }
      forceNew.delete(root.key);
      box = openBox(root, route, fresh);
      if (!box) return;
    }
    box.update(content(root, box.record));
  }

  /** a box for a turn that began and ended unseen: posted with its final state (late.ts bounds it) */
  function lateBox(root: SessionState, route: BoxRoute, c: BoxContent): void {
    const rec = newRecord(root.key, (records.load(root.key)?.turn ?? 0) + 1, route);
    rec.lastStatus = c.status;
    rec.final = c;
    persist(rec);
    finish(makeBox(rec, false), c);
  }

  /**
   * The stored events of this update hold turn ends the model did not see (turns.ts): the
   * current box gets the state its turn ended with, each turn between gets a late box, and the
   * session as it is now opens a new turn.
   */
  function splitTurns(root: SessionState, boundaries: Boundary[], events: readonly StoredEvent[]): void {
    const route = routeSession(root, config.defaultChannel);
    if (!route || !limits) return;
    const type = modeNow() === 'plugin' ? LIVESTATUS_POST_TYPE : '';
    const finals = replayTurnEnds(
      store,
      limits,
      root,
      (k) => tracker.get(k),
      boundaries,
      (s, lookup) => renderContent(s, lookup, type),
    );
    const first = boundaries[0] as Boundary;
    const box = boxes.get(root.key);
    if (box) {
      const ended = box.record.lastStatus === 'done' || box.record.lastStatus === 'error';
      boxes.delete(root.key);
      finish(box, first.reason === 'after-end' && ended ? undefined : finals[0]);
    } else if (finals[0] && events.some((e) => e.seq < first.seq && e.event.type === 'agent.started')) {
      // a whole turn in this update before the first end, with no box yet
      lateBox(root, route, finals[0]);
    }
    for (let i = 1; i < boundaries.length; i++) {
      const c = finals[i];
      if (c) lateBox(root, route, c);
    }
    handleRoot(root, true);
  }

  /**
   * Plugin boxes of live sessions are re-sent now and then though nothing changed (a long tool
   * call): the plugin shows a box whose last update is older than `stale_after_ms` as stale
   * ("is clawpulse running?"), so a running daemon keeps its boxes fresh. keyOf (box.ts) lets an
   * identical box through once per keepalive period; the throttle and pace still apply.
   */
  let keepaliveTimer: unknown;
  function scheduleKeepalive(): void {
    const every = keepaliveMs(config.pluginStaleAfterMs);
    keepaliveTimer = clock.setTimeout(() => {
      keepaliveTimer = undefined;
      if (state === 'stopped' || state === 'disabled') return;
      if (modeNow() === 'plugin') {
        for (const key of [...boxes.keys()]) {
          const root = tracker.get(key);
          if (root && !FINISHED.has(root.status)) {
            try {
              handleRoot(root);
            } catch (err) {
              logger.error({ err, rootKey: key }, 'status box keepalive failed');
            }
          }
        }
      }
      scheduleKeepalive();
    }, every);
  }

  function onUpdate(update: PipelineUpdate): void {
    if (state === 'disabled' || state === 'stopped') return;
    const own = new Map<string, StoredEvent[]>();
    if (limits)
      for (const se of update.events) {
        const list = own.get(se.event.sessionKey);
        if (list) list.push(se);
        else own.set(se.event.sessionKey, [se]);
      }
    for (const k of update.removed ?? []) marks.delete(k);
    const roots = new Map<string, SessionState>();
    for (const s of update.changed) {
      const root = tracker.rootOf(s.key) ?? s;
      roots.set(root.key, root);
    }
    for (const root of roots.values()) {
      try {
        const events = own.get(root.key);
        if (limits && isRootSession(root)) {
          const before = marks.get(root.key);
          marks.set(root.key, markOf(root));
          if (events?.length) {
            const { boundaries } = findBoundaries(events, before, limits.idleTimeoutMs);
            if (needsSplit(root.key, boundaries)) {
              splitTurns(root, boundaries, events);
              continue;
            }
          }
        }
        handleRoot(root);
      } catch (err) {
        logger.error({ err, rootKey: root.key }, 'status box update failed');
      }
    }
  }

  /** one end after which the box already shows its final state is the ordinary new turn */
  function needsSplit(key: string, boundaries: readonly Boundary[]): boolean {
    if (!boundaries.length) return false;
    if (boundaries.length > 1 || boundaries[0]?.reason === 'gap') return true;
    const last = (boxes.get(key)?.record ?? records.load(key))?.lastStatus;
    return last !== undefined && last !== 'done' && last !== 'error';
  }

  /**
   * Every box an earlier run left open reaches a final state: the same turn still running (or
   * finished since) is shown as it is now; an ended turn gets the final content its record
   * kept, else its post is closed as interrupted.
   */
  function reconcile(): void {
    let n = 0;
    for (const rec of records.unclosed()) {
      try {
        n++;
        if (rec.rootKey.startsWith(SUMMARY_PREFIX)) {
          late.resume(rec);
          continue;
        }
        const s = tracker.get(rec.rootKey);
        const route = s ? routeSession(s, config.defaultChannel) : undefined;
        const current = records.load(rec.rootKey)?.turn === rec.turn;
        if (
          s &&
          route &&
          current &&
          !isNewTurn(rec.lastStatus, s.status) &&
          route.channelId === rec.channelId &&
          route.rootId === rec.rootId
        ) {
          handleRoot(s);
          continue;
        }
        const usable = rec.final && !(rec.type === LIVESTATUS_POST_TYPE && !rec.final.props);
        const c: BoxContent =
          usable && rec.final
            ? rec.final
            : {
                status: 'interrupted',
                text: '',
                summary: '',
                rewrite: s
                  ? 'clawpulse restarted; this turn ended while it was down'
                  : 'clawpulse restarted and no longer knows this session',
              };
        finish(makeBox(rec, !rec.postId), c);
      } catch (err) {
        logger.warn({ err, rootKey: rec.rootKey }, 'could not finish a status box left open');
      }
    }
    if (n) logger.info({ boxes: n }, 'finishing the status boxes an earlier run left open');
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
      client = createMattermostClient({ url: config.url, token: config.token, now: () => clock.now() });
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
      if (limits) for (const s of tracker.all()) if (isRootSession(s)) marks.set(s.key, markOf(s));
      unsubscribe = pipeline.subscribe(onUpdate);
      reconcile();
      scheduleKeepalive();
      logger.info({ url: config.url, mode: plugin.mode(), maxChars }, 'Mattermost status boxes on');
    },

    async stop() {
      if (state === 'stopped') return;
      const wasOn = state !== 'disabled';
      if (keepaliveTimer !== undefined) clock.clearTimeout(keepaliveTimer);
      keepaliveTimer = undefined;
      unsubscribe?.();
      plugin?.stop();
      const all = [...boxes.values(), ...retiring, ...summaries];
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
            'some final status box states were not delivered before the stop timeout (the next start delivers them)',
          );
      }
      for (const b of all) b.dispose();
      limiter.dispose();
      boxes.clear();
      retiring.clear();
      summaries.clear();
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
      if (reason?.startsWith('token not verified') && c?.lastSuccessAt !== undefined) reason = undefined;
      // the current reason: what is wrong now, cleared as soon as requests succeed again
      let now = reason;
      if (!now && (s === 'ok' || s === 'degraded')) {
        if (b && b.state !== 'closed')
          now = `circuit breaker ${b.state} after ${b.consecutiveFailures} failures: ${c?.lastError ?? b.lastError ?? 'server failing'}`;
        else if (c?.failing) now = `the last request failed: ${c.lastError ?? 'unknown error'}`;
      }
      return {
        state: s,
        ...(now ? { reason: now } : {}),
        ...(config.url ? { url: config.url } : {}),
        mode: modeNow(),
        modeReason: plugin?.reason() ?? (config.pluginEnabled ? 'not started' : 'PLUGIN_ENABLED=false'),
        ...(b ? { breaker: b } : {}),
        boxes: { live: boxes.size, waiting: waiting.size, retiring: retiring.size },
        maxMessageChars: maxChars,
        requests: c?.requests ?? 0,
        failures: c?.failures ?? 0,
        rateLimited: c?.byStatus['429'] ?? 0,
        ...(c?.lastError !== undefined ? { lastError: c.lastError, lastErrorAt: c.lastErrorAt } : {}),
        ...(c?.lastSuccessAt !== undefined ? { lastSuccessAt: c.lastSuccessAt } : {}),
        late: late.stats(),
        counters: { ...counters },
      };
    },
  };
}

/**
 * Dispatch inside the daemon: labels follow their sessions live (done / error from the model,
 * not a cron poll), overload failures are retried, results delivered, verify commands run, and
 * every step told as a lifecycle event. Also the Steer / Abort actions of the API and dashboard.
 *
 * Labels come from the ledger, which CLI processes write too: the service reads what changed
 * there every tick (1 s) and on every model update of a labelled session. Each state change is
 * one atomic ledger update whose function checks the entry is still in the state it expects,
 * so a CLI `recover`, `done` or a second look can never make it happen twice; each lifecycle
 * event is sent once, guarded by a ledger claim.
 */
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { PulseEvent } from '../model/events.js';
import type { SessionState } from '../model/session.js';
import type { Pipeline } from '../pipeline.js';
import type { DispatchLedger, LabelEntry } from '../store/dispatch-ledger.js';
import { attemptDelivery, deliveryDue } from './delivery.js';
import type { GatewayCaller } from './gateway-ops.js';
import type { LifecycleEmitter, LifecycleEvent, LifecycleEventName } from './lifecycle.js';
import { modelView } from './live.js';
import { MAX_FAILURE_AGE_MS, MAX_RETRIES, type RetryOutcome, retryLabel } from './recovery.js';
import type { SessionActions } from './session-actions.js';
import { createSessionActions } from './session-actions-impl.js';
import { transitionFor } from './transition.js';
import { runVerdict, spawnedAtMs } from './verdict.js';
import { runVerify } from './verify.js';

export interface DispatchServiceDeps {
  ledger: DispatchLedger;
  gateway: GatewayCaller;
  pipeline: Pipeline;
  emitter: LifecycleEmitter;
  logger: Logger;
  clock: Clock;
  host: string;
  verifyTimeoutMs?: number;
  /** the waits before retries 1, 2, 3 (default 30 s, 2 min, 5 min) */
  retryBackoffMs?: readonly number[];
}

export interface DispatchStats {
  labels: number;
  running: number;
  retries: number;
  retryFailures: number;
  deliveries: number;
  deliveryFailures: number;
  verifies: number;
  lastError?: string;
}

export interface DispatchService {
  readonly actions: SessionActions;
  start(): void;
  stop(): void;
  /** timers: due retries, deliveries, verify commands, newly written labels (daemon tick) */
  tick(now: number): void;
  stats(): DispatchStats;
  /** resolves when the async work started so far has finished (tests, shutdown) */
  idle(): Promise<void>;
}

export function createDispatchService(deps: DispatchServiceDeps): DispatchService {
  const { ledger, pipeline, clock } = deps;
  const log = deps.logger.child({ part: 'dispatch' });
  const live = modelView((k) => pipeline.tracker.get(k), pipeline.store);
  /** label → entry of labels not yet settled (running, waiting for a retry, a delivery or a check) */
  const open = new Map<string, LabelEntry>();
  const byKey = new Map<string, Set<string>>();
  const busy = new Set<string>();
  /** lifecycle event claims this process already tried (see announce) */
  const claimed = new Set<string>();
  const inflight = new Set<Promise<unknown>>();
  const counters = { retries: 0, retryFailures: 0, deliveries: 0, deliveryFailures: 0, verifies: 0 };
  let lastError: string | undefined;
  let cursor = 0;
  let unsubscribe: (() => void) | undefined;

  // ── the labels the service watches ──
  function track(label: string, e: LabelEntry): void {
    const prev = open.get(label);
    if (prev && prev.sessionKey !== e.sessionKey) byKey.get(prev.sessionKey)?.delete(label);
    if (!unsettled(e)) {
      open.delete(label);
      byKey.get(e.sessionKey)?.delete(label);
      return;
    }
    open.set(label, e);
    const set = byKey.get(e.sessionKey) ?? new Set<string>();
    byKey.set(e.sessionKey, set);
    set.add(label);
  }

  function pollLedger(): void {
    const { rows, cursor: next } = ledger.changedSince(cursor);
    cursor = next;
    for (const { label, entry } of rows) {
      track(label, entry);
      if (entry.status === 'running' && entry.runId) {
        // a retry made by `dispatch recover` (the daemon's own are announced as they happen)
        const last = entry.retries?.at(-1);
        if (last && last.runId === entry.runId)
          announce('dispatch.retried', label, entry, {
            attempt: last.attempt,
            error: last.error,
            detail: last.via,
          });
        else announce('dispatch.started', label, entry);
        note(label, entry, undefined, `label:${entry.sessionKey}`);
      }
      follow(label);
    }
  }

  // ── following a label's session ──
  function follow(label: string): void {
    const e = open.get(label);
    if (!e || (e.status !== 'running' && e.status !== 'done')) return;
    const s = pipeline.tracker.get(e.sessionKey);
    const verdict = runVerdict(e, s);
    if (verdict.kind === 'running' && s?.status === 'stuck') {
      announce('dispatch.stuck', label, e, { detail: s.note });
    }
    // --monitor-timeout: still not finished after that many minutes
    const limit = e.monitorTimeoutMinutes;
    if (
      e.status === 'running' &&
      limit &&
      (verdict.kind === 'running' || verdict.kind === 'pending') &&
      clock.now() - spawnedAtMs(e) > limit * 60_000
    ) {
      announce('dispatch.stuck', label, e, {
        detail: `still running after the ${limit} min monitor timeout`,
      });
    }
    const now = clock.now();
    // most updates of a labelled session change nothing for the label: decide on the entry we
    // hold (re-read every tick) before a write transaction, which also commits the store's
    // open group of events and would defeat group commit for dispatched sessions
    if (!transitionFor(label, e, verdict, now, deps.retryBackoffMs)) return;
    let applied: ReturnType<typeof transitionFor>;
    const stored = ledger.update(label, (cur) => {
      if (!cur || cur.sessionKey !== e.sessionKey || cur.runId !== e.runId) return undefined;
      applied = transitionFor(label, cur, runVerdict(cur, s), now, deps.retryBackoffMs);
      return applied?.entry;
    });
    if (!applied || !stored) return;
    track(label, stored);
    for (const ev of applied.events)
      announce(ev.event, label, stored, { error: ev.error, detail: ev.detail }, s);
    if (applied.note) note(label, stored, applied.note, `note:${stored.runId}:${stored.retryCount ?? 0}`);
    kick(label);
  }

  /** starts what a settled label still owes: a due retry, a delivery, its verify command */
  function kick(label: string): void {
    const e = open.get(label);
    if (!e || busy.has(label)) return;
    const now = clock.now();
    if (e.status === 'error' && e.retryDueAt !== undefined) {
      if (e.failedAt !== undefined && now - e.failedAt > MAX_FAILURE_AGE_MS) giveUp(label);
      else if (now >= e.retryDueAt) run(label, () => retry(label));
      return;
    }
    if (e.verify?.state === 'pending') run(label, () => verify(label, e));
    else if (deliveryDue(e, now)) run(label, () => deliver(label));
  }

  function run(label: string, task: () => Promise<void>): void {
    busy.add(label);
    const p = task()
      .catch((err) => {
        lastError = (err as Error).message;
        log.warn({ err, label }, 'dispatch step failed; it is tried again on a later tick');
      })
      .finally(() => {
        busy.delete(label);
        inflight.delete(p);
      });
    inflight.add(p);
  }

  async function retry(label: string): Promise<void> {
    let outcome: RetryOutcome | undefined;
    try {
      outcome = await retryLabel(label, { gateway: deps.gateway, ledger, now: () => clock.now() });
    } catch (err) {
      counters.retryFailures++;
      throw err;
    }
    const e = ledger.get(label);
    if (e) track(label, e);
    if (!outcome || !e) return;
    counters.retries++;
    log.info(
      { label, attempt: outcome.attempt, via: outcome.via, sessionKey: outcome.sessionKey },
      'retried after overload',
    );
    announce('dispatch.retried', label, e, {
      error: outcome.error,
      attempt: outcome.attempt,
      detail: outcome.via,
    });
    note(
      label,
      e,
      `retry ${outcome.attempt}/${MAX_RETRIES} after 529 (${outcome.via === 'fresh' ? 'fresh session' : 'continued'})`,
      `retry:${outcome.attempt}:${e.runId}`,
    );
  }

  function giveUp(label: string): void {
    const now = clock.now();
    const stored = ledger.update(label, (cur) =>
      cur && cur.status === 'error' && cur.retryDueAt !== undefined
        ? {
            ...cur,
            retryDueAt: undefined,
            error: `${cur.error ?? 'overloaded'} (failure older than 60 min: not retried)`,
            endedAt: new Date(now).toISOString(),
            updatedAt: new Date(now).toISOString(),
          }
        : undefined,
    );
    if (!stored || stored.retryDueAt !== undefined) return;
    track(label, stored);
    announce('dispatch.failed', label, stored, { error: stored.error ?? undefined });
  }

  async function deliver(label: string): Promise<void> {
    const d = await attemptDelivery(label, { gateway: deps.gateway, ledger, live, now: () => clock.now() });
    const e = ledger.get(label);
    if (e) track(label, e);
    if (!d || !e) return;
    if (d.state === 'sent') {
      counters.deliveries++;
      announce('dispatch.delivered', label, e, { detail: `${e.deliverChannel}:${e.deliverTo}` });
    } else if (d.state === 'failed' || d.error) {
      counters.deliveryFailures++;
      lastError = d.error;
    }
  }

  async function verify(label: string, e: LabelEntry): Promise<void> {
    const command = e.verify?.command;
    if (!command) return;
    const result = await runVerify(command, { timeoutMs: deps.verifyTimeoutMs });
    counters.verifies++;
    const stored = ledger.update(label, (cur) =>
      cur?.runId === e.runId ? { ...cur, verify: result } : undefined,
    );
    if (stored) track(label, stored);
    log.info(
      { label, exitCode: result.exitCode, timedOut: result.timedOut },
      `verify command ${result.state}`,
    );
  }

  // ── what the world hears ──
  function announce(
    name: LifecycleEventName,
    label: string,
    e: LabelEntry,
    extra: Partial<LifecycleEvent> = {},
    s: SessionState | undefined = pipeline.tracker.get(e.sessionKey),
  ): void {
    // once per label, run and event (and retry attempt), across restarts and processes
    const key = `event:${name}:${label}:${e.runId ?? ''}:${extra.attempt ?? ''}`;
    // asked again on every update while stuck: the claim (a write) is tried once per process
    if (claimed.has(key)) return;
    claimed.add(key);
    if (!ledger.claim(key, label, clock.now())) return;
    const start = spawnedAtMs(e);
    const end = e.endedAt ? Date.parse(e.endedAt) : clock.now();
    const ev: LifecycleEvent = {
      event: name,
      ts: clock.now(),
      label,
      sessionKey: e.sessionKey,
      runId: e.runId ?? undefined,
      host: deps.host,
      agent: e.agent,
      ...((e.model ?? s?.model) ? { model: e.model ?? s?.model } : {}),
      ...(name !== 'dispatch.started' && start ? { durationMs: Math.max(0, end - start) } : {}),
      ...(s && name !== 'dispatch.started' ? { tokens: { ...s.tokens }, costUsd: s.costUsd } : {}),
      ...extra,
    };
    for (const k of Object.keys(ev) as Array<keyof LifecycleEvent>) if (ev[k] === undefined) delete ev[k];
    deps.emitter.emit(ev);
  }

  /** the label and dispatch notes in the session's own box (stored, so every view shows them) */
  function note(label: string, e: LabelEntry, text: string | undefined, id: string): void {
    const ev: PulseEvent = {
      type: 'session.note',
      ts: clock.now(),
      source: 'dispatch',
      sessionKey: e.sessionKey,
      agentId: e.agent,
      dedupeKey: `dispatch:${label}:${id}`,
      label,
      ...(text ? { text } : {}),
    };
    try {
      pipeline.ingest([ev]);
    } catch (err) {
      log.warn({ err, label }, 'could not record a dispatch note');
    }
  }

  const actions = createSessionActions({
    gateway: deps.gateway,
    runIdOf: (key) => pipeline.tracker.get(key),
    logger: log,
  });

  return {
    actions,
    start() {
      // every label's current state once: a run that ended while the daemon was down settles now
      cursor = 0;
      try {
        pollLedger();
      } catch (err) {
        log.error({ err }, 'dispatch: could not read the ledger');
      }
      unsubscribe = pipeline.subscribe((u) => {
        for (const s of u.changed) {
          const labels = byKey.get(s.key);
          if (labels) for (const label of labels) follow(label);
        }
      });
    },
    stop() {
      unsubscribe?.();
      unsubscribe = undefined;
    },
    tick() {
      try {
        pollLedger();
        for (const label of [...open.keys()]) {
          follow(label);
          kick(label);
        }
      } catch (err) {
        lastError = (err as Error).message;
        log.error({ err }, 'dispatch tick failed');
      }
    },
    stats: () => ({
      labels: open.size,
      running: [...open.values()].filter((e) => e.status === 'running').length,
      ...counters,
      ...(lastError ? { lastError } : {}),
    }),
    async idle() {
      while (inflight.size) await Promise.allSettled([...inflight]);
    },
  };
}

/** a label with something still to happen: a run going, a retry, a delivery or a check */
function unsettled(e: LabelEntry): boolean {
  if (e.status === 'running') return true;
  if (e.status === 'done' && e.endedAt === undefined) return true;
  if (e.status === 'error' && e.retryDueAt !== undefined) return true;
  return e.delivery?.state === 'pending' || e.verify?.state === 'pending';
}

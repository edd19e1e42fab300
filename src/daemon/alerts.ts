/**
 * Alerts in the daemon: the rules the configuration turns on (ALERT_RULES), the budgets
 * (BUDGETS_FILE and the BUDGET_* shorthands) with their guard, the alert engine storing into the
 * store's alerts, and the destinations (src/alerts/destinations). Kept apart from daemon.ts so the
 * wiring there stays a list of parts.
 *
 * The engine hears every pipeline update, the daemon tick and the dispatch lifecycle events; it
 * starts deciding (firing, resolving) at `start()`, once the daemon's parts exist: an alert fired
 * while the daemon is still being put together could not abort through the gateway yet.
 *
 * On a store several daemons share (PostgreSQL), the fleet-wide budgets count every host and one
 * daemon of the fleet decides them (`../alerts/fleet-budgets.ts`).
 */

import type { AlertDestination, AlertRule } from '../alerts/alert.js';
import type { AlertsConfig } from '../alerts/alert-env.js';
import { createBudgetGuard } from '../alerts/budget-guard.js';
import { type Budgets, hasBudgets, loadBudgets } from '../alerts/budgets.js';
import { createAlertDestinations } from '../alerts/destinations/index.js';
import { type AlertEngine, createAlertEngine } from '../alerts/engine.js';
import { createFleetBudgets, type FleetBudgets } from '../alerts/fleet-budgets.js';
import { budgetRule } from '../alerts/rules/budget.js';
import { costVelocityRule } from '../alerts/rules/cost-velocity.js';
import { errorBurstRule } from '../alerts/rules/error-burst.js';
import { loopRule } from '../alerts/rules/loop.js';
import type { Rule } from '../alerts/rules/rule.js';
import { runFailedRule } from '../alerts/rules/run-failed.js';
import { stuckRule } from '../alerts/rules/stuck.js';
import type { SharedFleet } from '../alerts/shared-fleet.js';
import { createSpendTracker, type SpendTracker } from '../alerts/spend.js';
import type { Config } from '../config/config.js';
import type { LifecycleEmitter } from '../dispatch/lifecycle.js';
import type { SessionActions } from '../dispatch/session-actions.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { SessionTracker } from '../model/tracker.js';
import type { Pipeline } from '../pipeline.js';
import type { SinkHealth } from '../server/health.js';
import type { AlertStore } from '../store/alert-store.js';
import type { EventStore } from '../store/event-store.js';

/** resolved alerts older than ALERT_RETAIN_DAYS are dropped this often */
const PRUNE_EVERY_MS = 3_600_000;

export interface DaemonAlerts {
  readonly engine: AlertEngine;
  readonly budgets: Budgets;
  /** the dispatch lifecycle events reach the engine too (dispatch.failed), besides `next` */
  lifecycle(next?: LifecycleEmitter): LifecycleEmitter;
  start(): void;
  tick(now: number): void;
  /** dispatch as health and /metrics see it, with the alert destinations' rows and the alert gauges added */
  withDispatch<D extends Partial<{ sinks(): SinkHealth[]; metrics(): string }>>(
    d: D,
  ): D & { sinks(): SinkHealth[]; metrics(): string };
  stop(): Promise<void>;
}

export interface DaemonAlertsDeps {
  pipeline: Pipeline;
  store: EventStore;
  logger: Logger;
  clock: Clock;
  /** the daemon's steer/abort (called only after start) */
  actions: () => SessionActions | undefined;
  /** instead of the configured ones (tests) */
  destinations?: AlertDestination[];
}

export function createDaemonAlerts(
  config: Readonly<Pick<Config, 'alerts' | 'alertDestinations' | 'mattermost' | 'model'>>,
  deps: DaemonAlertsDeps,
): DaemonAlerts {
  const { pipeline, clock } = deps;
  const logger = deps.logger.child({ part: 'alerts' });
  const c = config.alerts;
  const { budgets, error: budgetsError } = loadBudgets(c.budgets);
  if (budgetsError) logger.error(`${budgetsError}; running with the BUDGET_* variables alone`);

  const alertStore = storeAlerts(deps.store, logger);
  const shared = sharedFleet(deps.store, logger);
  // a shared store: this host's stored spend is seeded by the fleet part (the aggregate has every host's)
  const spend = shared ? createSpendTracker(clock.now()) : seededSpend(deps.store, clock.now(), logger);
  const fleet = createFleetBudgets({ fleet: shared, spend, budgets, logger, now: clock.now() });
  const guard = createBudgetGuard({ actions: deps.actions, logger });
  const rules = buildRules(c, config.model.stuckAfterMs, budgets, spend, pipeline.tracker, guard, {
    fleet,
    firing: () => new Set(engine.firing().map((a) => a.key)),
  });
  const destinations =
    deps.destinations ??
    createAlertDestinations(
      { alertDestinations: config.alertDestinations, mattermost: config.mattermost },
      { clock, logger },
    );
  const engine = createAlertEngine({
    rules,
    store: alertStore,
    destinations: () => (started ? destinations : []),
    clock,
    logger,
  });

  // before start, updates feed the rules' state; deciding waits for start
  let started = false;
  pipeline.subscribe((u) => {
    spend.add(u.events);
    if (started) engine.update(u);
  });
  let lastPrune = 0;

  return {
    engine,
    budgets,
    lifecycle: (next) => ({
      emit(e) {
        try {
          if (started) engine.lifecycle(e);
        } catch (err) {
          logger.error({ err }, 'alert engine failed on a lifecycle event');
        }
        next?.emit(e);
      },
    }),
    start() {
      started = true;
      fleet.tick(clock.now());
      // the sessions restored from the store are what the rules start from
      engine.update({ events: [], changed: pipeline.tracker.all() });
      logger.info(
        { rules: c.rules, destinations: destinations.map((d) => d.name), budgets: hasBudgets(budgets) },
        c.rules.length ? 'alerts on' : 'alerts off (ALERT_RULES=none)',
      );
    },
    tick(now) {
      if (!started) return;
      spend.prune(now);
      fleet.tick(now);
      engine.tick(now);
      if (alertStore && now - lastPrune >= PRUNE_EVERY_MS) {
        lastPrune = now;
        try {
          alertStore.prune(now - c.retainMs);
        } catch (err) {
          logger.warn({ err }, 'could not prune old alerts');
        }
      }
    },
    withDispatch: (d) => ({
      ...d,
      sinks: () => [
        ...(d.sinks?.() ?? []),
        ...destinations.map((x) => x.health()),
        ...budgetsRow(budgetsError),
      ],
      metrics: () => `${d.metrics?.() ?? ''}${alertMetrics(engine)}`,
    }),
    async stop() {
      await Promise.race([engine.idle(), new Promise((r) => setTimeout(r, 5000).unref())]);
      fleet.stop();
      for (const d of destinations) {
        try {
          await d.stop?.();
        } catch (err) {
          logger.warn({ err, destination: d.name }, 'alert destination did not flush');
        }
      }
    },
  };
}

function buildRules(
  c: AlertsConfig,
  stuckAfterMs: number,
  budgets: Budgets,
  spend: SpendTracker,
  tracker: SessionTracker,
  guard: ReturnType<typeof createBudgetGuard>,
  shared: { fleet: FleetBudgets; firing(): ReadonlySet<string> },
): Rule[] {
  const getSession = (k: string) => tracker.get(k);
  const on = new Set<AlertRule>(c.rules);
  const rules: Rule[] = [];
  if (on.has('stuck')) rules.push(stuckRule({ stuckAfterMs }));
  if (on.has('run-failed')) rules.push(runFailedRule({ maxEventAgeMs: c.maxEventAgeMs, getSession }));
  if (on.has('error-burst') && c.errorBurst.count > 0) rules.push(errorBurstRule(c.errorBurst));
  if (on.has('cost-velocity')) rules.push(costVelocityRule({ ...c.costVelocity, getSession }));
  if (on.has('loop') && (c.loop.repeat > 0 || c.loop.failStreak > 0)) {
    rules.push(
      loopRule({
        repeat: c.loop.repeat || Number.POSITIVE_INFINITY,
        failStreak: c.loop.failStreak || Number.POSITIVE_INFINITY,
        maxEventAgeMs: c.maxEventAgeMs,
        getSession,
      }),
    );
  }
  if (on.has('budget') && hasBudgets(budgets)) {
    rules.push(
      budgetRule({
        budgets: () => budgets,
        spend,
        getSession,
        allSessions: () => tracker.all(),
        abort: guard,
        ...(shared.fleet.host !== undefined
          ? { shared: { host: shared.fleet.host, leader: shared.fleet.leader, firing: shared.firing } }
          : {}),
      }),
    );
  }
  return rules;
}

function storeAlerts(store: EventStore, logger: Logger): AlertStore | undefined {
  try {
    const s = store.alerts?.();
    if (!s) logger.warn('this store keeps no alerts: they are sent, not listed');
    return s;
  } catch (err) {
    logger.error({ err }, 'the store cannot keep alerts: they are sent, not listed');
    return undefined;
  }
}

function sharedFleet(store: EventStore, logger: Logger): SharedFleet | undefined {
  try {
    return store.fleet?.();
  } catch (err) {
    logger.error({ err }, 'the shared store gives no fleet view: fleet budgets count this host alone');
    return undefined;
  }
}

function seededSpend(store: EventStore, now: number, logger: Logger): SpendTracker {
  try {
    return createSpendTracker(now, store.usage?.());
  } catch (err) {
    logger.error(
      { err },
      'could not read spend from the usage aggregate: day and month budgets count from now',
    );
    return createSpendTracker(now);
  }
}

/** a bad budgets file is a /health row with its reason (the daemon runs on without it) */
function budgetsRow(error: string | undefined): SinkHealth[] {
  if (!error) return [];
  return [
    {
      id: 'budgets',
      kind: 'budgets',
      breaker: 'closed',
      requests: 0,
      failures: 1,
      lastError: error,
      detail: { reason: error },
    },
  ];
}

/** Prometheus lines: alerts firing per rule (gauge), fired and resolved (counters) */
export function alertMetrics(engine: AlertEngine): string {
  const s = engine.stats();
  const lines = [
    '# HELP clawpulse_alerts_firing Alerts firing now, per rule.',
    '# TYPE clawpulse_alerts_firing gauge',
    ...Object.entries(s.firingByRule).map(([rule, n]) => `clawpulse_alerts_firing{rule="${rule}"} ${n}`),
    '# HELP clawpulse_alerts_fired_total Alerts fired since the start.',
    '# TYPE clawpulse_alerts_fired_total counter',
    `clawpulse_alerts_fired_total ${s.fired}`,
    '# HELP clawpulse_alerts_resolved_total Alerts resolved since the start.',
    '# TYPE clawpulse_alerts_resolved_total counter',
    `clawpulse_alerts_resolved_total ${s.resolved}`,
  ];
  return `${lines.join('\n')}\n`;
}

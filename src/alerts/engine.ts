/**
 * The alert engine: rules say which conditions hold (`rules/rule.ts`); the engine fires an alert
 * for each condition that starts holding, resolves it when the condition stops, stores both
 * (`AlertStore`) and hands both to every destination. Driven by the daemon: `update` on each
 * pipeline update, `tick` on the daemon's tick, `lifecycle` for dispatch events; time comes from
 * the injected clock.
 *
 * - Once per condition: while a condition holds (`key`), nothing more is sent; an alert still
 *   firing in the store at a start is taken up again, not fired twice.
 * - An action (`Condition.act`, the budget guard) runs before the alert goes out; the key counts
 *   as firing meanwhile.
 * - A rule, a store write or a destination that fails is logged and costs nothing else: the
 *   others go on, and ingest never waits on an alert.
 */
import type { LifecycleEvent } from '../dispatch/lifecycle.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { AlertStore } from '../store/alert-store.js';
import { ALERT_RULES, type Alert, type AlertDestination, type AlertRule, resolvedCopy } from './alert.js';
import { type Condition, type Rule, type RuleUpdate, sessionFields } from './rules/rule.js';

export interface AlertEngineDeps {
  rules: Rule[];
  store?: AlertStore;
  destinations: () => readonly AlertDestination[];
  clock: Clock;
  logger: Logger;
}

export interface AlertEngineStats {
  fired: number;
  resolved: number;
  /** firing now, per rule (every rule present) */
  firingByRule: Record<AlertRule, number>;
  sendFailures: number;
  storeFailures: number;
  ruleFailures: number;
}

export interface AlertEngine {
  update(u: Omit<RuleUpdate, 'now'>): void;
  tick(now: number): void;
  lifecycle(e: LifecycleEvent): void;
  /** the alerts firing now, newest first */
  firing(): Alert[];
  stats(): AlertEngineStats;
  /** settles when every action and send under way has (tests, stop) */
  idle(): Promise<void>;
  /** hears every alert fired or resolved, after it was stored (tests, benchmarks) */
  onAlert(fn: (a: Alert) => void): () => void;
}

export function createAlertEngine(deps: AlertEngineDeps): AlertEngine {
  const { clock, logger } = deps;
  const log = logger.child({ component: 'alerts' });
  const active = new Map<string, Alert>();
  /** keys whose action (abort) is under way: firing, not sent yet */
  const pending = new Set<string>();
  const inFlight = new Set<Promise<unknown>>();
  const listeners = new Set<(a: Alert) => void>();
  const ruleNames = new Set(deps.rules.map((r) => r.rule));
  /** the text each holding condition gave for its resolution */
  const resolvedTexts = new Map<string, string>();
  const stats = { fired: 0, resolved: 0, sendFailures: 0, storeFailures: 0, ruleFailures: 0 };

  // alerts firing at the last stop are firing still until a rule says otherwise
  try {
    for (const a of deps.store?.list({ state: 'firing', limit: 1000 }) ?? []) if (a.key) active.set(a.key, a);
  } catch (err) {
    stats.storeFailures++;
    log.error({ err }, 'could not read the firing alerts from the store; they may be sent again');
  }

  const track = <T>(p: Promise<T>): Promise<T> => {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p)).catch(() => {});
    return p;
  };

  function store(what: 'record' | 'resolve', a: Alert): void {
    if (!deps.store) return;
    try {
      if (what === 'record') deps.store.record(a);
      else if (!deps.store.resolve(a.id, a.resolvedAt ?? clock.now(), a.message)) deps.store.record(a);
    } catch (err) {
      stats.storeFailures++;
      log.error({ err, alert: a.id }, 'could not store the alert (it is sent anyway)');
    }
  }

  function deliver(a: Alert): void {
    for (const fn of listeners) {
      try {
        fn(a);
      } catch (err) {
        log.warn({ err }, 'alert listener failed');
      }
    }
    for (const d of deps.destinations()) {
      let p: Promise<void>;
      try {
        p = d.send(a);
      } catch (err) {
        p = Promise.reject(err);
      }
      track(
        p.catch((err) => {
          stats.sendFailures++;
          log.warn({ err, destination: d.name, alert: a.id }, 'alert destination failed');
        }),
      );
    }
  }

  function fire(rule: AlertRule, c: Condition, now: number): void {
    const alert: Alert = {
      id: `${c.key}:${now}`,
      key: c.key,
      rule,
      severity: c.severity,
      state: 'firing',
      ...sessionFields(c.session),
      ...(c.sessionKey ? { sessionKey: c.sessionKey } : {}),
      ...(c.label ? { label: c.label } : {}),
      ...(c.agentId ? { agentId: c.agentId } : {}),
      message: c.message,
      ...(c.value !== undefined ? { value: c.value } : {}),
      ...(c.threshold !== undefined ? { threshold: c.threshold } : {}),
      ...(c.unit ? { unit: c.unit } : {}),
      firedAt: now,
    };
    const send = (a: Alert) => {
      active.set(c.key, a);
      stats.fired++;
      log.info(
        { alert: a.id, rule, severity: a.severity, sessionKey: a.sessionKey, action: a.action },
        a.message,
      );
      store('record', a);
      deliver(a);
    };
    if (!c.act) {
      send(alert);
      return;
    }
    pending.add(c.key);
    const act = c.act;
    track(
      (async () => {
        let action: string;
        try {
          action = await act();
        } catch (err) {
          action = `action failed: ${(err as Error).message ?? String(err)}`;
        }
        pending.delete(c.key);
        send({ ...alert, action });
      })(),
    );
  }

  function resolve(a: Alert, now: number, message: string | undefined): void {
    active.delete(a.key);
    const r = resolvedCopy(a, now, message);
    stats.resolved++;
    log.info({ alert: r.id, rule: r.rule, sessionKey: r.sessionKey }, `resolved: ${r.message}`);
    store('resolve', r);
    deliver(r);
  }

  /** which rule holds each firing key (alerts taken up from the store have none until a full pass) */
  const owner = new Map<string, Rule>();
  /** rules whose state changed since they were last asked for their conditions */
  const dirty = new Set<Rule>();

  /**
   * asks the rules (all of them, or the dirty ones) which conditions hold; fires the new ones and
   * resolves the firing ones their rule no longer holds. A rule not asked keeps its alerts as
   * they are: an update that changed nothing of a rule costs nothing of it.
   */
  function evaluate(now: number, all: boolean): void {
    const asked = all ? deps.rules : deps.rules.filter((r) => dirty.has(r));
    dirty.clear();
    if (!asked.length) return;
    const holding = new Map<string, { rule: Rule; c: Condition }>();
    const failed = new Set<Rule>();
    for (const r of asked) {
      try {
        for (const c of r.conditions(now)) {
          holding.set(c.key, { rule: r, c });
          if (c.resolvedMessage) resolvedTexts.set(c.key, c.resolvedMessage);
        }
      } catch (err) {
        stats.ruleFailures++;
        failed.add(r);
        log.error({ err, rule: r.rule }, 'alert rule failed; its alerts stay as they were');
      }
    }
    for (const [key, { rule, c }] of holding) {
      if (active.has(key) || pending.has(key)) {
        owner.set(key, rule);
        continue;
      }
      owner.set(key, rule);
      fire(rule.rule, c, now);
    }
    const askedSet = new Set(asked);
    for (const a of [...active.values()]) {
      if (holding.has(a.key)) continue;
      const o = owner.get(a.key);
      // a rule not asked, or one that failed, keeps its alerts as they were
      if (o ? !askedSet.has(o) || failed.has(o) : !all || [...failed].some((f) => f.rule === a.rule))
        continue;
      const text = ruleNames.has(a.rule)
        ? (resolvedTexts.get(a.key) ?? `cleared: ${a.message}`)
        : `${a.message} (rule turned off)`;
      resolvedTexts.delete(a.key);
      owner.delete(a.key);
      resolve(a, now, text);
    }
  }

  function updateRules(u: RuleUpdate): void {
    for (const r of deps.rules) {
      try {
        // a rule that says its update changed nothing is not asked again until something does
        if (r.update?.(u) !== false) dirty.add(r);
      } catch (err) {
        stats.ruleFailures++;
        dirty.add(r);
        log.error({ err, rule: r.rule }, 'alert rule failed on an update');
      }
    }
  }

  return {
    update(u) {
      const now = clock.now();
      updateRules({ ...u, now });
      evaluate(now, false);
    },
    tick(now) {
      updateRules({ now, events: [], changed: [] });
      evaluate(now, true);
    },
    lifecycle(e) {
      for (const r of deps.rules) {
        if (!r.lifecycle) continue;
        dirty.add(r);
        try {
          r.lifecycle(e);
        } catch (err) {
          stats.ruleFailures++;
          log.error({ err, rule: r.rule }, 'alert rule failed on a lifecycle event');
        }
      }
      evaluate(clock.now(), false);
    },
    firing: () => [...active.values()].sort((a, b) => b.firedAt - a.firedAt),
    stats() {
      const firingByRule = Object.fromEntries(ALERT_RULES.map((r) => [r, 0])) as Record<AlertRule, number>;
      for (const a of active.values()) firingByRule[a.rule]++;
      return { ...stats, firingByRule };
    },
    async idle() {
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    },
    onAlert(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
}

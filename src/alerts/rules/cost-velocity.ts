/**
 * Cost velocity: what was spent in the last hour (llm.tokens costs by their own time), fleet-wide
 * over `fleetUsdPerHour` and per session over `sessionUsdPerHour` (0 turns either off). Resolved
 * when the hour's spend falls back under the threshold. Spend is kept in one-minute buckets, so
 * memory is 60 numbers per session that spent in the last hour.
 */
import type { SessionState } from '../../model/session.js';
import { type Condition, nameOf, type Rule, usd } from './rule.js';

export interface CostVelocityOptions {
  fleetUsdPerHour: number;
  sessionUsdPerHour: number;
  getSession(key: string): SessionState | undefined;
}

const HOUR = 3_600_000;
const MINUTE = 60_000;

/** costs per minute within the last hour */
class HourWindow {
  private buckets = new Map<number, number>();
  add(ts: number, usd: number): void {
    const m = Math.floor(ts / MINUTE);
    this.buckets.set(m, (this.buckets.get(m) ?? 0) + usd);
  }
  /** the hour ending at `now`; drops older minutes */
  total(now: number): number {
    const from = Math.floor((now - HOUR) / MINUTE);
    let sum = 0;
    for (const [m, v] of this.buckets) {
      if (m <= from) this.buckets.delete(m);
      else sum += v;
    }
    return sum;
  }
  empty(): boolean {
    return this.buckets.size === 0;
  }
}

/** every session's hour is looked at again this often (its spend slides out of the hour) */
const FULL_PASS_MS = 1000;

export function costVelocityRule(opts: CostVelocityOptions): Rule {
  const fleet = new HourWindow();
  const perSession = new Map<string, HourWindow>();
  /** sessions that spent since their hour was last looked at */
  const touched = new Set<string>();
  /** sessions over the threshold, with their hour's spend */
  const over = new Map<string, number>();
  let lastFull = Number.NEGATIVE_INFINITY;
  const check = (key: string, w: HourWindow, now: number) => {
    const v = w.total(now);
    if (w.empty()) perSession.delete(key);
    if (v >= opts.sessionUsdPerHour) over.set(key, v);
    else over.delete(key);
  };
  return {
    rule: 'cost-velocity',
    update(u) {
      let spent = false;
      for (const { event: e } of u.events) {
        if (e.type !== 'llm.tokens' || !(e.costUsd > 0) || e.ts < u.now - HOUR) continue;
        spent = true;
        fleet.add(e.ts, e.costUsd);
        if (opts.sessionUsdPerHour > 0) {
          const w = perSession.get(e.sessionKey) ?? new HourWindow();
          perSession.set(e.sessionKey, w);
          w.add(e.ts, e.costUsd);
          touched.add(e.sessionKey);
        }
      }
      return spent;
    },
    *conditions(now): Iterable<Condition> {
      const total = fleet.total(now);
      if (opts.fleetUsdPerHour > 0 && total >= opts.fleetUsdPerHour) {
        yield {
          key: 'cost-velocity:fleet',
          severity: 'warning',
          message: `the fleet spent ${usd(total)} in the last hour (threshold ${usd(opts.fleetUsdPerHour)}/h)`,
          resolvedMessage: `fleet spend back under ${usd(opts.fleetUsdPerHour)}/h`,
          value: round(total),
          threshold: opts.fleetUsdPerHour,
          unit: 'usd/h',
        };
      }
      if (opts.sessionUsdPerHour > 0) {
        if (now - lastFull >= FULL_PASS_MS) {
          lastFull = now;
          for (const [key, w] of perSession) check(key, w, now);
        } else {
          for (const key of touched) {
            const w = perSession.get(key);
            if (w) check(key, w, now);
          }
        }
        touched.clear();
      }
      for (const [key, v] of over) {
        const s = opts.getSession(key);
        yield {
          key: `cost-velocity:${key}`,
          severity: 'warning',
          ...(s ? { session: s } : { sessionKey: key }),
          message: `${s ? nameOf(s) : key} spent ${usd(v)} in the last hour (threshold ${usd(opts.sessionUsdPerHour)}/h)`,
          resolvedMessage: `${s ? nameOf(s) : key} back under ${usd(opts.sessionUsdPerHour)}/h`,
          value: round(v),
          threshold: opts.sessionUsdPerHour,
          unit: 'usd/h',
        };
      }
    },
  };
}

const round = (v: number) => Math.round(v * 10_000) / 10_000;

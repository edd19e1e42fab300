/**
 * The contract every AlertStore implementation must pass (SQLite: sqlite-alerts.test.ts,
 * PostgreSQL: pg/pg-alerts.test.ts). `open(id)` opens the store named `id` (the same id is the
 * same data, each call its own connection).
 */
import { describe, expect, it } from 'vitest';
import type { Alert } from '../alerts/alert.js';
import type { AlertStore } from './alert-store.js';

export interface AlertStoreHarness {
  open(id: string): Promise<{ alerts: AlertStore; close(): void | Promise<void> }>;
}

const T0 = Date.parse('2026-12-07T10:00:00.000Z');

export function alertOf(over: Partial<Alert> = {}): Alert {
  const rule = over.rule ?? 'stuck';
  const sessionKey = over.sessionKey ?? 'agent:main:main';
  const firedAt = over.firedAt ?? T0;
  return {
    id: `${rule}:${sessionKey}:${firedAt}`,
    key: `${rule}:${sessionKey}`,
    rule,
    severity: 'warning',
    state: 'firing',
    sessionKey,
    agentId: 'main',
    message: `session ${sessionKey} stuck`,
    firedAt,
    ...over,
  };
}

export function describeAlertStoreContract(name: string, harness: AlertStoreHarness): void {
  describe(`alert store contract (${name})`, () => {
    it('records an alert and reads it back whole, every field as given', async () => {
      const { alerts, close } = await harness.open('whole');
      const a = alertOf({
        rule: 'budget',
        severity: 'critical',
        label: 'nightly',
        host: 'h1',
        gateway: 'gw',
        channel: { provider: 'mattermost', channelId: 'c'.repeat(26), threadId: 'root1' },
        value: 5.25,
        threshold: 5,
        unit: 'usd',
        action: 'aborted the run',
      });
      alerts.record(a);
      expect(alerts.get(a.id)).toEqual(a);
      expect(alerts.get('nope')).toBeUndefined();
      await close();
    });

    it('resolves a firing alert once: the same id, resolvedAt and the new message; a second resolve is refused', async () => {
      const { alerts, close } = await harness.open('resolve');
      const a = alertOf();
      alerts.record(a);
      const r = alerts.resolve(a.id, T0 + 60_000, 'no longer stuck');
      expect(r).toMatchObject({
        id: a.id,
        state: 'resolved',
        resolvedAt: T0 + 60_000,
        message: 'no longer stuck',
      });
      expect(alerts.get(a.id)).toEqual(r);
      expect(alerts.resolve(a.id, T0 + 120_000)).toBeUndefined();
      expect(alerts.get(a.id)?.resolvedAt).toBe(T0 + 60_000);
      expect(alerts.resolve('unknown', T0)).toBeUndefined();
      await close();
    });

    it('lists firing first (newest first), then resolved (most recently resolved first), with filters and a limit', async () => {
      const { alerts, close } = await harness.open('list');
      const old = alertOf({ sessionKey: 's1', firedAt: T0 });
      const mid = alertOf({ sessionKey: 's2', firedAt: T0 + 1000, rule: 'loop' });
      const recent = alertOf({ sessionKey: 's3', firedAt: T0 + 2000 });
      const fleet = alertOf({
        sessionKey: undefined,
        id: 'error-burst:fleet:1',
        key: 'error-burst:fleet',
        rule: 'error-burst',
        firedAt: T0 + 500,
      });
      for (const a of [old, mid, recent, fleet]) alerts.record(a);
      alerts.resolve(old.id, T0 + 5000);
      alerts.resolve(mid.id, T0 + 3000);
      expect(alerts.list().map((a) => a.id)).toEqual([recent.id, fleet.id, old.id, mid.id]);
      expect(alerts.list({ state: 'firing' }).map((a) => a.id)).toEqual([recent.id, fleet.id]);
      expect(alerts.list({ state: 'resolved' }).map((a) => a.id)).toEqual([old.id, mid.id]);
      expect(alerts.list({ rule: 'loop' }).map((a) => a.id)).toEqual([mid.id]);
      expect(alerts.list({ sessionKey: 's3' }).map((a) => a.id)).toEqual([recent.id]);
      expect(alerts.list({ since: T0 + 1000 }).map((a) => a.id)).toEqual([recent.id, mid.id]);
      expect(alerts.list({ limit: 2 }).map((a) => a.id)).toEqual([recent.id, fleet.id]);
      expect(fleet.sessionKey).toBeUndefined();
      expect(alerts.get(fleet.id)?.sessionKey).toBeUndefined();
      await close();
    });

    it('counts firing alerts per rule, every rule present', async () => {
      const { alerts, close } = await harness.open('counts');
      alerts.record(alertOf({ sessionKey: 'a' }));
      alerts.record(alertOf({ sessionKey: 'b' }));
      alerts.record(alertOf({ sessionKey: 'c', rule: 'budget' }));
      const done = alertOf({ sessionKey: 'd', rule: 'loop' });
      alerts.record(done);
      alerts.resolve(done.id, T0 + 1);
      const c = alerts.counts();
      expect(c.firing).toBe(3);
      expect(c.resolved).toBe(1);
      expect(c.firingByRule).toEqual({
        stuck: 2,
        'run-failed': 0,
        'error-burst': 0,
        'cost-velocity': 0,
        loop: 0,
        budget: 1,
      });
      await close();
    });

    it('prunes only resolved alerts resolved before the cut', async () => {
      const { alerts, close } = await harness.open('prune');
      const a = alertOf({ sessionKey: 'a' });
      const b = alertOf({ sessionKey: 'b' });
      const firing = alertOf({ sessionKey: 'c', firedAt: T0 - 10 * 86_400_000 });
      for (const x of [a, b, firing]) alerts.record(x);
      alerts.resolve(a.id, T0 + 1000);
      alerts.resolve(b.id, T0 + 9000);
      expect(alerts.prune(T0 + 5000)).toBe(1);
      expect(alerts.get(a.id)).toBeUndefined();
      expect(alerts.get(b.id)?.state).toBe('resolved');
      expect(alerts.get(firing.id)?.state).toBe('firing');
      await close();
    });

    it('keeps what a second connection recorded', async () => {
      const one = await harness.open('shared');
      const two = await harness.open('shared');
      one.alerts.record(alertOf({ sessionKey: 'x' }));
      expect(two.alerts.list().map((a) => a.sessionKey)).toEqual(['x']);
      await one.close();
      await two.close();
    });
  });
}

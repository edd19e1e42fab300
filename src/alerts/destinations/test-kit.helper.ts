/**
 * For the destination tests: an alert builder, a harness that runs a destination on a manual
 * clock with a logger whose lines the test reads, and the check that no secret leaked into
 * the logs or the /health row.
 */
import { expect } from 'vitest';
import { captureLogger } from '../../../test/support/http-receiver.js';
import { ManualClock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import type { Alert, AlertDestination } from '../alert.js';

export const T0 = 1_765_090_000_000;

export function firing(over: Partial<Alert> = {}): Alert {
  return {
    id: `stuck:agent:main:main:${T0}`,
    key: 'stuck:agent:main:main',
    rule: 'stuck',
    severity: 'critical',
    state: 'firing',
    sessionKey: 'agent:main:main',
    label: 'triage inbox',
    agentId: 'main',
    host: 'box-1',
    message: 'session agent:main:main stuck for 12 min in exec',
    value: 720_000,
    threshold: 300_000,
    unit: 'ms',
    firedAt: T0,
    ...over,
  };
}

export function resolved(a: Alert, at = a.firedAt + 15 * 60_000): Alert {
  return { ...a, state: 'resolved', resolvedAt: at, message: `${a.message} (cleared)` };
}

export interface Harness<D extends AlertDestination> {
  clock: ManualClock;
  dest: D;
  lines: string[];
  /** stops the destination (moving the clock past its stop deadline) */
  stop(): Promise<void>;
}

export function harness<D extends AlertDestination>(
  make: (clock: ManualClock, logger: Logger) => D,
): Harness<D> {
  const clock = new ManualClock(T0);
  const { logger, lines } = captureLogger();
  const dest = make(clock, logger);
  return {
    clock,
    dest,
    lines,
    async stop() {
      const p = dest.stop?.();
      clock.advance(60_000);
      await p;
    },
  };
}

/** every secret is absent from what was logged and from the /health row, whole and in pieces */
export function expectNoSecrets(h: Harness<AlertDestination>, secrets: string[]): void {
  const seen = `${h.lines.join('\n')}\n${JSON.stringify(h.dest.health())}`;
  for (const s of secrets) {
    expect(seen).not.toContain(s);
    expect(seen).not.toContain(encodeURIComponent(s));
    for (let i = 0; i + 12 <= s.length; i += 6) expect(seen).not.toContain(s.slice(i, i + 12));
  }
}

/** the queue knobs the tests use: no jitter, a breaker that opens after two refusals */
export const TEST_QUEUE = { random: () => 0, breakerThreshold: 2, breakerCooldownMs: 30_000 };
/** a pace that never holds a test back (the pace has its own test) */
export const NO_PACE = { perSec: 1000, burst: 1000 };

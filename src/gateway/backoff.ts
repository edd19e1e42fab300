/**
 * Reconnect delays: capped exponential backoff with "equal jitter" (half fixed, half random),
 * so a restarted gateway is not hit by every client at the same instant, yet a client never
 * waits less than half the nominal delay.
 */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1000, maxMs: 30_000 };

/** delay before reconnect attempt `attempt` (1-based) */
export function backoffDelay(attempt: number, o: BackoffOptions, random: () => number): number {
  const exp = Math.min(o.maxMs, o.baseMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(exp / 2 + (exp / 2) * r);
}

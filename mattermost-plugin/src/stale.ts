/**
 * Orphaned boxes: with no server part, staleness is decided where the box is drawn. A box still
 * live (active / idle / stuck) whose last update is older than its `stale_after_ms` (the daemon
 * sets it; 10 min when absent) is shown as stale: the daemon may have died and left it behind.
 */
import { DEFAULT_STALE_AFTER_MS, type LiveStatus } from '../../src/render/livestatus-props.js';
import { isLive } from './validate.js';

export function isStale(
  status: LiveStatus,
  updatedAt: number,
  staleAfterMs: number | undefined,
  now: number,
) {
  if (!isLive(status) || !(updatedAt > 0)) return false;
  return now - updatedAt > (staleAfterMs ?? DEFAULT_STALE_AFTER_MS);
}

/** "14:02" in the viewer's time zone (a date is added when it is not today). */
export function formatClock(ms: number, now = ms): string {
  const d = new Date(ms);
  const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  const today = new Date(now);
  return d.toDateString() === today.toDateString()
    ? hm
    : `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')} ${hm}`;
}

export function staleText(updatedAt: number, now: number): string {
  return `no update since ${formatClock(updatedAt, now)} — is clawpulse running?`;
}

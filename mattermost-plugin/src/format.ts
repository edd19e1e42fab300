/** Small text formatters shared by the post, the panel and the widget (same look as the text box). */
import { markEstimatedCost } from '../../src/render/cost-mark.js';

export { ESTIMATED_COST_TITLE } from '../../src/render/cost-mark.js';

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h${String(m % 60).padStart(2, '0')}m`;
}

/** Tool calls are often sub-second; show that instead of "0s". */
export function formatToolDuration(ms: number): string {
  if (ms < 0 || !Number.isFinite(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  return formatDuration(ms);
}

export function formatTokens(n: number): string {
  if (n < 1000) return `${Math.round(n)} tokens`;
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)}k tokens`;
  return `${(n / 1_000_000).toFixed(2)}M tokens`;
}

export function formatCost(usd: number): string {
  if (usd <= 0) return '';
  return usd < 0.01 ? '<$0.01' : `$${usd.toFixed(2)}`;
}

/** `~$0.42 est.` when the daemon priced it from its price table (props `costEstimated`), else as formatCost */
export function formatCostMarked(usd: number, estimated: boolean | undefined): string {
  return markEstimatedCost(formatCost(usd), estimated);
}

/** How long a session has run: to its end, or to now (never before the daemon's last update). */
export function elapsedMs(
  startedAt: number,
  endedAt: number | undefined,
  now: number,
  updatedAt = 0,
): number {
  if (!startedAt) return 0;
  const end = endedAt ?? Math.max(now, updatedAt);
  return Math.max(0, end - startedAt);
}

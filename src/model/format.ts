/**
 * Durations as every output shows them: `38s`, `2m05s`, `1h02m` (days roll into hours: `49h00m`).
 * Lives in the model because model notes ("no activity for 5m00s") use it too.
 */
export function formatDuration(ms: number): string {
  const total = Number.isFinite(ms) && ms > 0 ? Math.floor(ms / 1000) : 0;
  if (total < 60) return `${total}s`;
  if (total < 3600) {
    const m = Math.floor(total / 60);
    return `${m}m${pad2(total % 60)}s`;
  }
  const h = Math.floor(total / 3600);
  return `${h}h${pad2(Math.floor((total % 3600) / 60))}m`;
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** Display formatting shared by the dashboard views. */
import type { SessionStatus } from '../../src/model/session.js';
import { formatCostMarked } from '../../src/render/format.js';

export { ESTIMATED_COST_TITLE } from '../../src/render/cost-mark.js';

export function fmtDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function fmtMs(ms: number | undefined): string {
  if (ms === undefined) return '';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

const trim1 = (x: number): string => x.toFixed(1).replace(/\.0$/, '');

/** `950`, `12.4k`, `1.2M`: the same as the status boxes in chat and the terminal */
export function fmtTokens(n: number): string {
  const v = Number.isFinite(n) && n > 0 ? Math.round(n) : 0;
  if (v < 1000) return String(v);
  if (v < 999_950) return `${trim1(v / 1000)}k`;
  return `${trim1(v / 1_000_000)}M`;
}

export function fmtCost(usd: number): string {
  if (!usd) return '$0';
  if (usd < 0.01) return `$${usd.toFixed(4)}`;
  if (usd < 100) return `$${usd.toFixed(2)}`;
  return `$${Math.round(usd)}`;
}

/**
 * `$0.42`, or `~$0.42 est.` when (part of) it was priced from the price table because the
 * source reported no cost: the boxes' and the CLI's formatCostMarked, with `$0` for nothing
 * spent as the dashboard shows it. Put ESTIMATED_COST_TITLE on a marked cost.
 */
export function fmtCostMarked(usd: number, estimated: boolean | undefined): string {
  return formatCostMarked(usd, estimated) || '$0';
}

// one formatter: toLocaleTimeString builds a new one per call, which is slow across a feed
const timeFormat = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hour12: false,
});

export function fmtTime(ts: number): string {
  return timeFormat.format(ts);
}

/** stuck and failed first, then running, then finished */
export const STATUS_RANK: Record<SessionStatus, number> = {
  stuck: 0,
  error: 1,
  active: 2,
  idle: 3,
  interrupted: 4,
  done: 5,
};

export const STATUSES: SessionStatus[] = ['stuck', 'error', 'active', 'idle', 'interrupted', 'done'];

/**
 * Small formatters every view shares: token counts, status tags, names, elapsed time and
 * the one-line footer detail (last error, stop/stuck note).
 */
import { formatDuration } from '../model/format.js';
import type { SessionState } from '../model/session.js';
import { truncateCodePoints } from '../model/text.js';

export { formatDuration };

/** `950`, `12.4k`, `1.2M` (one decimal, `.0` dropped) */
export function formatTokens(n: number): string {
  const v = Number.isFinite(n) && n > 0 ? Math.round(n) : 0;
  if (v < 1000) return String(v);
  if (v < 999_950) return `${trim1(v / 1000)}k`;
  return `${trim1(v / 1_000_000)}M`;
}

const trim1 = (x: number): string => x.toFixed(1).replace(/\.0$/, '');

export const statusTag = (s: Pick<SessionState, 'status'>): string => `[${s.status.toUpperCase()}]`;

/** what a box calls a session: its label, display name, else the agent id (root) or key tail (child) */
export const NAME_MAX = 48;

export function sessionName(s: SessionState, isChild = false): string {
  // display names can be a whole first message (2026.9 derives titles): keep headers one short line
  if (s.label) return truncateCodePoints(oneLine(s.label), NAME_MAX);
  if (s.displayName) return truncateCodePoints(oneLine(s.displayName), NAME_MAX);
  if (!isChild) return s.agentId;
  const tail = s.key.slice(s.key.lastIndexOf(':') + 1);
  return tail.length > 12 ? tail.slice(0, 8) : tail || s.key;
}

const oneLine = (x: string): string => x.replace(/\s+/g, ' ').trim();

/** time of the current activation: to its end, or to `now` while it runs */
export function elapsedMs(s: SessionState, now: number): number {
  const from = s.activeSince ?? s.startedAt;
  const to = s.endedAt ?? (s.status === 'active' || s.status === 'stuck' ? now : s.lastEventAt);
  return Math.max(0, to - from);
}

export const ERROR_BRIEF_MAX = 60;

/** `529 overloaded` */
export function errorBrief(s: SessionState): string | undefined {
  const e = s.errors.at(-1);
  if (!e) return undefined;
  const msg = e.message.replace(/\s+/g, ' ').trim();
  const text = e.status !== undefined && !msg.startsWith(String(e.status)) ? `${e.status} ${msg}` : msg;
  return truncateCodePoints(text, ERROR_BRIEF_MAX);
}

/** the detail a footer shows after the duration, when there is one */
export function footerDetail(s: SessionState): string | undefined {
  if (s.status === 'error') return errorBrief(s) ?? s.note;
  if (s.status === 'idle' || s.status === 'active') return undefined;
  return s.note;
}

/** `[DONE] 53s | stopped after … | 12.4k tokens` (tokens only when asked and non-zero) */
export function footerLine(s: SessionState, now: number, withTokens: boolean): string {
  const parts = [`${statusTag(s)} ${formatDuration(elapsedMs(s, now))}`];
  const detail = footerDetail(s);
  if (detail) parts.push(detail);
  if (withTokens && s.tokens.total > 0) parts.push(`${formatTokens(s.tokens.total)} tokens`);
  return parts.join(' | ');
}

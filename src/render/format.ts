/**
 * Small formatters every view shares: token counts, status tags, names, elapsed time and
 * the one-line footer detail (last error, stop/stuck note).
 */
import { formatDuration } from '../model/format.js';
import type { SessionState } from '../model/session.js';
import { openclawKey } from '../model/session-scope.js';
import { truncateCodePoints } from '../model/text.js';
import { markEstimatedCost } from './cost-mark.js';

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

/** a session key without its `agent:<id>:` prefix (the box header names the agent): `conf-fail` */
export function shortKey(key: string): string {
  // a named gateway's or host's session (`<scope>|agent:…`): its scope is shown apart ("on <gateway>")
  const k = openclawKey(key);
  const m = /^agent:[^:]+:(.+)$/.exec(k);
  return m?.[1] ?? k;
}

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

/** `$0.0042`, `$0.42`, `$123`; empty for nothing spent */
export function formatCost(usd: number): string {
  if (!Number.isFinite(usd) || usd <= 0) return '';
  if (usd < 0.01) return `$${usd.toFixed(4)}`;
  if (usd < 100) return `$${usd.toFixed(2)}`;
  return `$${Math.round(usd)}`;
}

/** a cost clawpulse priced itself (the source gave none: src/usage/estimate.ts) reads `~$0.12 est.` */
export function formatCostMarked(usd: number, estimated: boolean | undefined): string {
  return markEstimatedCost(formatCost(usd), estimated);
}

export const ERROR_BRIEF_MAX = 60;

/**
 * An error as one readable line: `529 Overloaded`. A provider's JSON body is reduced to its
 * message (`529 {"type":"error","error":{"message":"Overloaded"}}` → `529 Overloaded`), and the
 * status is put in front only when the text does not already carry it (no `529 529 …`).
 */
export function errorText(e: { message: string; status?: number }): string {
  let msg = e.message.replace(/\s+/g, ' ').trim();
  const brace = msg.indexOf('{');
  if (brace >= 0 && msg.endsWith('}')) {
    const inner = jsonMessage(msg.slice(brace));
    if (inner) msg = `${msg.slice(0, brace).trim()} ${inner}`.trim();
  }
  if (e.status === undefined || new RegExp(`\\b${e.status}\\b`).test(msg)) return msg;
  return msg ? `${e.status} ${msg}` : String(e.status);
}

function jsonMessage(text: string): string | undefined {
  try {
    const o = JSON.parse(text) as { message?: unknown; error?: unknown };
    const err = o.error;
    if (err && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string')
      return (err as { message: string }).message;
    if (typeof err === 'string') return err;
    if (typeof o.message === 'string') return o.message;
  } catch {
    // not JSON: keep the text
  }
  return undefined;
}

/** `529 Overloaded`: the newest error, cut to ERROR_BRIEF_MAX */
export function errorBrief(s: SessionState): string | undefined {
  const e = s.errors.at(-1);
  if (!e) return undefined;
  return truncateCodePoints(errorText(e), ERROR_BRIEF_MAX);
}

/** the detail a footer shows after the duration, when there is one */
export function footerDetail(s: SessionState): string | undefined {
  if (s.status === 'error') return errorBrief(s) ?? s.note;
  if (s.status === 'idle' || s.status === 'active') return undefined;
  return s.note;
}

/**
 * `[ERROR] 3s | 529 Overloaded | 12.4k tokens | $0.42`: status and duration, the detail when
 * there is one, then tokens and cost when asked for and non-zero. Every view's footer.
 */
export function footerLine(s: SessionState, now: number, withTokens: boolean): string {
  const parts = [`${statusTag(s)} ${formatDuration(elapsedMs(s, now))}`];
  const detail = footerDetail(s);
  if (detail) parts.push(detail);
  if (withTokens) {
    if (s.tokens.total > 0) parts.push(`${formatTokens(s.tokens.total)} tokens`);
    const cost = formatCostMarked(s.costUsd, s.costEstimated);
    if (cost) parts.push(cost);
  }
  return parts.join(' | ');
}

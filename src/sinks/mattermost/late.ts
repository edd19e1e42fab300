/**
 * Late boxes: a turn that ended before its box could be posted (Mattermost was down, or the
 * daemon was, and read the turn afterwards) still gets its box, posted late with its final
 * state, so every turn has one. A long outage must not flood a channel with them, though: at
 * most LATE_BOXES_PER_CHANNEL late boxes go to one channel per LATE_WINDOW_MS (and per daemon
 * run); the turns past that are counted in one summary post per channel and window, edited as
 * more arrive.
 *
 * "Late" = the box would be created showing a turn that ended more than LATE_AFTER_MS ago.
 * Boxes that already have a post are never held back (their final state is an edit, not a new
 * post), nor are turns that ended moments ago (a fast turn, a quick restart).
 */
import type { Clock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import type { Box, BoxContent, BoxRecord } from './box.js';
import type { BoxRecords } from './records.js';
import { FINISHED } from './records.js';
import { quote } from './text.js';

export const LATE_AFTER_MS = 60_000;
export const LATE_BOXES_PER_CHANNEL = 5;
export const LATE_WINDOW_MS = 3_600_000;
/** root keys of summary posts' records */
export const SUMMARY_PREFIX = 'summary:';
/** sessions listed by name in one summary post; the rest are counted */
const MAX_LISTED = 40;

interface SessionCount {
  n: number;
  statuses: Record<string, number>;
  last: number;
}

export interface SummaryCounts {
  total: number;
  first: number;
  sessions: Record<string, SessionCount>;
}

export interface LateGateDeps {
  clock: Clock;
  logger: Logger;
  records: BoxRecords;
  /** a Box for a summary record (the sink owns boxes: client, breaker, pace) */
  openSummaryBox: (rec: BoxRecord, lookup: boolean) => Box;
  newPendingPostId: () => string;
  maxPerChannel?: number;
  windowMs?: number;
  lateAfterMs?: number;
}

export interface LateGate {
  isLate(c: BoxContent): boolean;
  /** asked before a box is created: false = counted in the channel's summary instead */
  admit(rec: BoxRecord, c: BoxContent): boolean;
  /** a summary post whose last count had not reached the server when the daemon stopped */
  resume(rec: BoxRecord): void;
  stats(): { late: number; summarised: number };
}

const utc = (ms: number) => `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;

export function summaryText(sum: SummaryCounts, maxPerChannel: number): string {
  const head =
    `clawpulse: ${sum.total} more turn${sum.total === 1 ? '' : 's'} ended while their status boxes could not ` +
    `be posted (Mattermost or clawpulse was unavailable). At most ${maxPerChannel} late boxes are posted ` +
    'per channel per hour; these are counted here instead.';
  const names = Object.keys(sum.sessions).sort();
  const lines = names.slice(0, MAX_LISTED).map((name) => {
    const c = sum.sessions[name] as SessionCount;
    const how = Object.entries(c.statuses)
      .map(([st, n]) => `${n} ${st}`)
      .join(', ');
    return `- ${name}: ${c.n} turn${c.n === 1 ? '' : 's'} (${how}), the last ended ${utc(c.last)}`;
  });
  if (names.length > MAX_LISTED) lines.push(`- and ${names.length - MAX_LISTED} more sessions`);
  return quote([head, ...lines].join('\n'));
}

export function createLateGate(deps: LateGateDeps): LateGate {
  const { clock } = deps;
  const max = deps.maxPerChannel ?? LATE_BOXES_PER_CHANNEL;
  const windowMs = deps.windowMs ?? LATE_WINDOW_MS;
  const lateAfter = deps.lateAfterMs ?? LATE_AFTER_MS;
  const windows = new Map<string, { start: number; posted: number; summary?: Box }>();
  const stats = { late: 0, summarised: 0 };

  const isLate = (c: BoxContent) =>
    FINISHED.has(c.status) && c.endedAt !== undefined && clock.now() - c.endedAt > lateAfter;

  function summarise(channelId: string, w: { start: number; summary?: Box }, c: BoxContent): void {
    const now = clock.now();
    if (!w.summary) {
      const rec: BoxRecord = {
        v: 1,
        rootKey: `${SUMMARY_PREFIX}${channelId}:${w.start}`,
        turn: 1,
        pendingPostId: deps.newPendingPostId(),
        channelId,
        type: '',
        recreated: 0,
        createdAt: now,
        lastStatus: 'done',
        summary: { total: 0, first: c.endedAt ?? now, sessions: {} },
      };
      w.summary = deps.openSummaryBox(rec, false);
    }
    const rec = w.summary.record;
    const sum = rec.summary as SummaryCounts;
    const name = c.name ?? 'session';
    const entry = sum.sessions[name] ?? { n: 0, statuses: {}, last: 0 };
    entry.n++;
    entry.statuses[c.status] = (entry.statuses[c.status] ?? 0) + 1;
    entry.last = Math.max(entry.last, c.endedAt ?? now);
    sum.sessions[name] = entry;
    sum.total++;
    const text = summaryText(sum, max);
    const content: BoxContent = { status: 'done', text, summary: text };
    rec.final = content;
    rec.closed = undefined;
    deps.records.save(rec);
    w.summary.update(content);
  }

  return {
    isLate,
    admit(rec, c) {
      // a box admitted once keeps its place through its create's retries
      if (rec.late || rec.rootKey.startsWith(SUMMARY_PREFIX) || !isLate(c)) return true;
      const now = clock.now();
      let w = windows.get(rec.channelId);
      if (!w || now - w.start >= windowMs) {
        w = { start: now, posted: 0 };
        windows.set(rec.channelId, w);
      }
      if (w.posted < max) {
        w.posted++;
        stats.late++;
        rec.late = true;
        deps.records.save(rec);
        return true;
      }
      stats.summarised++;
      deps.logger.info(
        { rootKey: rec.rootKey, channelId: rec.channelId },
        'late status box counted in the channel summary instead of posted',
      );
      summarise(rec.channelId, w, c);
      return false;
    },
    resume(rec) {
      if (!rec.final) return;
      deps.openSummaryBox(rec, !rec.postId).update(rec.final);
    },
    stats: () => ({ ...stats }),
  };
}

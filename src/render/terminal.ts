/**
 * Frames for `clawpulse tail`: several status boxes, coloured by status, fitted to the
 * terminal width (wide CJK/emoji count 2 columns) and height, plus the escape sequences to
 * redraw in place. Pure functions returning strings; the CLI writes them.
 */
import type { SessionState, SessionStatus } from '../model/session.js';
import { shortKey } from './format.js';
import { type BodyLine, CUT_MARKER, fitBody, type SessionLookup, statusBoxParts } from './status-box.js';
import type { ToolLabels } from './tool-labels.js';

export const ESC = {
  home: '\x1b[H',
  clearScreen: '\x1b[2J',
  clearLine: '\x1b[K',
  clearBelow: '\x1b[J',
  hideCursor: '\x1b[?25l',
  showCursor: '\x1b[?25h',
  reset: '\x1b[0m',
} as const;

const STATUS_SGR: Record<SessionStatus, string> = {
  active: '32',
  idle: '36',
  done: '90',
  error: '31',
  interrupted: '33',
  stuck: '1;35',
};

/** CSI sequences (colour, cursor, clear): what `stripAnsi` removes */
const CSI = new RegExp(`${String.fromCharCode(27)}\\[[\\d;?]*[A-Za-z]`, 'g');
export const stripAnsi = (s: string): string => s.replace(CSI, '');

export const colorize = (text: string, sgr: string, on: boolean): string =>
  on ? `\x1b[${sgr}m${text}${ESC.reset}` : text;
export const statusColor = (status: SessionStatus): string => STATUS_SGR[status] ?? '0';

export interface TerminalFrameOptions {
  now: number;
  toolLabels: ToolLabels;
  /** columns; lines longer are cut with `…` (or wrapped with `wrap`) */
  width: number;
  /** rows; a frame taller than this ends with a `… N more lines` row */
  height?: number;
  color?: boolean;
  wrap?: boolean;
  /** per box, as in the status box */
  maxChars?: number;
}

/** columns a code point takes: 0 for combining marks/zero-width, 2 for wide East Asian and emoji */
export function charWidth(cp: number): number {
  if (cp === 0 || (cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f) || cp === 0xfe0f) return 0;
  if (cp < 0x1100) return 1;
  if (
    cp <= 0x115f ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += charWidth(ch.codePointAt(0) ?? 0);
  return w;
}

/** cuts to at most `width` columns, ending with `…` when cut */
export function truncateToWidth(s: string, width: number): string {
  if (width <= 0) return '';
  if (s.length <= width && displayWidth(s) <= width) return s;
  if (displayWidth(s) <= width) return s;
  let w = 0;
  let out = '';
  for (const ch of s) {
    const cw = charWidth(ch.codePointAt(0) ?? 0);
    if (w + cw > width - 1) break;
    out += ch;
    w += cw;
  }
  return `${out}…`;
}

/** splits into rows of at most `width` columns; continuation rows keep the line's indent + 2 */
export function wrapToWidth(s: string, width: number): string[] {
  if (width <= 0) return [''];
  if (displayWidth(s) <= width) return [s];
  const indent = ' '.repeat(Math.min(s.length - s.trimStart().length + 2, Math.max(0, width - 4)));
  const rows: string[] = [];
  let row = '';
  let w = 0;
  for (const ch of s) {
    const cw = charWidth(ch.codePointAt(0) ?? 0);
    if (w + cw > width) {
      rows.push(row);
      row = indent;
      w = indent.length;
    }
    row += ch;
    w += cw;
  }
  if (row.trim()) rows.push(row);
  return rows;
}

interface Row {
  text: string;
  sgr?: string;
}

/** one box as terminal rows: the separator naming the session and the header, the body, the footer */
interface BoxRows {
  head: Row[];
  body: Row[];
  foot: Row[];
}

/** which boxes come first: those that need a look (stuck, failed), then running, then finished */
const BOX_RANK: Record<SessionStatus, number> = {
  stuck: 0,
  error: 1,
  active: 2,
  idle: 3,
  interrupted: 4,
  done: 5,
};

/** a live tree with a stuck sub-agent ranks as stuck: its box is where the stuck one shows */
function hasStuck(s: SessionState, lookup: SessionLookup, depth: number, seen: Set<string>): boolean {
  if (s.status === 'stuck') return true;
  if (depth >= 8) return false;
  for (const k of s.children) {
    const c = lookup(k);
    if (c && !seen.has(k)) {
      seen.add(k);
      if (hasStuck(c, lookup, depth + 1, seen)) return true;
    }
  }
  return false;
}

export function boxRank(root: SessionState, lookup: SessionLookup): number {
  const r = BOX_RANK[root.status] ?? 9;
  if (r > 0 && (root.status === 'active' || root.status === 'idle') && hasStuck(root, lookup, 0, new Set()))
    return 0;
  return r;
}

/** stuck and failed boxes first (never hidden under "… N more lines"), the given order kept within a rank */
export function orderBoxes(roots: readonly SessionState[], lookup: SessionLookup): SessionState[] {
  return roots
    .map((r, i) => ({ r, i, rank: boxRank(r, lookup) }))
    .sort((a, b) => a.rank - b.rank || a.i - b.i)
    .map((x) => x.r);
}

/** `── conf-fail ─────`: above each box, naming its session by its key without `agent:<id>:` */
export function separatorRow(key: string, width: number): string {
  const lead = `── ${shortKey(key)} `;
  const w = displayWidth(lead);
  return w >= width ? truncateToWidth(lead.trimEnd(), width) : lead + '─'.repeat(width - w);
}

function boxRows(root: SessionState, lookup: SessionLookup, o: TerminalFrameOptions, width: number): BoxRows {
  const parts = statusBoxParts(root, lookup, { now: o.now, toolLabels: o.toolLabels });
  const fit = fitBody(parts.header, parts.body, parts.footer, o.maxChars);
  const fitted = (rows: Row[]): Row[] =>
    rows.flatMap((row) =>
      (o.wrap ? wrapToWidth(row.text, width) : [truncateToWidth(row.text, width)]).map((text) => ({
        text,
        sgr: row.sgr,
      })),
    );
  const body: Row[] = [];
  if (fit.cut) body.push({ text: CUT_MARKER, sgr: '90' });
  for (const l of fit.body) body.push({ text: l.text, sgr: lineSgr(l) });
  return {
    head: [
      { text: separatorRow(root.key, width), sgr: '90' },
      ...fitted([{ text: parts.header, sgr: `1;${statusColor(root.status)}` }]),
    ],
    body: fitted(body),
    foot: parts.footer ? fitted([{ text: parts.footer, sgr: statusColor(root.status) }]) : [],
  };
}

function lineSgr(l: BodyLine): string | undefined {
  if (l.kind === 'tool') return l.status === 'error' ? '31' : l.status === 'ok' ? undefined : '33';
  if (l.kind === 'subagent' || l.kind === 'footer')
    return l.status ? statusColor(l.status as SessionStatus) : undefined;
  if (l.kind === 'system') return '90';
  return undefined;
}

/**
 * How many body rows each box keeps within `budget`: everyone gets an equal share, and what a
 * short box leaves over goes to the longer ones (the newest rows are the ones kept).
 */
export function shareRows(lengths: readonly number[], budget: number): number[] {
  const give = lengths.map(() => 0);
  const order = lengths.map((n, i) => ({ n, i })).sort((a, b) => a.n - b.n);
  let left = Math.max(0, budget);
  order.forEach(({ n, i }, k) => {
    const share = Math.floor(left / (order.length - k));
    give[i] = Math.min(n, share);
    left -= give[i] ?? 0;
  });
  return give;
}

/**
 * The whole frame: each box under a separator naming its session, stuck and failed boxes
 * first, every row fitted to the width. Taller than `height`: every box keeps its header and
 * footer and the newest rows of its body fairly shared (`… N earlier lines` marks a cut); only
 * when even the headers do not fit does the frame end with `… N more lines`.
 */
export function renderTerminalFrame(
  roots: readonly SessionState[],
  lookup: SessionLookup,
  o: TerminalFrameOptions,
): string {
  const color = o.color ?? false;
  const width = Math.max(8, Math.floor(o.width));
  const boxes = orderBoxes(roots, lookup).map((r) => boxRows(r, lookup, o, width));
  const paint = (r: Row) => (r.sgr ? colorize(r.text, r.sgr, color) : r.text);
  const total = boxes.reduce((n, b) => n + b.head.length + b.body.length + b.foot.length, 0);
  const fixed = boxes.reduce((n, b) => n + b.head.length + b.foot.length, 0);
  const out: string[] = [];
  if (o.height === undefined || total <= o.height || fixed > o.height) {
    for (const b of boxes) for (const r of [...b.head, ...b.body, ...b.foot]) out.push(paint(r));
  } else {
    const keep = shareRows(
      boxes.map((b) => b.body.length),
      o.height - fixed,
    );
    boxes.forEach((b, i) => {
      const k = keep[i] ?? 0;
      for (const r of b.head) out.push(paint(r));
      if (k < b.body.length && k > 0) {
        const shown = b.body.slice(b.body.length - (k - 1));
        out.push(
          colorize(truncateToWidth(`… ${b.body.length - shown.length} earlier lines`, width), '90', color),
        );
        for (const r of shown) out.push(paint(r));
      } else if (k >= b.body.length) for (const r of b.body) out.push(paint(r));
      for (const r of b.foot) out.push(paint(r));
    });
  }
  if (o.height !== undefined && out.length > o.height) {
    const keep = Math.max(0, o.height - 1);
    const more = out.length - keep;
    out.length = keep;
    out.push(colorize(truncateToWidth(`… ${more} more lines`, width), '90', color));
  }
  return out.join('\n');
}

/**
 * redraw in place: cursor home, each row cleared to its end, everything below cleared. No
 * newline after the last row: a frame as tall as the terminal must not scroll it.
 */
export function redrawInPlace(frame: string): string {
  const rows = frame.split('\n');
  return `${ESC.home}${rows.map((r) => r + ESC.clearLine).join('\n')}${ESC.clearBelow}`;
}

/** first frame: clear the screen and hide the cursor (call `restoreTerminal()` on exit) */
export const startScreen = (): string => ESC.hideCursor + ESC.clearScreen + ESC.home;
export const restoreTerminal = (): string => ESC.reset + ESC.showCursor;

/**
 * Frames for `clawpulse tail`: several status boxes, coloured by status, fitted to the
 * terminal width (wide CJK/emoji count 2 columns) and height, plus the escape sequences to
 * redraw in place. Pure functions returning strings; the CLI writes them.
 */
import type { SessionState, SessionStatus } from '../model/session.js';
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

function boxRows(root: SessionState, lookup: SessionLookup, o: TerminalFrameOptions): Row[] {
  const parts = statusBoxParts(root, lookup, { now: o.now, toolLabels: o.toolLabels });
  const fit = fitBody(parts.header, parts.body, parts.footer, o.maxChars);
  const rows: Row[] = [{ text: parts.header, sgr: `1;${statusColor(root.status)}` }];
  if (fit.cut) rows.push({ text: CUT_MARKER, sgr: '90' });
  for (const l of fit.body) rows.push({ text: l.text, sgr: lineSgr(l) });
  if (parts.footer) rows.push({ text: parts.footer, sgr: statusColor(root.status) });
  return rows;
}

function lineSgr(l: BodyLine): string | undefined {
  if (l.kind === 'tool') return l.status === 'error' ? '31' : l.status === 'ok' ? undefined : '33';
  if (l.kind === 'subagent' || l.kind === 'footer')
    return l.status ? statusColor(l.status as SessionStatus) : undefined;
  if (l.kind === 'system') return '90';
  return undefined;
}

/** the whole frame: boxes separated by a blank row, each row fitted to the width */
export function renderTerminalFrame(
  roots: readonly SessionState[],
  lookup: SessionLookup,
  o: TerminalFrameOptions,
): string {
  const color = o.color ?? false;
  const width = Math.max(8, Math.floor(o.width));
  const out: string[] = [];
  roots.forEach((root, i) => {
    if (i > 0) out.push('');
    for (const row of boxRows(root, lookup, o)) {
      const pieces = o.wrap ? wrapToWidth(row.text, width) : [truncateToWidth(row.text, width)];
      for (const p of pieces) out.push(row.sgr ? colorize(p, row.sgr, color) : p);
    }
  });
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

/**
 * The REST-mode message: the status box text as a blockquote (`> ` on every line), fitted
 * within the server's limit. Mattermost counts the limit in runes (Unicode code points), so
 * every length here is a code-point count, never `string.length`.
 *
 * The renderer is asked for a box within the budget left after quoting; if its result still
 * does not fit (or it ignores maxChars), lines are cut from the middle, oldest first, keeping
 * the header (first line) and the footer (last line).
 */
import type { SessionState } from '../../model/session.js';
import type { SessionLookup, StatusBoxOptions } from '../../render/status-box.js';
import type { ToolLabels } from '../../render/tool-labels.js';

export type BoxRenderer = (root: SessionState, lookup: SessionLookup, opts: StatusBoxOptions) => string;

export const codePoints = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

const QUOTE = '> ';
const ELLIPSIS = '> …';

export function quote(text: string): string {
  return text
    .split('\n')
    .map((l) => (l ? QUOTE + l : '>'))
    .join('\n');
}

function sliceCodePoints(s: string, n: number): string {
  if (n <= 0) return '';
  let out = '';
  let i = 0;
  for (const ch of s) {
    if (i++ >= n) break;
    out += ch;
  }
  return out;
}

/** cuts quoted lines from the middle (oldest first) until the text fits; header and footer stay */
export function fitQuoted(quoted: string, max: number): string {
  if (codePoints(quoted) <= max) return quoted;
  const lines = quoted.split('\n');
  if (lines.length <= 2) return sliceCodePoints(quoted, max);
  const head = lines[0] as string;
  const foot = lines[lines.length - 1] as string;
  const middle = lines.slice(1, -1);
  const lens = middle.map(codePoints);
  let total = codePoints(head) + codePoints(foot) + 2 + codePoints(ELLIPSIS) + 1;
  for (const l of lens) total += l + 1;
  let drop = 0;
  while (drop < middle.length && total > max) {
    total -= (lens[drop] as number) + 1;
    drop++;
  }
  const kept = [head, ELLIPSIS, ...middle.slice(drop), foot].join('\n');
  return codePoints(kept) <= max ? kept : sliceCodePoints(kept, max);
}

/** renders, quotes and fits the box text for a REST post */
export function renderQuoted(
  render: BoxRenderer,
  root: SessionState,
  lookup: SessionLookup,
  opts: { now: number; toolLabels: ToolLabels; maxChars: number },
): string {
  let budget = opts.maxChars;
  let out = '';
  // quoting adds 2 per line; ask the renderer for less until it fits (at most 3 tries)
  for (let i = 0; i < 3; i++) {
    out = quote(render(root, lookup, { ...opts, maxChars: Math.max(50, budget) }));
    const over = codePoints(out) - opts.maxChars;
    if (over <= 0) return out;
    budget -= over + 16;
  }
  return fitQuoted(out, opts.maxChars);
}

const TAG = /^(> )?\[[A-Z]+\]/;

/**
 * A box's own text closed as interrupted, for a turn whose state is gone: the header's status
 * tag becomes [INTERRUPTED], and the footer's too (or a footer is added) with the note.
 */
export function markInterrupted(message: string, note: string): string {
  const lines = message.split('\n');
  const head = lines[0] ?? '';
  if (TAG.test(head)) lines[0] = head.replace(TAG, (_m, q: string | undefined) => `${q ?? ''}[INTERRUPTED]`);
  const foot = lines.length > 1 ? (lines[lines.length - 1] as string) : '';
  if (foot && TAG.test(foot))
    lines[lines.length - 1] =
      `${foot.replace(TAG, (_m, q: string | undefined) => `${q ?? ''}[INTERRUPTED]`)} | ${note}`;
  else lines.push(`> [INTERRUPTED] ${note}`);
  return lines.join('\n');
}

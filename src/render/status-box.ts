/**
 * The status box text (REST posts, terminal) in the original Live Status look:
 *
 *   [ACTIVE] main | 38s                 header: status, name (label, else short key), elapsed
 *   Reading live-status source code...  narration, flush left at its depth
 *     exec: ls /agents/sessions [OK]    tool: two more spaces, [OK] / [ERR] / ...
 *     Sub-agent: proj035-planner        sub-agent nested where it was spawned
 *       Reading protocol...
 *       [DONE] 28s                      sub-agent footer once it is not active
 *   [DONE] 53s | 12.4k tokens | $0.42   root footer once it is not active (detail, tokens, cost)
 *
 * maxChars counts Unicode code points; the oldest body lines go first (a `…` line marks the
 * cut), never the header or footer.
 */
import type { SessionState, ToolCallState } from '../model/session.js';
import { codePointLength, truncateCodePoints } from '../model/text.js';
import { elapsedMs, footerLine, formatDuration, sessionName, statusTag } from './format.js';
import { type ToolLabels, toolText } from './tool-labels.js';

export type SessionLookup = (key: string) => SessionState | undefined;

export interface StatusBoxOptions {
  now: number;
  toolLabels: ToolLabels;
  maxChars?: number;
}

export type BodyLineKind = 'text' | 'system' | 'tool' | 'subagent' | 'footer';

export interface BodyLine {
  text: string;
  kind: BodyLineKind;
  /** nesting depth: 0 = the root's own lines */
  depth: number;
  /** tool lines: their status; sub-agent header/footer lines: the child's status */
  status?: string;
}

export interface BoxParts {
  header: string;
  body: BodyLine[];
  /** empty while the root is active */
  footer: string;
  root: SessionState;
}

/** nested sub-agents deeper than this are cut (protects against corrupt parent chains) */
const MAX_DEPTH = 8;

export const TOOL_SUFFIX: Record<ToolCallState['status'], string> = {
  ok: '[OK]',
  error: '[ERR]',
  running: '...',
};

export function statusBoxParts(root: SessionState, lookup: SessionLookup, opts: StatusBoxOptions): BoxParts {
  // a session of a gateway named in OPENCLAW_GATEWAYS says which: `[ACTIVE] main on build | 38s`
  const on = root.gateway ? ` on ${root.gateway}` : '';
  const header = `${statusTag(root)} ${sessionName(root)}${on} | ${formatDuration(elapsedMs(root, opts.now))}`;
  const body: BodyLine[] = [];
  addBody(root, 0, body, lookup, opts, new Set([root.key]));
  const footer = root.status === 'active' ? '' : footerLine(root, opts.now, true);
  return { header, body, footer, root };
}

function addBody(
  s: SessionState,
  depth: number,
  out: BodyLine[],
  lookup: SessionLookup,
  opts: StatusBoxOptions,
  seen: Set<string>,
): void {
  const pad = '    '.repeat(depth);
  let tools: Map<string, ToolCallState> | undefined;
  for (const line of s.lines) {
    switch (line.kind) {
      case 'text':
      case 'system':
        out.push({ text: pad + line.text, kind: line.kind, depth });
        break;
      case 'tool': {
        tools ??= indexTools(s.tools);
        const t = tools.get(`${line.runId}\u0000${line.callId}`);
        if (!t) break;
        out.push({
          text: `${pad}  ${toolText(t, opts.toolLabels)} ${TOOL_SUFFIX[t.status]}`,
          kind: 'tool',
          depth,
          status: t.status,
        });
        break;
      }
      case 'subagent': {
        const child = lookup(line.childKey);
        if (!child || seen.has(child.key) || depth + 1 > MAX_DEPTH) break;
        seen.add(child.key);
        out.push({
          text: `${pad}  Sub-agent: ${sessionName(child, true)}`,
          kind: 'subagent',
          depth,
          status: child.status,
        });
        addBody(child, depth + 1, out, lookup, opts, seen);
        if (child.status !== 'active') {
          out.push({
            text: `${pad}    ${footerLine(child, opts.now, false)}`,
            kind: 'footer',
            depth: depth + 1,
            status: child.status,
          });
        }
        break;
      }
    }
  }
}

function indexTools(tools: readonly ToolCallState[]): Map<string, ToolCallState> {
  const m = new Map<string, ToolCallState>();
  for (const t of tools) m.set(`${t.runId}\u0000${t.callId}`, t);
  return m;
}

export const CUT_MARKER = '…';

/** which body lines survive `maxChars` (oldest dropped first); `cut` = whether any was dropped */
export function fitBody<T extends { text: string }>(
  header: string,
  body: readonly T[],
  footer: string,
  maxChars: number | undefined,
): { body: T[]; cut: boolean } {
  if (maxChars === undefined) return { body: [...body], cut: false };
  const fixed = codePointLength(header) + (footer ? codePointLength(footer) + 1 : 0);
  const lens = body.map((l) => codePointLength(l.text) + 1); // +1: its newline
  let total = fixed + lens.reduce((a, b) => a + b, 0);
  if (total <= maxChars) return { body: [...body], cut: false };
  const marker = codePointLength(CUT_MARKER) + 1;
  let start = 0;
  total += marker;
  while (start < body.length && total > maxChars) total -= lens[start++] ?? 0;
  return { body: body.slice(start), cut: true };
}

export function renderStatusBox(root: SessionState, lookup: SessionLookup, opts: StatusBoxOptions): string {
  const { header, body, footer } = statusBoxParts(root, lookup, opts);
  const fit = fitBody(header, body, footer, opts.maxChars);
  const lines = [header];
  if (fit.cut) lines.push(CUT_MARKER);
  for (const l of fit.body) lines.push(l.text);
  if (footer) lines.push(footer);
  const text = lines.join('\n');
  // header + footer alone over the limit: the limit still wins
  if (opts.maxChars !== undefined && codePointLength(text) > opts.maxChars) {
    return truncateCodePoints(text, Math.max(1, opts.maxChars));
  }
  return text;
}

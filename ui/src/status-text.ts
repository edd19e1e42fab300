/**
 * The status box as text, in the Live Status look the chat boxes use:
 *   [ACTIVE] main | 38s / narration / "  exec: ls [OK]" / nested sub-agents / [DONE] 53s | 12.4k tokens
 * Statuses and times come from the live summaries (they follow idle/stuck ticks); lines and
 * tools from the local model.
 */
import type { SessionState, ToolCallState } from '../../src/model/session.js';
import { footerLine, shortKey } from '../../src/render/format.js';
import { BUILTIN_TOOL_LABELS, toolText } from '../../src/render/tool-label-table.js';
import type { SessionSummary } from '../../src/server/summary.js';
import { fmtDuration } from './format.js';

export interface BoxLine {
  text: string;
  kind: 'header' | 'text' | 'system' | 'tool' | 'sub' | 'footer';
  status?: string;
}

const TOOL_SUFFIX: Record<ToolCallState['status'], string> = { ok: '[OK]', error: '[ERR]', running: '...' };

/** as the chat boxes count it: to the end, to now while running, else to the last event */
function elapsed(s: SessionSummary | undefined, st: SessionState, now: number): number {
  const from = s?.activeSince ?? st.activeSince ?? st.startedAt;
  const end = s ? s.endedAt : st.endedAt;
  const status = s?.status ?? st.status;
  if (end !== undefined) return end - from;
  return (status === 'active' || status === 'stuck' ? now : (s?.lastEventAt ?? st.lastEventAt)) - from;
}

export function statusBox(
  rootKey: string,
  get: (k: string) => SessionState | undefined,
  summary: (k: string) => SessionSummary | undefined,
  now: number,
): BoxLine[] {
  const root = get(rootKey);
  if (!root) return [];
  const rs = summary(rootKey);
  const status = rs?.status ?? root.status;
  const out: BoxLine[] = [
    {
      kind: 'header',
      text: `[${status.toUpperCase()}] ${root.label ?? root.agentId} | ${fmtDuration(elapsed(rs, root, now))}`,
      status,
    },
  ];
  const body = (s: SessionState, depth: number, seen: Set<string>) => {
    const pad = '  '.repeat(depth);
    const tools = new Map(s.tools.map((t) => [`${t.runId}\u0000${t.callId}`, t]));
    for (const l of s.lines) {
      if (l.kind === 'text' || l.kind === 'system') out.push({ kind: l.kind, text: pad + l.text });
      else if (l.kind === 'tool') {
        const t = tools.get(`${l.runId}\u0000${l.callId}`);
        if (!t) continue;
        out.push({
          kind: 'tool',
          // the same words as the terminal and Mattermost boxes (`spawn:` for sessions_spawn)
          text: `${pad}  ${toolText(t, BUILTIN_TOOL_LABELS)} ${TOOL_SUFFIX[t.status]}`,
          status: t.status,
        });
      } else if (l.kind === 'subagent') {
        const c = get(l.childKey);
        const cs = summary(l.childKey);
        out.push({
          kind: 'sub',
          text: `${pad}  Sub-agent: ${cs?.label ?? c?.label ?? shortKey(l.childKey)}`,
          status: cs?.status,
        });
        if (c && !seen.has(c.key) && depth < 8) {
          seen.add(c.key);
          body(c, depth + 2, seen);
          const st = cs?.status ?? c.status;
          if (st !== 'active') {
            out.push({
              kind: 'sub',
              text: `${pad}    [${st.toUpperCase()}] ${fmtDuration(elapsed(cs, c, now))}`,
              status: st,
            });
          }
        }
      }
    }
  };
  body(root, 0, new Set([rootKey]));
  if (status !== 'active') {
    // the footer every view shares (error brief, tokens and cost), with the live summary's
    // status and times (they follow idle/stuck ticks the local model has not seen)
    const view: SessionState = {
      ...root,
      status,
      endedAt: rs ? rs.endedAt : root.endedAt,
      activeSince: rs?.activeSince ?? root.activeSince,
      lastEventAt: rs?.lastEventAt ?? root.lastEventAt,
      note: rs?.note ?? root.note,
    };
    out.push({ kind: 'footer', text: footerLine(view, now, true), status });
  }
  return out;
}

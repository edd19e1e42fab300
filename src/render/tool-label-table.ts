/**
 * How a tool call reads in a status box, without the file loading (tool-labels.ts): the
 * built-in table and the functions every view uses, the dashboard's browser bundle included.
 */
import type { ToolCallState } from '../model/session.js';
import { truncateCodePoints } from '../model/text.js';

export interface ToolLabel {
  label: string;
  /** argument field to show when the call's args are a JSON object */
  arg?: string;
}

export type ToolLabels = Readonly<Record<string, ToolLabel>>;

export const BUILTIN_TOOL_LABELS: ToolLabels = Object.freeze({
  exec: { label: 'exec', arg: 'command' },
  bash: { label: 'exec', arg: 'command' },
  process: { label: 'process', arg: 'action' },
  read: { label: 'read', arg: 'path' },
  write: { label: 'write', arg: 'path' },
  edit: { label: 'edit', arg: 'path' },
  apply_patch: { label: 'patch', arg: 'path' },
  ls: { label: 'ls', arg: 'path' },
  grep: { label: 'grep', arg: 'pattern' },
  find: { label: 'find', arg: 'pattern' },
  web_search: { label: 'search', arg: 'query' },
  web_fetch: { label: 'fetch', arg: 'url' },
  browser: { label: 'browser', arg: 'url' },
  image: { label: 'image', arg: 'prompt' },
  message: { label: 'message', arg: 'action' },
  tts: { label: 'speak', arg: 'text' },
  cron: { label: 'cron', arg: 'action' },
  gateway: { label: 'gateway', arg: 'action' },
  nodes: { label: 'nodes', arg: 'action' },
  canvas: { label: 'canvas', arg: 'action' },
  memory_search: { label: 'memory search', arg: 'query' },
  memory_get: { label: 'memory', arg: 'path' },
  sessions_spawn: { label: 'spawn', arg: 'label' },
  sessions_send: { label: 'send', arg: 'label' },
  sessions_list: { label: 'sessions' },
  sessions_history: { label: 'history', arg: 'sessionKey' },
  session_status: { label: 'status' },
  agents_list: { label: 'agents' },
});

export const TOOL_ARG_MAX = 80;

/** what every view calls a tool: `spawn` for sessions_spawn, the name itself when the table has none */
export function toolLabel(name: string, labels: ToolLabels): string {
  return (Object.hasOwn(labels, name) ? labels[name]?.label : undefined) ?? name;
}

/** `exec: ls /tmp` — label plus the argument summary, one line, at most TOOL_ARG_MAX code points of args */
export function toolText(t: Pick<ToolCallState, 'name' | 'args'>, labels: ToolLabels): string {
  const entry = Object.hasOwn(labels, t.name) ? labels[t.name] : undefined;
  const label = toolLabel(t.name, labels);
  const arg = argSummary(t.args, entry?.arg);
  return arg ? `${label}: ${arg}` : label;
}

function argSummary(args: string | undefined, field: string | undefined): string {
  if (typeof args !== 'string') return '';
  let s = args.trim();
  if (!s) return '';
  if (s.startsWith('{') && s.endsWith('}')) {
    // args given as JSON: show the configured field, or the first short string field
    try {
      const obj = JSON.parse(s) as Record<string, unknown>;
      const pick = field !== undefined ? obj[field] : undefined;
      const val = pick ?? Object.values(obj).find((v) => typeof v === 'string');
      if (val === undefined) return '';
      s = typeof val === 'string' ? val : JSON.stringify(val);
    } catch {
      // not JSON after all: show it as text
    }
  }
  return truncateCodePoints(s.replace(/\s+/g, ' ').trim(), TOOL_ARG_MAX);
}

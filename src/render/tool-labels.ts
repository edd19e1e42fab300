/**
 * How a tool call reads in a status box: `exec: ls /tmp`. A built-in table gives each known
 * OpenClaw tool a label and the argument worth showing; TOOL_LABELS_FILE (JSON) overrides or
 * extends it: `{ "exec": { "label": "run", "arg": "command" }, "my_tool": "My tool" }`.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
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

const entrySchema = z.union([
  z.string().min(1),
  z.object({ label: z.string().min(1), arg: z.string().min(1).optional() }).strict(),
]);
const fileSchema = z.record(z.string().min(1), entrySchema);

export class ToolLabelsError extends Error {
  constructor(
    readonly file: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`TOOL_LABELS_FILE ${file}: ${reason}`, options);
    this.name = 'ToolLabelsError';
  }
}

/** the built-in table, merged with the override file when given; a bad file throws ToolLabelsError */
export function loadToolLabels(file?: string): ToolLabels {
  if (!file) return BUILTIN_TOOL_LABELS;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ToolLabelsError(file, `cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`, {
      cause: err,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ToolLabelsError(file, `not valid JSON (${(err as Error).message})`, { cause: err });
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? ` at "${issue.path.join('.')}"` : '';
    throw new ToolLabelsError(
      file,
      `expected {"tool": "label" | {"label": "...", "arg": "field"}}${where}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const merged: Record<string, ToolLabel> = { ...BUILTIN_TOOL_LABELS };
  for (const [name, v] of Object.entries(parsed.data)) {
    merged[name] = typeof v === 'string' ? { label: v, arg: BUILTIN_TOOL_LABELS[name]?.arg } : { ...v };
  }
  return Object.freeze(merged);
}

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

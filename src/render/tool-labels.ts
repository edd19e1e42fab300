/**
 * How a tool call reads in a status box: `exec: ls /tmp`. A built-in table gives each known
 * OpenClaw tool a label and the argument worth showing; TOOL_LABELS_FILE (JSON) overrides or
 * extends it: `{ "exec": { "label": "run", "arg": "command" }, "my_tool": "My tool" }`.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { BUILTIN_TOOL_LABELS, type ToolLabel, type ToolLabels } from './tool-label-table.js';

export {
  BUILTIN_TOOL_LABELS,
  TOOL_ARG_MAX,
  type ToolLabel,
  type ToolLabels,
  toolLabel,
  toolText,
} from './tool-label-table.js';

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

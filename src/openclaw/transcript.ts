/**
 * Transcript lines (pi-coding-agent SessionManager format, header version 3 and 4), as written
 * to `<sessionId>.jsonl` (≤ 2026.7) and stored as `transcript_events.event_json` (≥ 2026.8).
 *
 * Tolerant on purpose: unknown fields pass, unknown entry types and content blocks pass through
 * as `unknown`, numbers that are missing or not numbers become undefined. Only a line that is
 * not an object with a string `type`, or a known type whose core fields are unusable, is
 * malformed.
 */
import { z } from 'zod';

const num = z.number().optional().catch(undefined);
const str = z.string().optional().catch(undefined);

export const TextBlockSchema = z.looseObject({ type: z.literal('text'), text: z.string().catch('') });
export const ThinkingBlockSchema = z.looseObject({ type: z.literal('thinking'), thinking: z.string().catch('') });
export const ImageBlockSchema = z.looseObject({ type: z.literal('image'), mimeType: str });
export const ToolCallBlockSchema = z.looseObject({
  type: z.literal('toolCall'),
  id: z.string(),
  name: z.string(),
  arguments: z.unknown().optional(),
});
const OtherBlockSchema = z.looseObject({ type: z.string() });

export const ContentBlockSchema = z.union([
  TextBlockSchema,
  ThinkingBlockSchema,
  ImageBlockSchema,
  ToolCallBlockSchema,
  OtherBlockSchema,
]);
export type ContentBlock = z.infer<typeof ContentBlockSchema>;
export type ToolCallBlock = z.infer<typeof ToolCallBlockSchema>;

/** string content, or blocks; a block that is not even `{type}` is dropped rather than failing the line */
const ContentSchema = z
  .union([z.string(), z.array(z.unknown())])
  .optional()
  .catch(undefined)
  .transform((c): string | ContentBlock[] | undefined => {
    if (c === undefined || typeof c === 'string') return c;
    const out: ContentBlock[] = [];
    for (const b of c) {
      const r = ContentBlockSchema.safeParse(b);
      if (r.success) out.push(r.data);
    }
    return out;
  });

export const UsageSchema = z.looseObject({
  input: num,
  output: num,
  cacheRead: num,
  cacheWrite: num,
  totalTokens: num,
  cost: z.looseObject({ total: num }).optional().catch(undefined),
});
export type Usage = z.infer<typeof UsageSchema>;

/** OpenClaw ≥ 2026.9 stamps stored messages with its own run/entry ids */
const OpenclawMetaSchema = z.looseObject({ runId: str, id: str }).optional().catch(undefined);

export const UserMessageSchema = z.looseObject({
  role: z.literal('user'),
  content: ContentSchema,
  timestamp: num,
  idempotencyKey: str,
  __openclaw: OpenclawMetaSchema,
});
export const AssistantMessageSchema = z.looseObject({
  role: z.literal('assistant'),
  content: ContentSchema,
  api: str,
  provider: str,
  model: str,
  usage: UsageSchema.optional().catch(undefined),
  stopReason: str,
  errorMessage: str,
  timestamp: num,
  __openclaw: OpenclawMetaSchema,
});
export const ToolResultMessageSchema = z.looseObject({
  role: z.literal('toolResult'),
  toolCallId: z.string(),
  toolName: str,
  content: ContentSchema,
  details: z.unknown().optional(),
  isError: z.boolean().optional().catch(undefined),
  timestamp: num,
});
/** bashExecution, custom, branchSummary, compactionSummary ...: passed through */
export const OtherMessageSchema = z.looseObject({ role: z.string(), timestamp: num });

export const MessageSchema = z.union([
  UserMessageSchema,
  AssistantMessageSchema,
  ToolResultMessageSchema,
  OtherMessageSchema,
]);
export type UserMessage = z.infer<typeof UserMessageSchema>;
export type AssistantMessage = z.infer<typeof AssistantMessageSchema>;
export type ToolResultMessage = z.infer<typeof ToolResultMessageSchema>;
export type TranscriptMessage = z.infer<typeof MessageSchema>;

const entryBase = { id: str, parentId: z.string().nullable().optional().catch(undefined), timestamp: str };

export const SessionHeaderSchema = z.looseObject({
  type: z.literal('session'),
  version: num,
  id: str,
  timestamp: str,
  cwd: str,
  parentSession: str,
});
export const MessageEntrySchema = z.looseObject({ type: z.literal('message'), ...entryBase, message: MessageSchema });
export const CompactionEntrySchema = z.looseObject({
  type: z.literal('compaction'),
  ...entryBase,
  summary: str,
  firstKeptEntryId: str,
  tokensBefore: num,
  tokensAfter: num,
});
export const ModelChangeEntrySchema = z.looseObject({
  type: z.literal('model_change'),
  ...entryBase,
  provider: str,
  modelId: str,
});
export const ThinkingLevelEntrySchema = z.looseObject({
  type: z.literal('thinking_level_change'),
  ...entryBase,
  thinkingLevel: str,
});
export const CustomEntrySchema = z.looseObject({
  type: z.literal('custom'),
  ...entryBase,
  customType: z.string().catch(''),
  data: z.unknown().optional(),
});
export const ResetEntrySchema = z.looseObject({ type: z.literal('reset'), ...entryBase, reason: str });
export const LabelEntrySchema = z.looseObject({ type: z.literal('label'), ...entryBase, targetId: str, label: str });
export const SessionInfoEntrySchema = z.looseObject({ type: z.literal('session_info'), ...entryBase, name: str });

const KNOWN_SCHEMAS = {
  session: SessionHeaderSchema,
  message: MessageEntrySchema,
  compaction: CompactionEntrySchema,
  model_change: ModelChangeEntrySchema,
  thinking_level_change: ThinkingLevelEntrySchema,
  custom: CustomEntrySchema,
  reset: ResetEntrySchema,
  label: LabelEntrySchema,
  session_info: SessionInfoEntrySchema,
} as const;

export type SessionHeader = z.infer<typeof SessionHeaderSchema>;
export type MessageEntry = z.infer<typeof MessageEntrySchema>;
export type CompactionEntry = z.infer<typeof CompactionEntrySchema>;
export type CustomEntry = z.infer<typeof CustomEntrySchema>;
export type ResetEntry = z.infer<typeof ResetEntrySchema>;

/** an entry of a type we do not interpret (branch_summary, custom_message, future types) */
export interface OtherEntry {
  type: 'other';
  rawType: string;
  id?: string;
  timestamp?: string;
}

export type TranscriptEntry =
  | SessionHeader
  | MessageEntry
  | CompactionEntry
  | z.infer<typeof ModelChangeEntrySchema>
  | z.infer<typeof ThinkingLevelEntrySchema>
  | CustomEntry
  | ResetEntry
  | z.infer<typeof LabelEntrySchema>
  | z.infer<typeof SessionInfoEntrySchema>
  | OtherEntry;

export type ParseLineResult = { ok: true; entry: TranscriptEntry } | { ok: false; error: string };

/** Parses one already JSON-decoded transcript line. Never throws. */
export function parseTranscriptLine(value: unknown): ParseLineResult {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { ok: false, error: 'line is not an object' };
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') return { ok: false, error: 'line has no string type' };
  const schema = (KNOWN_SCHEMAS as Record<string, z.ZodType<TranscriptEntry>>)[type];
  if (!schema) {
    const v = value as { id?: unknown; timestamp?: unknown };
    const other: OtherEntry = { type: 'other', rawType: type };
    if (typeof v.id === 'string') other.id = v.id;
    if (typeof v.timestamp === 'string') other.timestamp = v.timestamp;
    return { ok: true, entry: other };
  }
  const r = schema.safeParse(value);
  if (!r.success) return { ok: false, error: `bad ${type} line: ${r.error.issues[0]?.message ?? 'invalid'}` };
  return { ok: true, entry: r.data };
}

/** Decodes a JSON text line and parses it. Never throws. */
export function parseTranscriptText(line: string): ParseLineResult {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return { ok: false, error: `invalid JSON: ${(err as Error).message.slice(0, 120)}` };
  }
  return parseTranscriptLine(value);
}

export function isAssistant(m: TranscriptMessage): m is AssistantMessage {
  return m.role === 'assistant';
}
export function isUser(m: TranscriptMessage): m is UserMessage {
  return m.role === 'user';
}
export function isToolResult(m: TranscriptMessage): m is ToolResultMessage {
  return m.role === 'toolResult' && typeof (m as { toolCallId?: unknown }).toolCallId === 'string';
}

/** plain text of string-or-blocks content (text blocks only) */
export function contentText(content: string | ContentBlock[] | undefined): string {
  if (content === undefined) return '';
  if (typeof content === 'string') return content;
  const parts: string[] = [];
  for (const b of content) if (b.type === 'text' && typeof (b as { text?: unknown }).text === 'string') parts.push((b as { text: string }).text);
  return parts.join('\n');
}

/** 2026.9 marks injected context turns with this prefix; they are not real user turns */
export const INTERNAL_CONTEXT_PREFIX = '<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>';

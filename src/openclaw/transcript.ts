/**
 * Transcript lines (pi-coding-agent SessionManager format, header version 3 and 4), as written
 * to `<sessionId>.jsonl` (≤ 2026.7) and stored as `transcript_events.event_json` (≥ 2026.8).
 *
 * Tolerant on purpose: unknown fields pass, unknown entry types and content blocks pass through,
 * numbers that are missing or not numbers become undefined. Only a line that is not an object
 * with a string `type`, or a known type whose core fields are unusable (a message without a
 * role, a tool result without its call id), is malformed.
 *
 * Checked by hand rather than with zod: this runs for every line of every transcript, and a
 * schema library cost ~6× the JSON.parse of the line (measured with the real fixture lines).
 *
 * `parseTranscriptLine` gives a typed copy. The normalizer reads lines in place instead (the
 * copy took ~0.2 µs of the ~1.6 µs a line cost): `lineError` and the readers exported here are
 * the ones the copy is made with, so both see the same values.
 */

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
/** a finite number, else undefined */
export const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export interface TextBlock {
  type: 'text';
  text: string;
}
export interface ThinkingBlock {
  type: 'thinking';
  thinking: string;
}
export interface ImageBlock {
  type: 'image';
  mimeType?: string;
}
export interface ToolCallBlock {
  type: 'toolCall';
  id: string;
  name: string;
  arguments?: unknown;
}
/** any other block type: passed through untouched */
export interface OtherBlock {
  type: string;
  [k: string]: unknown;
}
export type ContentBlock = TextBlock | ThinkingBlock | ImageBlock | ToolCallBlock | OtherBlock;

export interface Usage {
  input?: number;
  output?: number;
  cacheRead?: number;
  cacheWrite?: number;
  totalTokens?: number;
  cost?: { total?: number };
}

/** OpenClaw ≥ 2026.9 stamps stored messages with its own run/entry ids */
export interface OpenclawMeta {
  runId?: string;
  id?: string;
}

export interface UserMessage {
  role: 'user';
  content?: string | ContentBlock[];
  timestamp?: number;
  idempotencyKey?: string;
  __openclaw?: OpenclawMeta;
}
export interface AssistantMessage {
  role: 'assistant';
  content?: string | ContentBlock[];
  api?: string;
  provider?: string;
  model?: string;
  usage?: Usage;
  stopReason?: string;
  errorMessage?: string;
  timestamp?: number;
  __openclaw?: OpenclawMeta;
}
export interface ToolResultMessage {
  role: 'toolResult';
  toolCallId: string;
  toolName?: string;
  content?: string | ContentBlock[];
  details?: unknown;
  isError?: boolean;
  timestamp?: number;
}
/** bashExecution, custom, branchSummary, compactionSummary ...: passed through */
export interface OtherMessage {
  role: string;
  timestamp?: number;
}
export type TranscriptMessage = UserMessage | AssistantMessage | ToolResultMessage | OtherMessage;

interface EntryBase {
  id?: string;
  parentId?: string | null;
  timestamp?: string;
}
export interface SessionHeader extends EntryBase {
  type: 'session';
  version?: number;
  cwd?: string;
  parentSession?: string;
}
export interface MessageEntry extends EntryBase {
  type: 'message';
  message: TranscriptMessage;
}
export interface CompactionEntry extends EntryBase {
  type: 'compaction';
  summary?: string;
  firstKeptEntryId?: string;
  tokensBefore?: number;
  tokensAfter?: number;
}
export interface ModelChangeEntry extends EntryBase {
  type: 'model_change';
  provider?: string;
  modelId?: string;
}
export interface ThinkingLevelEntry extends EntryBase {
  type: 'thinking_level_change';
  thinkingLevel?: string;
}
export interface CustomEntry extends EntryBase {
  type: 'custom';
  customType: string;
  data?: unknown;
}
export interface ResetEntry extends EntryBase {
  type: 'reset';
  reason?: string;
}
export interface LabelEntry extends EntryBase {
  type: 'label';
  targetId?: string;
  label?: string;
}
export interface SessionInfoEntry extends EntryBase {
  type: 'session_info';
  name?: string;
}
/** an entry of a type we do not interpret (branch_summary, custom_message, future types) */
export interface OtherEntry extends EntryBase {
  type: 'other';
  rawType: string;
}

export type TranscriptEntry =
  | SessionHeader
  | MessageEntry
  | CompactionEntry
  | ModelChangeEntry
  | ThinkingLevelEntry
  | CustomEntry
  | ResetEntry
  | LabelEntry
  | SessionInfoEntry
  | OtherEntry;

export type ParseLineResult = { ok: true; entry: TranscriptEntry } | { ok: false; error: string };

function base(v: Obj): EntryBase {
  const b: EntryBase = {};
  const id = str(v.id);
  if (id !== undefined) b.id = id;
  if (typeof v.parentId === 'string' || v.parentId === null) b.parentId = v.parentId;
  const ts = str(v.timestamp);
  if (ts !== undefined) b.timestamp = ts;
  return b;
}

/** a content block that is kept: `{type: string}`, text with its text, a tool call with id and name */
export function isUsableBlock(b: unknown): b is ContentBlock {
  if (!isObj(b) || typeof b.type !== 'string') return false;
  if (b.type === 'text') return typeof b.text === 'string';
  if (b.type === 'toolCall') return typeof b.id === 'string' && typeof b.name === 'string';
  return true;
}

/** string content, or the blocks that are at least `{type: string}` (others are dropped) */
function content(v: unknown): string | ContentBlock[] | undefined {
  if (typeof v === 'string') return v;
  if (!Array.isArray(v)) return undefined;
  return v.filter(isUsableBlock);
}

function usage(v: unknown): Usage | undefined {
  if (!isObj(v)) return undefined;
  const u: Usage = {};
  let n = num(v.input);
  if (n !== undefined) u.input = n;
  n = num(v.output);
  if (n !== undefined) u.output = n;
  n = num(v.cacheRead);
  if (n !== undefined) u.cacheRead = n;
  n = num(v.cacheWrite);
  if (n !== undefined) u.cacheWrite = n;
  n = num(v.totalTokens);
  if (n !== undefined) u.totalTokens = n;
  if (isObj(v.cost)) {
    const total = num(v.cost.total);
    u.cost = total === undefined ? {} : { total };
  }
  return u;
}

/** `__openclaw.runId` of a message (OpenClaw ≥ 2026.9) */
export function openclawRunId(v: unknown): string | undefined {
  return isObj(v) && typeof v.runId === 'string' ? v.runId : undefined;
}

function meta(v: unknown): OpenclawMeta | undefined {
  if (!isObj(v)) return undefined;
  const m: OpenclawMeta = {};
  if (typeof v.runId === 'string') m.runId = v.runId;
  if (typeof v.id === 'string') m.id = v.id;
  return m;
}

/** copies the defined values of `from` onto `to` (keeps optional fields absent, not undefined) */
function assign<T extends object>(to: T, from: Partial<T>): T {
  // for-in over a literal: no per-field arrays (Object.entries cost more than the parse here)
  for (const k in from) {
    const v = from[k];
    if (v !== undefined) (to as Obj)[k] = v;
  }
  return to;
}

/** why a message is unusable, or undefined */
function messageError(v: unknown): string | undefined {
  if (!isObj(v)) return 'message is not an object';
  if (typeof v.role !== 'string') return 'message has no role';
  if (v.role === 'toolResult' && typeof v.toolCallId !== 'string') return 'toolResult has no toolCallId';
  return undefined;
}

/** why a JSON-decoded line is malformed (what parseTranscriptLine reports), or undefined */
export function lineError(value: unknown): string | undefined {
  if (!isObj(value)) return 'line is not an object';
  if (typeof value.type !== 'string') return 'line has no string type';
  if (value.type === 'message') {
    const e = messageError(value.message);
    if (e !== undefined) return `bad message line: ${e}`;
  }
  return undefined;
}

/** a message that passed messageError */
function message(v: Obj): TranscriptMessage {
  const role = v.role as string;
  const timestamp = num(v.timestamp);
  // the three roles every turn has are built field by field
  if (role === 'user') {
    const m: UserMessage = { role };
    const c = content(v.content);
    if (c !== undefined) m.content = c;
    if (timestamp !== undefined) m.timestamp = timestamp;
    if (typeof v.idempotencyKey === 'string') m.idempotencyKey = v.idempotencyKey;
    const meta_ = meta(v.__openclaw);
    if (meta_) m.__openclaw = meta_;
    return m;
  }
  if (role === 'assistant') {
    const m: AssistantMessage = { role };
    const c = content(v.content);
    if (c !== undefined) m.content = c;
    if (typeof v.api === 'string') m.api = v.api;
    if (typeof v.provider === 'string') m.provider = v.provider;
    if (typeof v.model === 'string') m.model = v.model;
    const u = usage(v.usage);
    if (u) m.usage = u;
    if (typeof v.stopReason === 'string') m.stopReason = v.stopReason;
    if (typeof v.errorMessage === 'string') m.errorMessage = v.errorMessage;
    if (timestamp !== undefined) m.timestamp = timestamp;
    const meta_ = meta(v.__openclaw);
    if (meta_) m.__openclaw = meta_;
    return m;
  }
  if (role === 'toolResult') {
    const m: ToolResultMessage = { role, toolCallId: v.toolCallId as string };
    if (typeof v.toolName === 'string') m.toolName = v.toolName;
    const c = content(v.content);
    if (c !== undefined) m.content = c;
    if (v.details !== undefined) m.details = v.details;
    if (typeof v.isError === 'boolean') m.isError = v.isError;
    if (timestamp !== undefined) m.timestamp = timestamp;
    return m;
  }
  return timestamp === undefined ? { role } : { role, timestamp };
}

/** Parses one already JSON-decoded transcript line. Never throws. */
export function parseTranscriptLine(value: unknown): ParseLineResult {
  const error = lineError(value);
  if (error !== undefined) return { ok: false, error };
  const v = value as Obj;
  const type = v.type as string;
  const b = base(v);
  let entry: TranscriptEntry;
  switch (type) {
    case 'session':
      entry = assign<SessionHeader>(
        { type, ...b },
        { version: num(v.version), cwd: str(v.cwd), parentSession: str(v.parentSession) },
      );
      break;
    case 'message': {
      const me = b as MessageEntry;
      me.type = type;
      me.message = message(v.message as Obj);
      entry = me;
      break;
    }
    case 'compaction':
      entry = assign<CompactionEntry>(
        { type, ...b },
        {
          summary: str(v.summary),
          firstKeptEntryId: str(v.firstKeptEntryId),
          tokensBefore: num(v.tokensBefore),
          tokensAfter: num(v.tokensAfter),
        },
      );
      break;
    case 'model_change':
      entry = assign<ModelChangeEntry>(
        { type, ...b },
        { provider: str(v.provider), modelId: str(v.modelId) },
      );
      break;
    case 'thinking_level_change':
      entry = assign<ThinkingLevelEntry>({ type, ...b }, { thinkingLevel: str(v.thinkingLevel) });
      break;
    case 'custom':
      entry = assign<CustomEntry>({ type, ...b, customType: str(v.customType) ?? '' }, { data: v.data });
      break;
    case 'reset':
      entry = assign<ResetEntry>({ type, ...b }, { reason: str(v.reason) });
      break;
    case 'label':
      entry = assign<LabelEntry>({ type, ...b }, { targetId: str(v.targetId), label: str(v.label) });
      break;
    case 'session_info':
      entry = assign<SessionInfoEntry>({ type, ...b }, { name: str(v.name) });
      break;
    default:
      entry = { type: 'other', rawType: type, ...b };
  }
  return { ok: true, entry };
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

/**
 * plain text of string-or-blocks content (text blocks only); content as a line has it (anything
 * else, blocks that are not objects) gives what the parsed content gives
 */
export function contentText(c: unknown): string {
  if (typeof c === 'string') return c;
  if (!Array.isArray(c)) return '';
  // one text block (the usual case) is the text itself: no parts array for it
  let first: string | undefined;
  let parts: string[] | undefined;
  for (const b of c) {
    if (!isObj(b) || b.type !== 'text' || typeof b.text !== 'string') continue;
    if (first === undefined) first = b.text;
    else if (parts === undefined) parts = [first, b.text];
    else parts.push(b.text);
  }
  return parts ? parts.join('\n') : (first ?? '');
}

/** 2026.9 marks injected context turns with this prefix; they are not real user turns */
export const INTERNAL_CONTEXT_PREFIX = '<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>';

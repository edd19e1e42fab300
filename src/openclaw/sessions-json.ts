/**
 * `agents/<id>/sessions/sessions.json`: `{ "<sessionKey>": SessionEntry }`, the ≤ 2026.7 session
 * store (the same SessionEntry lives in `session_nodes.entry_json` from 2026.8). We keep only
 * what the model needs: identity, lineage, channel, model and OpenClaw's own run status.
 */
import path from 'node:path';
import type {
  PulseEvent,
  SessionChannel,
  SessionSeenEvent,
  SourceKind,
  SubagentSpawnedEvent,
} from '../model/events.js';
import { parseSessionKey } from './session-key.js';

export interface SessionsJsonEntry {
  sessionKey: string;
  agentId: string;
  sessionId: string;
  sessionFile?: string;
  updatedAt?: number;
  label?: string;
  displayName?: string;
  spawnedBy?: string;
  spawnDepth?: number;
  status?: string;
  startedAt?: number;
  endedAt?: number;
  model?: string;
  provider?: string;
  channel?: SessionChannel;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
const s = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
const n = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** `channel:<id>` / `group:<id>` / `user:<id>` → the id; a bare id passes through */
function targetId(to: string | undefined): { id?: string; kind?: string } {
  if (!to) return {};
  const m = /^(channel|group|user|chat|direct|dm|room):(.+)$/.exec(to);
  if (m) return { kind: m[1], id: m[2] };
  return { id: to };
}

/** Merges the channel facts scattered over the key, origin, deliveryContext, route and last* fields. */
export function channelOf(key: string, e: Obj): SessionChannel | undefined {
  const fromKey = parseSessionKey(key).channel;
  const origin = isObj(e.origin) ? e.origin : {};
  const dc = isObj(e.deliveryContext) ? e.deliveryContext : {};
  const route = isObj(e.route) ? e.route : {};
  const delivery = isObj(e.delivery) ? e.delivery : {};
  const provider =
    fromKey?.provider ??
    s(dc.channel) ??
    s(origin.provider) ??
    s(route.channel) ??
    s(delivery.channel) ??
    s(e.lastChannel) ??
    s(e.channel);
  const to = s(dc.to) ?? s(route.to) ?? s(delivery.to) ?? s(e.lastTo) ?? s(origin.to);
  const target = targetId(to);
  const threadRaw = dc.threadId ?? route.threadId ?? delivery.threadId ?? e.lastThreadId ?? origin.threadId;
  const thread = typeof threadRaw === 'number' ? String(threadRaw) : s(threadRaw);
  const chatType =
    fromKey?.chatType ??
    s(e.chatType) ??
    s(origin.chatType) ??
    (target.kind === 'channel' ? 'channel' : target.kind === 'group' ? 'group' : undefined);
  const accountId = fromKey?.accountId ?? s(dc.accountId) ?? s(origin.accountId) ?? s(e.lastAccountId);

  const ch: SessionChannel = {};
  if (provider) ch.provider = provider;
  const channelId = fromKey?.channelId ?? (target.kind !== 'user' ? target.id : undefined);
  if (channelId) ch.channelId = channelId;
  const threadId = fromKey?.threadId ?? thread;
  if (threadId) ch.threadId = threadId;
  if (chatType) ch.chatType = chatType;
  if (accountId) ch.accountId = accountId;
  return Object.keys(ch).length ? ch : undefined;
}

/** Normalizes one entry; undefined when it has no sessionId (nothing to follow). */
export function normalizeSessionEntry(
  sessionKey: string,
  raw: unknown,
  fallbackAgentId = 'main',
): SessionsJsonEntry | undefined {
  if (!isObj(raw)) return undefined;
  const sessionId = s(raw.sessionId);
  if (!sessionId) return undefined;
  const agentId = parseSessionKey(sessionKey).agentId ?? fallbackAgentId;
  const e: SessionsJsonEntry = { sessionKey, agentId, sessionId };
  const set = <K extends keyof SessionsJsonEntry>(k: K, v: SessionsJsonEntry[K] | undefined) => {
    if (v !== undefined) e[k] = v;
  };
  set('sessionFile', s(raw.sessionFile));
  set('updatedAt', n(raw.updatedAt));
  set('label', s(raw.label));
  set('displayName', s(raw.displayName));
  set('spawnedBy', s(raw.spawnedBy) ?? s(raw.parentSessionKey));
  set('spawnDepth', n(raw.spawnDepth));
  set('status', s(raw.status));
  set('startedAt', n(raw.startedAt) ?? n(raw.sessionStartedAt));
  set('endedAt', n(raw.endedAt));
  set('model', s(raw.model));
  set('provider', s(raw.modelProvider));
  set('channel', channelOf(sessionKey, raw));
  return e;
}

export interface ParsedSessionsJson {
  entries: SessionsJsonEntry[];
  /** keys whose value could not be used (no sessionId, not an object) */
  skipped: number;
}

/** Parses the whole file's JSON value. Throws only when the top level is not an object. */
export function parseSessionsJson(value: unknown, fallbackAgentId = 'main'): ParsedSessionsJson {
  if (!isObj(value)) throw new Error('sessions.json is not an object');
  const entries: SessionsJsonEntry[] = [];
  let skipped = 0;
  for (const [key, raw] of Object.entries(value)) {
    const e = normalizeSessionEntry(key, raw, fallbackAgentId);
    if (e) entries.push(e);
    else skipped++;
  }
  return { entries, skipped };
}

/** Parses sessions.json text; returns an error string instead of throwing. */
export function parseSessionsJsonText(
  text: string,
  fallbackAgentId = 'main',
): ParsedSessionsJson | { error: string } {
  try {
    return parseSessionsJson(JSON.parse(text), fallbackAgentId);
  } catch (err) {
    return { error: (err as Error).message.slice(0, 200) };
  }
}

/** the dedupe key of a parent → child link; the transcript normalizer uses the same one */
export function spawnDedupeKey(parentKey: string, childKey: string): string {
  return `spawn/${parentKey}/${childKey}`;
}

/** file name a transcript of this entry has (from sessionFile, else `<sessionId>.jsonl`) */
export function entryTranscriptName(e: SessionsJsonEntry): string {
  return e.sessionFile ? path.basename(e.sessionFile) : `${e.sessionId}.jsonl`;
}

/** `session.seen` (+ `subagent.spawned` when the entry names its parent) */
export function sessionEntryToEvents(entry: SessionsJsonEntry, source: SourceKind, ts: number): PulseEvent[] {
  const at = entry.updatedAt ?? ts;
  const seen: SessionSeenEvent = {
    type: 'session.seen',
    ts: at,
    source,
    sessionKey: entry.sessionKey,
    agentId: entry.agentId,
    dedupeKey: `seen/${entry.sessionKey}/${entry.sessionId}/${entry.updatedAt ?? 'na'}`,
    sessionId: entry.sessionId,
  };
  if (entry.label) seen.label = entry.label;
  if (entry.displayName) seen.displayName = entry.displayName;
  if (entry.spawnedBy) seen.parentKey = entry.spawnedBy;
  if (entry.spawnDepth !== undefined) seen.spawnDepth = entry.spawnDepth;
  if (entry.channel) seen.channel = entry.channel;
  if (entry.updatedAt !== undefined) seen.updatedAt = entry.updatedAt;
  if (entry.model) seen.model = entry.model;
  if (entry.provider) seen.provider = entry.provider;
  if (entry.status) seen.rowStatus = entry.status;
  const out: PulseEvent[] = [seen];
  if (entry.spawnedBy) {
    const spawned: SubagentSpawnedEvent = {
      type: 'subagent.spawned',
      ts: entry.startedAt ?? at,
      source,
      sessionKey: entry.spawnedBy,
      agentId: parseSessionKey(entry.spawnedBy).agentId ?? entry.agentId,
      dedupeKey: spawnDedupeKey(entry.spawnedBy, entry.sessionKey),
      parentKey: entry.spawnedBy,
      childKey: entry.sessionKey,
    };
    if (entry.label) spawned.label = entry.label;
    out.push(spawned);
  }
  return out;
}

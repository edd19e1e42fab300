/**
 * One `session_nodes` row → `session.seen` (+ `subagent.spawned`), through the same entry
 * normalization the sessions.json reader uses, so both sources give one fact one dedupe key.
 * `entry_json` is the canonical SessionEntry; the promoted columns are OpenClaw's own index of
 * it, so they fill in whatever the entry lacks (and stand in for it when it does not parse).
 */
import type { PulseEvent } from '../../model/events.js';
import { parseSessionKey } from '../../openclaw/session-key.js';
import {
  normalizeSessionEntry,
  type SessionsJsonEntry,
  sessionEntryToEvents,
} from '../../openclaw/sessions-json.js';
import type { NodeRow } from './agent-db.js';

export interface NodeEventsResult {
  events: PulseEvent[];
  /** entry_json did not parse: the row's columns were used alone */
  entryMalformed: boolean;
}

export function nodeRowToEvents(row: NodeRow, agentIdFromPath: string): NodeEventsResult {
  let raw: unknown;
  let entryMalformed = false;
  try {
    raw = JSON.parse(row.entry_json);
  } catch {
    entryMalformed = true;
  }
  const base: Record<string, unknown> =
    raw && typeof raw === 'object' && !Array.isArray(raw) ? { ...(raw as object) } : {};
  if (!Object.keys(base).length) entryMalformed = true;
  // the row's promoted columns are written in the same transaction as entry_json; they win
  // for identity (current_session_id is what transcript_events use) and fill the rest
  base.sessionId = row.current_session_id;
  base.updatedAt = row.updated_at;
  if (row.status && base.status === undefined) base.status = row.status;
  if (row.label && base.label === undefined) base.label = row.label;
  if (row.display_name && base.displayName === undefined) base.displayName = row.display_name;
  const parent = row.spawned_by ?? row.parent_session_key;
  if (parent && base.spawnedBy === undefined && base.parentSessionKey === undefined) base.spawnedBy = parent;

  const agentId = parseSessionKey(row.session_key).agentId ?? agentIdFromPath;
  const entry: SessionsJsonEntry = normalizeSessionEntry(row.session_key, base, agentId) ?? {
    sessionKey: row.session_key,
    agentId,
    sessionId: row.current_session_id,
    updatedAt: row.updated_at,
  };
  return { events: sessionEntryToEvents(entry, 'sqlite', row.updated_at), entryMalformed };
}

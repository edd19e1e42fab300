/**
 * One-shot readers for `clawpulse replay`: whole files, synchronously, no watching, no offsets.
 * Events come in file order: every sessions.json first (so sessions and their links exist),
 * then each transcript in name order.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { PulseEvent } from '../../model/events.js';
import { createTranscriptNormalizer } from '../../openclaw/normalize.js';
import { agentIdFromPath, agentsDir, parseTranscriptName } from '../../openclaw/paths.js';
import { fallbackSessionKey } from '../../openclaw/session-key.js';
import {
  parseSessionsJsonText,
  type SessionsJsonEntry,
  sessionEntryToEvents,
} from '../../openclaw/sessions-json.js';
import { processLine, processLines } from './line-processor.js';
import { createSessionIndex, type SessionIndex } from './session-index.js';

export interface OnceResult {
  events: PulseEvent[];
  malformed: number;
}

function loadStoreInto(index: SessionIndex, file: string, out: PulseEvent[]): number {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return 0;
  }
  const parsed = parseSessionsJsonText(text, agentIdFromPath(file) ?? 'main');
  if ('error' in parsed) return 1;
  const entries: SessionsJsonEntry[] = index.update(file, parsed.entries);
  for (const e of entries) out.push(...sessionEntryToEvents(e, 'files', e.updatedAt ?? 0));
  return 0;
}

function transcriptInto(index: SessionIndex, file: string, out: PulseEvent[], explicit = false): number {
  // a file named on the command line is read whatever its name; in a folder only live transcripts are
  const name =
    parseTranscriptName(file) ??
    (explicit ? { sessionId: path.basename(file).replace(/\.jsonl$/, '') } : undefined);
  if (!name) return 0;
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch {
    return 0;
  }
  const entry = index.lookup(file, name.sessionId);
  const agentId = entry?.agentId ?? agentIdFromPath(file) ?? 'main';
  const normalizer = createTranscriptNormalizer({
    sessionKey: entry?.sessionKey ?? fallbackSessionKey(agentId, name.sessionId),
    agentId,
    sessionId: name.sessionId,
    source: 'files',
  });
  let bad = 0;
  const last = buf.lastIndexOf(0x0a);
  processLines(buf.subarray(0, last + 1), normalizer, out, () => bad++);
  // a last line without newline is read too: nothing more will be appended in a replay
  if (last + 1 < buf.length) {
    const r = processLine(buf.subarray(last + 1), normalizer);
    if (r.error) bad++;
    out.push(...r.events);
  }
  return bad;
}

/** every agent's sessions.json and live transcripts under a state dir */
export function readStateDirOnceWithStats(stateDir: string): OnceResult {
  const index = createSessionIndex();
  const events: PulseEvent[] = [];
  let malformed = 0;
  let agents: string[] = [];
  try {
    agents = fs
      .readdirSync(agentsDir(stateDir), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch {
    return { events, malformed };
  }
  const dirs = agents.map((a) => path.join(agentsDir(stateDir), a, 'sessions'));
  for (const d of dirs) malformed += loadStoreInto(index, path.join(d, 'sessions.json'), events);
  for (const d of dirs) {
    let names: string[] = [];
    try {
      names = fs
        .readdirSync(d)
        .filter((n) => parseTranscriptName(n))
        .sort();
    } catch {
      continue;
    }
    for (const n of names) malformed += transcriptInto(index, path.join(d, n), events);
  }
  return { events, malformed };
}

export function readStateDirOnce(stateDir: string): PulseEvent[] {
  return readStateDirOnceWithStats(stateDir).events;
}

/** one transcript; a sibling sessions.json (when present) names its session */
export function readTranscriptOnce(file: string): PulseEvent[] {
  const index = createSessionIndex();
  const events: PulseEvent[] = [];
  const all: PulseEvent[] = [];
  loadStoreInto(index, path.join(path.dirname(path.resolve(file)), 'sessions.json'), all);
  const sessionId = parseTranscriptName(file)?.sessionId ?? path.basename(file).replace(/\.jsonl$/, '');
  const entry = index.lookup(file, sessionId);
  if (entry) events.push(...sessionEntryToEvents(entry, 'files', entry.updatedAt ?? 0));
  transcriptInto(index, path.resolve(file), events, true);
  return events;
}

/**
 * One-shot readers for `clawpulse replay`: synchronously, no watching, no offsets. Events come
 * in file order: every sessions.json first (so sessions and their links exist), then each
 * transcript in name order, streamed in 64 KiB chunks (a state dir of any size is read through
 * that much buffer), so memory is what the consumer keeps.
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

/**
 * Where a streaming read hands its events: in batches (at most one read chunk of lines), each
 * consumed synchronously (the array is reused after the call returns).
 */
export interface OnceSink {
  /** a file starts: a sessions.json, or a transcript (its events follow until the next call) */
  file?(file: string, kind: 'sessions' | 'transcript'): void;
  events(batch: readonly PulseEvent[]): void;
}

export interface OnceStats {
  /** transcripts read */
  transcripts: number;
  /** sessions.json files that parsed */
  stores: number;
  lines: number;
  malformed: number;
  events: number;
}

/**
 * a read chunk: a transcript of any size is read through this much memory (longer lines grow
 * it). Small on purpose: a chunk's events die young. With 1 MiB a million-line replay peaked at
 * 240 MB RSS (a chunk's events lived long enough to be promoted), with 64 KiB at 220 MB, and ran
 * 20% faster.
 */
const CHUNK_BYTES = 1 << 16;

const emptyStats = (): OnceStats => ({ transcripts: 0, stores: 0, lines: 0, malformed: 0, events: 0 });

function emit(sink: OnceSink, stats: OnceStats, batch: PulseEvent[]): void {
  if (!batch.length) return;
  stats.events += batch.length;
  sink.events(batch);
  batch.length = 0;
}

function loadStoreInto(index: SessionIndex, file: string, sink: OnceSink, stats: OnceStats): void {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return;
  }
  const parsed = parseSessionsJsonText(text, agentIdFromPath(file) ?? 'main');
  if ('error' in parsed) {
    stats.malformed++;
    return;
  }
  stats.stores++;
  sink.file?.(file, 'sessions');
  const entries: SessionsJsonEntry[] = index.update(file, parsed.entries);
  const out: PulseEvent[] = [];
  for (const e of entries) out.push(...sessionEntryToEvents(e, 'files', e.updatedAt ?? 0));
  emit(sink, stats, out);
}

function transcriptInto(
  index: SessionIndex,
  file: string,
  sink: OnceSink,
  stats: OnceStats,
  explicit = false,
  lead: PulseEvent[] = [],
): void {
  // a file named on the command line is read whatever its name; in a folder only live transcripts are
  const name =
    parseTranscriptName(file) ??
    (explicit ? { sessionId: path.basename(file).replace(/\.jsonl$/, '') } : undefined);
  if (!name) return;
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return;
  }
  try {
    const entry = index.lookup(file, name.sessionId);
    const agentId = entry?.agentId ?? agentIdFromPath(file) ?? 'main';
    const normalizer = createTranscriptNormalizer({
      sessionKey: entry?.sessionKey ?? fallbackSessionKey(agentId, name.sessionId),
      agentId,
      sessionId: name.sessionId,
      source: 'files',
    });
    stats.transcripts++;
    sink.file?.(file, 'transcript');
    const out: PulseEvent[] = [...lead];
    const bad = () => stats.malformed++;
    let buf = Buffer.allocUnsafe(CHUNK_BYTES);
    let held = 0; // bytes of an unfinished line kept at the start of buf
    for (;;) {
      if (held === buf.length) {
        // one line longer than the buffer: grow it (the line must be read whole)
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, held);
        buf = bigger;
      }
      const n = fs.readSync(fd, buf, held, buf.length - held, null);
      const end = held + n;
      if (n === 0) {
        // a last line without newline is read too: nothing more will be appended in a replay
        if (held > 0) {
          const r = processLine(buf.subarray(0, held), normalizer);
          stats.lines++;
          if (r.error) bad();
          for (const e of r.events) out.push(e);
        }
        emit(sink, stats, out);
        return;
      }
      const last = buf.lastIndexOf(0x0a, end - 1);
      if (last < 0) {
        held = end;
        continue;
      }
      stats.lines += processLines(buf.subarray(0, last + 1), normalizer, out, bad).lines;
      emit(sink, stats, out);
      held = end - (last + 1);
      if (held > 0) buf.copy(buf, 0, last + 1, end);
    }
  } catch {
    // unreadable part way (EIO): what was read counts
  } finally {
    fs.closeSync(fd);
  }
}

/** every agent's sessions.json, then every live transcript, under a state dir; streamed */
export function streamStateDir(stateDir: string, sink: OnceSink): OnceStats {
  const stats = emptyStats();
  const index = createSessionIndex();
  let agents: string[] = [];
  try {
    agents = fs
      .readdirSync(agentsDir(stateDir), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch {
    return stats;
  }
  const dirs = agents.map((a) => path.join(agentsDir(stateDir), a, 'sessions'));
  for (const d of dirs) loadStoreInto(index, path.join(d, 'sessions.json'), sink, stats);
  for (const d of dirs) {
    for (const n of transcriptNames(d)) transcriptInto(index, path.join(d, n), sink, stats);
  }
  return stats;
}

/**
 * A flat transcript folder: sessions.json and <sessionId>.jsonl side by side (the original
 * TRANSCRIPT_DIR layout, one agent's sessions folder, a demo recording); streamed.
 */
export function streamTranscriptFolder(dir: string, sink: OnceSink): OnceStats {
  const stats = emptyStats();
  const index = createSessionIndex();
  loadStoreInto(index, path.join(dir, 'sessions.json'), sink, stats);
  for (const n of transcriptNames(dir)) transcriptInto(index, path.join(dir, n), sink, stats);
  return stats;
}

/** one transcript (any name); a sibling sessions.json (when present) names its session; streamed */
export function streamTranscript(file: string, sink: OnceSink): OnceStats {
  const stats = emptyStats();
  const index = createSessionIndex();
  // the sibling sessions.json only names this transcript's session: its other entries are not emitted
  loadStoreInto(index, path.join(path.dirname(path.resolve(file)), 'sessions.json'), { events() {} }, stats);
  stats.events = 0;
  stats.stores = 0;
  const sessionId = parseTranscriptName(file)?.sessionId ?? path.basename(file).replace(/\.jsonl$/, '');
  const entry = index.lookup(file, sessionId);
  const lead = entry ? sessionEntryToEvents(entry, 'files', entry.updatedAt ?? 0) : [];
  transcriptInto(index, path.resolve(file), sink, stats, true, lead);
  return stats;
}

function transcriptNames(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir)
      .filter((n) => parseTranscriptName(n))
      .sort();
  } catch {
    return [];
  }
}

function collect(read: (sink: OnceSink) => OnceStats): OnceResult {
  const events: PulseEvent[] = [];
  const stats = read({ events: (batch) => events.push(...batch) });
  return { events, malformed: stats.malformed };
}

/** every agent's sessions.json and live transcripts under a state dir, in one array */
export function readStateDirOnceWithStats(stateDir: string): OnceResult {
  return collect((sink) => streamStateDir(stateDir, sink));
}

export function readStateDirOnce(stateDir: string): PulseEvent[] {
  return readStateDirOnceWithStats(stateDir).events;
}

/** one transcript; a sibling sessions.json (when present) names its session */
export function readTranscriptOnce(file: string): PulseEvent[] {
  return collect((sink) => streamTranscript(file, sink)).events;
}

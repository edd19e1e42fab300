/**
 * Where OpenClaw keeps its state under `$OPENCLAW_STATE_DIR` (default `~/.openclaw`), and which
 * file names in a `sessions/` folder are live transcripts. Archives (`.reset.`, `.deleted.`,
 * `.bak.`, `.zst`), checkpoints, locks and trajectory side files are never transcripts: following
 * them would count a renamed session twice.
 */
import os from 'node:os';
import path from 'node:path';

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.OPENCLAW_STATE_DIR || path.join(env.HOME || os.homedir(), '.openclaw');
}

export function agentsDir(stateDir: string): string {
  return path.join(stateDir, 'agents');
}

export function sessionsDir(stateDir: string, agentId: string): string {
  return path.join(stateDir, 'agents', agentId, 'sessions');
}

export function sessionsJsonPath(stateDir: string, agentId: string): string {
  return path.join(sessionsDir(stateDir, agentId), 'sessions.json');
}

/** per-agent SQLite store (OpenClaw ≥ 2026.8) */
export function agentSqlitePath(stateDir: string, agentId: string): string {
  return path.join(stateDir, 'agents', agentId, 'agent', 'openclaw-agent.sqlite');
}

/** global SQLite state (≥ 2026.8) */
export function globalSqlitePath(stateDir: string): string {
  return path.join(stateDir, 'state', 'openclaw.sqlite');
}

export function configPath(stateDir: string): string {
  return path.join(stateDir, 'openclaw.json');
}

export function subagentRunsPath(stateDir: string): string {
  return path.join(stateDir, 'subagents', 'runs.json');
}

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const LIVE_TRANSCRIPT = new RegExp(`^(${UUID})(?:-topic-([^.]+))?\\.jsonl$`);
const SIDE_MARKERS = ['.reset.', '.deleted.', '.bak.', '.checkpoint.', '.trajectory.', '.trajectory-path.'];

export interface TranscriptName {
  sessionId: string;
  /** Telegram topic files: `<sessionId>-topic-<n>.jsonl` */
  topic?: string;
}

/**
 * Parses a transcript file name. Returns undefined for anything that is not a live transcript:
 * archives, compressed files, checkpoints, locks, trajectory side files, sessions.json.
 */
export function parseTranscriptName(fileName: string): TranscriptName | undefined {
  const base = path.basename(fileName);
  if (!base.endsWith('.jsonl')) return undefined;
  if (SIDE_MARKERS.some((m) => base.includes(m))) return undefined;
  const m = LIVE_TRANSCRIPT.exec(base);
  if (m) return m[2] ? { sessionId: m[1] as string, topic: m[2] } : { sessionId: m[1] as string };
  // other hex ids (older/odd builds) still count; other .jsonl files (tool logs, captures) do not
  const loose = /^([0-9a-fA-F]{8}[0-9a-fA-F-]*?)(?:-topic-([^.]+))?\.jsonl$/.exec(base);
  if (!loose) return undefined;
  return loose[2] ? { sessionId: loose[1] as string, topic: loose[2] } : { sessionId: loose[1] as string };
}

export function isLiveTranscriptName(fileName: string): boolean {
  return parseTranscriptName(fileName) !== undefined;
}

export function isSessionsJsonName(fileName: string): boolean {
  return path.basename(fileName) === 'sessions.json';
}

/** `<state>/agents/<agentId>/sessions/<file>` → agentId, else undefined */
export function agentIdFromPath(filePath: string): string | undefined {
  const dir = path.dirname(path.resolve(filePath));
  if (path.basename(dir) !== 'sessions') return undefined;
  const agentDir = path.dirname(dir);
  if (path.basename(path.dirname(agentDir)) !== 'agents') return undefined;
  return path.basename(agentDir) || undefined;
}

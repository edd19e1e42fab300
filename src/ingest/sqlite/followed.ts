/**
 * What the SQLite source remembers per followed agent database, and the cheap file checks it
 * uses to skip polls where nothing was committed.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { NormalizerState, TranscriptNormalizer } from '../../openclaw/normalize.js';
import type { SourceHealth, SourceState } from '../source.js';
import type { AgentDb } from './agent-db.js';

export interface Cursor {
  sessionId: string;
  sessionKey: string;
  lastSeq: number;
  normalizer: TranscriptNormalizer;
  offsetKey: string;
}

export interface Followed {
  path: string;
  agentId: string;
  db?: AgentDb;
  error?: string;
  /** stat of the DB file and its -wal: when neither moved, nothing was committed */
  stamp?: string;
  lastReadAt: number;
  /** when rows or nodes last came in: an idle DB's handle is closed */
  lastChangeAt: number;
  lastRowid: number;
  nodesWatermark: number;
  nodeStamps: Map<string, number>;
  cursors: Map<string, Cursor>;
  pending: Set<string>;
  lastSweepAt: number;
  /** the file's inode when opened: a file replaced under the same name (restore) is reopened */
  ino?: number;
}

/**
 * A DB found on disk. The saved nodes offset is the newest updated_at seen plus the keys seen
 * at exactly that time, so a restart neither repeats nor misses rows sharing the watermark.
 */
export function newFollowed(path: string, agentId: string, savedNodes: unknown): Followed {
  const saved = savedNodes as { updatedAt?: unknown; keys?: unknown } | undefined;
  const watermark = typeof saved?.updatedAt === 'number' ? saved.updatedAt : 0;
  const atMark = Array.isArray(saved?.keys)
    ? saved.keys.filter((k): k is string => typeof k === 'string')
    : [];
  return {
    path,
    agentId,
    lastRowid: 0,
    nodesWatermark: watermark,
    nodeStamps: new Map(atMark.map((k) => [k, watermark])),
    cursors: new Map(),
    pending: new Set(),
    lastSweepAt: Number.NEGATIVE_INFINITY,
    lastReadAt: Number.NEGATIVE_INFINITY,
    lastChangeAt: Number.NEGATIVE_INFINITY,
  };
}

/** the saved normalizer state of a cursor offset, when it has one */
export function savedNormState(v: unknown): NormalizerState | undefined {
  const norm = (v as { norm?: unknown } | undefined)?.norm;
  return norm && typeof norm === 'object' ? (norm as NormalizerState) : undefined;
}

/** cheap change detector: any commit moves the mtime/size of the DB file or of its -wal */
export function statStamp(p: string): string | undefined {
  try {
    const db = fs.statSync(p, { bigint: true });
    let wal = '';
    try {
      const w = fs.statSync(`${p}-wal`, { bigint: true });
      wal = `${w.mtimeNs}:${w.size}`;
    } catch {
      // no -wal: rollback-journal mode or fully checkpointed and closed
    }
    return `${db.ino}:${db.mtimeNs}:${db.size}:${wal}`;
  } catch {
    return undefined;
  }
}

export function inodeOf(p: string): number | undefined {
  try {
    return fs.statSync(p).ino;
  } catch {
    return undefined;
  }
}

export function nodesOffsetKey(dbPath: string): string {
  return `sqlite:${dbPath}:nodes`;
}

export interface HealthCounters {
  lagMs: number;
  malformed: number;
  busyRetries: number;
  sinkErrors: number;
  lastEventAt: number | undefined;
}

export function describeHealth(
  all: Followed[],
  state: SourceState,
  agentsDir: string,
  n: HealthCounters,
): SourceHealth {
  const ok = all.filter((f) => !f.error && f.stamp !== undefined); // read at least once, no error since
  const broken = all.filter((f) => f.error);
  const agentOf = (f: Followed | undefined) => path.basename(path.dirname(path.dirname(f?.path ?? '')));
  let s = state;
  let detail: string = state;
  if (state !== 'stopped' && state !== 'starting') {
    if (!all.length) {
      s = 'standby';
      detail = `no agent databases under ${agentsDir}`;
    } else if (!ok.length) {
      s = 'down';
      detail = `${broken.length} agent database(s) unreadable: ${agentOf(broken[0])}: ${broken[0]?.error ?? 'not read yet'}`;
    } else {
      s = 'live';
      detail = `following ${ok.length} agent database(s)`;
      if (broken.length)
        detail += `; ${broken.length} unreadable: ${agentOf(broken[0])}: ${broken[0]?.error}`;
    }
  }
  if (n.busyRetries) detail += `; ${n.busyRetries} busy retries`;
  if (n.sinkErrors) detail += `; ${n.sinkErrors} batches refused by the pipeline`;
  const h: SourceHealth = {
    id: 'sqlite',
    kind: 'sqlite',
    state: s,
    lagMs: n.lagMs,
    malformed: n.malformed,
    detail,
    inputs: ok.length,
  };
  if (n.lastEventAt !== undefined) h.lastEventAt = n.lastEventAt;
  return h;
}

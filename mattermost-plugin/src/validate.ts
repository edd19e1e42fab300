/**
 * Tolerant validation of `props.livestatus`. Props come from whoever can write a post, so nothing
 * here trusts shapes: a broken root means "fall back to the message"; a broken line or child is
 * dropped and the rest still renders. Hand-written (no zod) to keep the browser bundle small.
 */
import type {
  LiveStatus,
  LiveStatusLine,
  LiveStatusNode,
  LiveStatusProps,
} from '../../src/render/livestatus-props.js';
import type { MmPost } from './types.js';

const STATUSES: ReadonlySet<string> = new Set(['active', 'idle', 'done', 'error', 'interrupted', 'stuck']);
const TOOL_STATUSES: ReadonlySet<string> = new Set(['running', 'ok', 'error']);
const MAX_DEPTH = 16;
const MAX_LINES = 500;
const MAX_TEXT = 2000;

export type RenderLine = LiveStatusLine | { kind: 'child'; childIndex: number };

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function num(x: unknown, fallback = 0): number {
  return typeof x === 'number' && Number.isFinite(x) ? x : fallback;
}

function str(x: unknown, fallback = ''): string {
  if (typeof x !== 'string') return fallback;
  return x.length > MAX_TEXT ? `${x.slice(0, MAX_TEXT)}…` : x;
}

function parseLine(x: unknown, childCount: number): RenderLine | null {
  if (!isObject(x)) return null;
  if (x.kind === 'child') {
    const i = x.childIndex;
    return typeof i === 'number' && Number.isInteger(i) && i >= 0 && i < childCount
      ? { kind: 'child', childIndex: i }
      : null;
  }
  if (x.kind !== 'text' && x.kind !== 'tool' && x.kind !== 'system') return null;
  if (typeof x.text !== 'string') return null;
  const line: LiveStatusLine = { kind: x.kind, text: str(x.text) };
  if (x.kind === 'tool') {
    line.toolStatus =
      typeof x.toolStatus === 'string' && TOOL_STATUSES.has(x.toolStatus)
        ? (x.toolStatus as LiveStatusLine['toolStatus'])
        : 'running';
  }
  if (typeof x.durationMs === 'number' && Number.isFinite(x.durationMs)) line.durationMs = x.durationMs;
  return line;
}

function parseNode(x: unknown, depth: number): LiveStatusNode | null {
  if (!isObject(x) || depth > MAX_DEPTH) return null;
  if (typeof x.sessionKey !== 'string' || x.sessionKey === '') return null;
  if (typeof x.status !== 'string' || !STATUSES.has(x.status)) return null;
  const rawChildren = Array.isArray(x.children) ? x.children : [];
  // Children that fail validation are dropped, so child lines must be remapped to new indexes.
  const children: LiveStatusNode[] = [];
  const indexMap = new Map<number, number>();
  rawChildren.forEach((c, i) => {
    const node = parseNode(c, depth + 1);
    if (node) {
      indexMap.set(i, children.length);
      children.push(node);
    }
  });
  const rawLines = Array.isArray(x.lines) ? x.lines.slice(-MAX_LINES) : [];
  const lines: RenderLine[] = [];
  const placed = new Set<number>();
  for (const raw of rawLines) {
    const line = parseLine(raw, rawChildren.length);
    if (!line) continue;
    if (line.kind === 'child') {
      const mapped = indexMap.get(line.childIndex);
      if (mapped === undefined || placed.has(mapped)) continue;
      placed.add(mapped);
      lines.push({ kind: 'child', childIndex: mapped });
    } else {
      lines.push(line);
    }
  }
  // A sub-agent nobody placed still deserves to be seen: append it at the end.
  children.forEach((_, i) => {
    if (!placed.has(i)) lines.push({ kind: 'child', childIndex: i });
  });
  const node: LiveStatusNode = {
    sessionKey: x.sessionKey,
    agentId: str(x.agentId),
    label: str(x.label) || x.sessionKey,
    status: x.status as LiveStatus,
    startedAt: num(x.startedAt),
    tokens: Math.max(0, num(x.tokens)),
    costUsd: Math.max(0, num(x.costUsd)),
    lines,
    children,
  };
  if (typeof x.endedAt === 'number' && Number.isFinite(x.endedAt)) node.endedAt = x.endedAt;
  // optional (v1 stays v1): only a literal true marks the cost as priced from the price table
  if (x.costEstimated === true && node.costUsd > 0) node.costEstimated = true;
  if (typeof x.error === 'string' && x.error !== '') node.error = str(x.error);
  return node;
}

/** Returns valid props or null (never throws). Accepts the props object or its JSON string. */
export function parseLiveStatus(raw: unknown): LiveStatusProps | null {
  try {
    let value = raw;
    if (typeof value === 'string') value = JSON.parse(value);
    if (!isObject(value)) return null;
    // Only version 1 exists; a later version may change meaning, so refuse rather than misrender.
    if (value.v !== 1) return null;
    const root = parseNode(value.root, 0);
    if (!root) return null;
    const out: LiveStatusProps = { v: 1, updatedAt: num(value.updatedAt), root };
    const stale = value.stale_after_ms;
    if (typeof stale === 'number' && Number.isFinite(stale) && stale > 0) out.stale_after_ms = stale;
    return out;
  } catch {
    return null;
  }
}

export function liveStatusOfPost(post: MmPost | null | undefined): LiveStatusProps | null {
  if (!post || !isObject(post.props)) return null;
  return parseLiveStatus(post.props.livestatus);
}

/** Sessions still going: shown in the panel and the widget. */
export function isLive(status: LiveStatus): boolean {
  return status === 'active' || status === 'idle' || status === 'stuck';
}

/** A post as it arrives in a WebSocket event: `data.post` is a JSON string. */
export function parseWsPost(raw: unknown): MmPost | null {
  try {
    const value = typeof raw === 'string' ? JSON.parse(raw) : raw;
    if (!isObject(value) || typeof value.id !== 'string' || value.id === '') return null;
    return value as unknown as MmPost;
  } catch {
    return null;
  }
}

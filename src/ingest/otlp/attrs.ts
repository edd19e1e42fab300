/**
 * Attribute helpers shared by the metric and span mappers: flattening OTLP KeyValues, time
 * in nanoseconds → ms, and who a data point belongs to. OpenClaw's diagnostics-otel exports
 * session keys as `unknown` (keys starting with `agent:` are scrubbed), so when no usable key
 * arrives the data lands on a synthetic `otlp:<agent or service>` session and still shows.
 */
import { parseSessionKey } from '../../openclaw/session-key.js';
import { exactInt } from '../sanitize.js';
import type { AnyValue, KeyValue } from './proto.js';

export type Attrs = Record<string, string | number | boolean>;

export function flatten(kvs: readonly KeyValue[] | undefined, into: Attrs = {}): Attrs {
  for (const kv of kvs ?? []) {
    if (!kv || typeof kv.key !== 'string') continue;
    const v = scalar(kv.value);
    if (v !== undefined) into[kv.key] = v;
  }
  return into;
}

function scalar(v: AnyValue | undefined): string | number | boolean | undefined {
  if (!v || typeof v !== 'object') return undefined;
  if (typeof v.stringValue === 'string') return v.stringValue;
  if (typeof v.boolValue === 'boolean') return v.boolValue;
  if (v.intValue !== undefined) {
    // int64: a number only when exact; a larger one stays its decimal text (an id still reads right)
    const n = exactInt(v.intValue);
    if (n !== undefined) return n;
    return typeof v.intValue === 'string' && /^-?\d+$/.test(v.intValue) ? v.intValue : undefined;
  }
  if (v.doubleValue !== undefined) {
    const n = Number(v.doubleValue);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** OTLP time (ns as string or number) → epoch ms; undefined when absent, zero or garbage */
export function nsToMs(ns: string | number | undefined): number | undefined {
  if (ns === undefined || ns === null || ns === '' || ns === 0 || ns === '0') return undefined;
  try {
    if (typeof ns === 'number') return Number.isFinite(ns) && ns > 0 ? Math.floor(ns / 1e6) : undefined;
    if (!/^\d+$/.test(ns)) return undefined;
    return Number(BigInt(ns) / 1_000_000n);
  } catch {
    return undefined;
  }
}

export function str(a: Attrs, ...keys: string[]): string | undefined {
  for (const k of keys) {
    const v = a[k];
    if (typeof v === 'string' && v) return v;
    if (typeof v === 'number') return String(v);
  }
  return undefined;
}

export function num(a: Attrs, ...keys: string[]): number | undefined {
  for (const k of keys) {
    const v = a[k];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) {
      // an integer past 2^53 would be rounded: not the value it says
      const n = v.includes('.') ? Number(v) : exactInt(v);
      if (n !== undefined && Number.isFinite(n)) return n;
    }
  }
  return undefined;
}

export interface Who {
  sessionKey: string;
  agentId: string;
}

const SCRUBBED = new Set(['unknown', '']);

/** the session and agent a point/span belongs to (resource attributes merged under its own) */
export function who(a: Attrs): Who {
  const key = str(a, 'openclaw.session.key', 'openclaw.sessionKey', 'openclaw.session_key');
  const agentAttr = str(a, 'openclaw.agent', 'openclaw.agent.id', 'openclaw.agentId', 'gen_ai.agent.id');
  const service = str(a, 'service.name') ?? 'openclaw';
  if (key && !SCRUBBED.has(key)) {
    return { sessionKey: key, agentId: parseSessionKey(key).agentId ?? agentAttr ?? service };
  }
  const agent = agentAttr ?? service;
  return { sessionKey: `otlp:${agent}`, agentId: agent };
}

/** a stable text of a point's identity, for delta bookkeeping and dedupe keys */
export function seriesKey(name: string, a: Attrs): string {
  return `${name}{${Object.keys(a)
    .sort()
    .map((k) => `${k}=${String(a[k])}`)
    .join(',')}}`;
}

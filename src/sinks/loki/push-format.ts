/**
 * Lifecycle events in the JSON form of Loki's push API (POST /loki/api/v1/push,
 * Content-Type: application/json):
 *
 *   {"streams":[{"stream":{"job":"clawpulse","event":"dispatch.finished","host":"h1"},
 *                "values":[["1700000000123000000","{\"event\":\"dispatch.finished\",...}"]]}]}
 *
 * A timestamp is a string of nanoseconds since the epoch. Labels are the low-cardinality
 * fields only (job, event, host, agent): every distinct label set is a stream Loki indexes,
 * so run ids, session keys and labels belong in the line, which is the whole event as JSON.
 */
import type { LifecycleEvent } from '../../dispatch/lifecycle.js';

export interface LokiEntry {
  /** label set; also the stream's identity */
  labels: Record<string, string>;
  /** unix epoch ns, as Loki wants it: a string of digits */
  tsNs: string;
  line: string;
}

export interface LokiPushBody {
  streams: Array<{ stream: Record<string, string>; values: Array<[string, string]> }>;
}

/** Built at emit time, so later changes to the event object do not reach Loki. */
export function toLokiEntry(e: LifecycleEvent, now: number): LokiEntry {
  const labels: Record<string, string> = { job: 'clawpulse', event: e.event, host: e.host };
  // Loki treats an empty label value as no label; leave it out rather than send ""
  if (e.agent) labels.agent = e.agent;
  const ms = Number.isFinite(e.ts) ? Math.trunc(e.ts) : Math.trunc(now);
  // ms * 1e6 passes 2^53 (epoch ns do): BigInt keeps every digit
  return { labels, tsNs: (BigInt(ms) * 1_000_000n).toString(), line: JSON.stringify(e) };
}

/** Groups entries by label set; each stream keeps its entries in push order. */
export function toPushBody(entries: readonly LokiEntry[]): LokiPushBody {
  const streams = new Map<string, LokiPushBody['streams'][number]>();
  for (const en of entries) {
    const key = JSON.stringify(Object.entries(en.labels).sort(([a], [b]) => (a < b ? -1 : 1)));
    let s = streams.get(key);
    if (!s) {
      s = { stream: en.labels, values: [] };
      streams.set(key, s);
    }
    s.values.push([en.tsNs, en.line]);
  }
  return { streams: [...streams.values()] };
}

/**
 * OTLP metrics from OpenClaw's diagnostics-otel plugin → PulseEvents.
 *
 *  - `openclaw.tokens` (attribute `openclaw.token` = input|output|cache_read|cache_write) and
 *    `openclaw.cost.usd` → one `llm.tokens` per (agent, provider, model, channel, session) and
 *    collection time. `prompt`/`total` are sums of the others and are ignored.
 *  - `openclaw.session.stuck` (+ `openclaw.session.stuck_age_ms`) → `session.stuck`.
 *
 * The OpenTelemetry JS SDK exports counters as CUMULATIVE sums by default: each export repeats
 * the running total since `startTimeUnixNano`. We keep the last total per series and emit the
 * difference; a new start time or a smaller total is a counter reset (OpenClaw restarted), so
 * the whole value is new. The first point of a series counts whole (its start is its origin).
 */
import type { LlmTokensEvent, PulseEvent, SessionStuckEvent } from '../../model/events.js';
import { exactInt } from '../sanitize.js';
import { type Attrs, flatten, nsToMs, num, seriesKey, str, who } from './attrs.js';
import type { HistogramPoint, NumberPoint, OtlpMetrics } from './proto.js';

export interface MetricsMapResult {
  events: PulseEvent[];
  /** points that could not be used (no value, garbage numbers) */
  rejected: number;
  /**
   * of those, points whose number was absurd rather than missing: an integer that is not exact
   * (past 2^53, e.g. 2^64), or a negative count, cost or age (every metric read here is >= 0)
   */
  anomalies: number;
}

export interface MetricsMapper {
  map(req: OtlpMetrics, now: number): MetricsMapResult;
  /** series whose running total we keep */
  seriesCount(): number;
}

const TOKEN_FIELDS: Record<string, 'input' | 'output' | 'cacheRead' | 'cacheWrite'> = {
  input: 'input',
  output: 'output',
  cache_read: 'cacheRead',
  cache_write: 'cacheWrite',
};

function isDelta(t: number | string | undefined): boolean {
  return t === 1 || t === 'AGGREGATION_TEMPORALITY_DELTA';
}

export function createMetricsMapper(opts: { maxSeries?: number } = {}): MetricsMapper {
  const maxSeries = opts.maxSeries ?? 10_000;
  // insertion-ordered: the oldest series is dropped first when the cap is reached
  const totals = new Map<string, { start: string; value: number }>();

  function remember(series: string, start: string, value: number): void {
    totals.delete(series);
    totals.set(series, { start, value });
    if (totals.size > maxSeries) {
      const oldest = totals.keys().next().value;
      if (oldest !== undefined) totals.delete(oldest);
    }
  }

  /** the part of a running total that is new since the last export */
  function newPart(series: string, start: string, value: number, delta: boolean): number {
    if (delta) return value;
    const prev = totals.get(series);
    remember(series, start, value);
    if (!prev || prev.start !== start || value < prev.value) return value;
    return value - prev.value;
  }

  return {
    seriesCount: () => totals.size,
    map(req, now) {
      const events: PulseEvent[] = [];
      let rejected = 0;
      let anomalies = 0;
      const tokens = new Map<string, LlmTokensEvent>();
      const stuck = new Map<string, SessionStuckEvent>();
      const costs: Array<{ a: Attrs; timeNs: string; ts: number; usd: number }> = [];

      /** the point's value; an int64 only when exact (protobuf and OTLP/JSON give it as text) */
      const pointValue = (p: NumberPoint): number | undefined => {
        if (p.asInt === undefined && p.asDouble === undefined) return undefined;
        const v = p.asInt !== undefined ? exactInt(p.asInt) : Number(p.asDouble);
        if (v === undefined || !Number.isFinite(v) || v < 0) {
          if (p.asInt !== undefined || v !== undefined) anomalies++;
          return undefined;
        }
        return v;
      };

      for (const rm of req.resourceMetrics ?? []) {
        const res = flatten(rm?.resource?.attributes);
        for (const sm of rm?.scopeMetrics ?? []) {
          for (const m of sm?.metrics ?? []) {
            const name = m?.name;
            if (
              name !== 'openclaw.tokens' &&
              name !== 'openclaw.cost.usd' &&
              name !== 'openclaw.session.stuck' &&
              name !== 'openclaw.session.stuck_age_ms'
            ) {
              continue;
            }
            const numberPoints = m.sum?.dataPoints ?? m.gauge?.dataPoints;
            const delta = m.gauge ? true : isDelta(m.sum?.aggregationTemporality);
            for (const p of numberPoints ?? []) {
              const a = flatten(p?.attributes, { ...res });
              const v = pointValue(p ?? {});
              if (v === undefined) {
                rejected++;
                continue;
              }
              const timeNs = String(p.timeUnixNano ?? '');
              const ts = nsToMs(p.timeUnixNano) ?? now;
              const part = newPart(seriesKey(name, a), String(p.startTimeUnixNano ?? ''), v, delta);
              if (name === 'openclaw.session.stuck') {
                if (part > 0) stuckFor(stuck, a, timeNs, ts);
                continue;
              }
              if (name === 'openclaw.session.stuck_age_ms') {
                // a gauge of the current stuck age
                if (v > 0) stuckFor(stuck, a, timeNs, ts).ageMs = v;
                continue;
              }
              if (part === 0) continue;
              if (name === 'openclaw.cost.usd') {
                costs.push({ a, timeNs, ts, usd: part });
                continue;
              }
              const field = TOKEN_FIELDS[str(a, 'openclaw.token') ?? ''];
              if (field) tokensFor(tokens, a, timeNs, ts)[field] += part;
            }
            for (const p of m.histogram?.dataPoints ?? []) {
              if (name !== 'openclaw.session.stuck_age_ms') continue;
              const age = histogramAge(p, newPart, isDelta(m.histogram?.aggregationTemporality));
              if (age === null) anomalies++;
              if (age === undefined || age === null) continue;
              const a = flatten(p.attributes, { ...res });
              stuckFor(stuck, a, String(p.timeUnixNano ?? ''), nsToMs(p.timeUnixNano) ?? now).ageMs = age;
            }
          }
        }
      }
      // openclaw.cost.usd carries no openclaw.agent: its cost joins the token event of the same
      // provider/model/channel and time (the agent's), and stands alone only when there is none
      for (const c of costs) {
        const match = [...tokens.values()].find(
          (e) => e.ts === c.ts && sameRoute(e, c.a) && tokenTime.get(e) === c.timeNs,
        );
        if (match) match.costUsd += c.usd;
        else tokensFor(tokens, c.a, c.timeNs, c.ts).costUsd += c.usd;
      }
      for (const e of tokens.values()) {
        if (e.input || e.output || e.cacheRead || e.cacheWrite || e.costUsd) events.push(e);
      }
      events.push(...stuck.values());
      return { events, rejected, anomalies };
    },
  };
}

/** attributes that name what a token/cost point is about (never the token kind itself) */
function groupAttrs(a: Attrs): Attrs {
  const g: Attrs = {};
  for (const k of [
    'service.name',
    'openclaw.agent',
    'openclaw.provider',
    'openclaw.model',
    'openclaw.channel',
    'openclaw.session.key',
    'openclaw.sessionKey',
    'openclaw.session_key',
  ]) {
    const v = a[k];
    if (v !== undefined) g[k] = v;
  }
  return g;
}

const tokenTime = new WeakMap<LlmTokensEvent, string>();
const routeOf = new WeakMap<LlmTokensEvent, string>();
const route = (a: Attrs) =>
  `${str(a, 'openclaw.provider') ?? ''}|${str(a, 'openclaw.model') ?? ''}|${str(a, 'openclaw.channel') ?? ''}`;
const sameRoute = (e: LlmTokensEvent, a: Attrs) => routeOf.get(e) === route(a);

function tokensFor(map: Map<string, LlmTokensEvent>, a: Attrs, timeNs: string, ts: number): LlmTokensEvent {
  const g = groupAttrs(a);
  const id = `${seriesKey('tokens', g)}@${timeNs || ts}`;
  let e = map.get(id);
  if (!e) {
    const w = who(a);
    e = {
      type: 'llm.tokens',
      ts,
      source: 'otlp',
      sessionKey: w.sessionKey,
      agentId: w.agentId,
      dedupeKey: `otlp/m/${id}`,
      input: 0,
      output: 0,
      cacheRead: 0,
      cacheWrite: 0,
      reasoning: 0,
      costUsd: 0,
    };
    const model = str(a, 'openclaw.model', 'gen_ai.request.model');
    const provider = str(a, 'openclaw.provider', 'gen_ai.system', 'gen_ai.provider.name');
    if (model) e.model = model;
    if (provider) e.provider = provider;
    tokenTime.set(e, timeNs);
    routeOf.set(e, route(a));
    map.set(id, e);
  }
  return e;
}

function stuckFor(
  map: Map<string, SessionStuckEvent>,
  a: Attrs,
  timeNs: string,
  ts: number,
): SessionStuckEvent {
  const g = groupAttrs(a);
  const state = str(a, 'openclaw.state', 'openclaw.session.state');
  const id = `${seriesKey('stuck', g)}@${timeNs || ts}`;
  let e = map.get(id);
  if (!e) {
    const w = who(a);
    e = {
      type: 'session.stuck',
      ts,
      source: 'otlp',
      sessionKey: w.sessionKey,
      agentId: w.agentId,
      dedupeKey: `otlp/m/${id}`,
    };
    e.reason = state ? `reported stuck by OpenClaw (${state})` : 'reported stuck by OpenClaw';
    map.set(id, e);
  }
  return e;
}

/**
 * mean age of the stuck observations new in this export (max when only that is known); null
 * when the count is not an exact integer or the sum is negative (an anomaly)
 */
function histogramAge(
  p: HistogramPoint,
  newPart: (series: string, start: string, value: number, delta: boolean) => number,
  delta: boolean,
): number | undefined | null {
  const a = flatten(p.attributes);
  const count = exactInt(p.count ?? 0);
  const sum = typeof p.sum === 'number' ? p.sum : undefined;
  if (count === undefined || (sum !== undefined && !(sum >= 0))) return null;
  if (count <= 0) return undefined;
  const start = String(p.startTimeUnixNano ?? '');
  const dCount = newPart(seriesKey('stuck_age.count', a), start, count, delta);
  const dSum = sum === undefined ? undefined : newPart(seriesKey('stuck_age.sum', a), start, sum, delta);
  if (dCount <= 0) return undefined;
  if (dSum !== undefined && dSum > 0) return Math.round(dSum / dCount);
  return num({ max: p.max ?? Number.NaN }, 'max');
}

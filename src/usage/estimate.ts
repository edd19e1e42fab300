/**
 * Cost when the source has none: the one place clawpulse prices tokens itself. An `llm.tokens`
 * event with token counts but no cost (costUsd 0: transcripts of providers OpenClaw has no
 * price for, OTLP without a cost attribute) gets a cost from the price table and
 * `costEstimated: true`; the model then marks its session (`costEstimated`) and every view
 * shows the cost as an estimate.
 *
 * It runs in the pipeline before the store (`PipelineDeps.estimate`), so the stored event, the
 * model, the usage aggregate and the API all carry the same number. A model with no price is
 * left alone (cost 0, not estimated): an invented price would be worse than none.
 */
import type { LlmTokensEvent, PulseEvent } from '../model/events.js';
import { findPrice, type ModelPrice, type PriceTable } from './prices.js';

const PER_TOKEN = 1 / 1_000_000;

/** the cost of some tokens at a price (USD) */
export function priceTokens(
  p: ModelPrice,
  t: Pick<LlmTokensEvent, 'input' | 'output' | 'cacheRead' | 'cacheWrite' | 'reasoning'>,
): number {
  return (
    (t.input * p.input +
      t.output * p.output +
      t.cacheRead * (p.cacheRead ?? p.input) +
      t.cacheWrite * (p.cacheWrite ?? p.input) +
      t.reasoning * (p.reasoning ?? p.output)) *
    PER_TOKEN
  );
}

export type CostEstimator = (events: readonly PulseEvent[]) => readonly PulseEvent[];

/**
 * An estimator over a price table: returns the same array when nothing needed a price (most
 * batches: sources that give a cost), else a copy with the priced events replaced.
 */
export function createCostEstimator(table: PriceTable): CostEstimator {
  const cache = new Map<string, ModelPrice | null>();
  const priceOf = (model: string | undefined, provider: string | undefined): ModelPrice | undefined => {
    const k = `${provider ?? ''}\u0000${model ?? ''}`;
    let p = cache.get(k);
    if (p === undefined) {
      p = findPrice(table, model, provider) ?? null;
      cache.set(k, p);
    }
    return p ?? undefined;
  };
  return (events) => {
    let out: PulseEvent[] | undefined;
    for (let i = 0; i < events.length; i++) {
      const e = events[i] as PulseEvent;
      if (e.type !== 'llm.tokens' || e.costUsd > 0 || e.costEstimated) continue;
      const tokens = e.input + e.output + e.cacheRead + e.cacheWrite + e.reasoning;
      if (!(tokens > 0)) continue;
      const p = priceOf(e.model, e.provider);
      if (!p) continue;
      out ??= events.slice();
      out[i] = { ...e, costUsd: priceTokens(p, e), costEstimated: true };
    }
    return out ?? events;
  };
}

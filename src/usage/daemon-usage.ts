/**
 * What the daemon needs for usage and cost: the cost estimator over the price table (the bundled
 * one with PRICES_FILE over it) and the store's usage aggregate, caught up once at start (a store
 * made before this feature is backfilled from its events here).
 *
 * A bad PRICES_FILE does not stop the daemon: the error is logged (naming the file and entry)
 * and the bundled table is used until the file is fixed and clawpulse restarted.
 */
import type { Logger } from '../infra/logger.js';
import type { EventStore } from '../store/event-store.js';
import type { UsageStore } from '../store/usage-store.js';
import { type CostEstimator, createCostEstimator } from './estimate.js';
import { BUNDLED_PRICES, type PriceTable } from './prices.js';
import { loadPrices } from './prices-file.js';

export interface DaemonUsage {
  estimate: CostEstimator;
  usage?: UsageStore;
}

/** the price table of a configuration, or the bundled one (with an error logged) when the file is bad */
export function pricesOf(pricesFile: string | undefined, logger: Logger): PriceTable {
  try {
    return loadPrices(pricesFile);
  } catch (err) {
    logger.error({ err }, `${(err as Error).message}; using the bundled price table`);
    return BUNDLED_PRICES;
  }
}

export function createDaemonUsage(
  config: { pricesFile?: string },
  store: EventStore,
  logger: Logger,
): DaemonUsage {
  const estimate = createCostEstimator(pricesOf(config.pricesFile, logger));
  let usage: UsageStore | undefined;
  try {
    usage = store.usage?.();
    if (!usage) return { estimate };
    const t0 = Date.now();
    const folded = usage.catchUp();
    if (folded)
      logger.info(
        { events: folded, ms: Date.now() - t0 },
        'usage aggregate caught up from the stored events',
      );
  } catch (err) {
    // reports lag until the next batch catches up; ingest goes on
    logger.error({ err }, 'usage aggregate could not catch up with the stored events');
  }
  return usage ? { estimate, usage } : { estimate };
}

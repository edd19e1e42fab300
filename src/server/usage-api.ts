/**
 * GET /api/usage: the report `clawpulse usage` prints, as JSON (`src/usage/report.ts`), with the
 * same parameters: by, since, until, compare=previous, limit; `format=csv` for the CSV. Reads the
 * store's usage aggregate, which the pipeline keeps current (`clawpulse serve`: the shared store's,
 * every host's). A store that cannot be read answers 503 with the reason.
 */
import { Hono } from 'hono';
import type { Logger } from '../infra/logger.js';
import type { EventStore } from '../store/event-store.js';
import type { AgentModelUsage } from '../store/usage-store.js';
import { formatUsageCsv } from '../usage/csv.js';
import { buildUsageReport, parseUsageParams, UsageParamError } from '../usage/report.js';
import { jsonError } from './errors.js';

export function createUsageRoutes(deps: { store: Pick<EventStore, 'usage'>; now: () => number }): Hono {
  const api = new Hono();
  api.get('/usage', (c) => {
    const q = (k: string) => c.req.query(k);
    let params: ReturnType<typeof parseUsageParams>;
    try {
      params = parseUsageParams(
        { by: q('by'), since: q('since'), until: q('until'), compare: q('compare'), limit: q('limit') },
        deps.now(),
      );
    } catch (err) {
      if (err instanceof UsageParamError)
        return jsonError(c, 400, 'bad_request', err.message.replace(/^--/, ''));
      throw err;
    }
    const format = q('format');
    if (format !== undefined && format !== 'json' && format !== 'csv')
      return jsonError(c, 400, 'bad_request', `format ${format}: expected json or csv`);
    let report: ReturnType<typeof buildUsageReport>;
    try {
      const usage = deps.store.usage?.();
      if (!usage) return jsonError(c, 503, 'unavailable', 'this store keeps no usage aggregate');
      report = buildUsageReport(usage, params);
    } catch (err) {
      // a store that cannot be read now (the shared database down): say so, the next request retries
      return jsonError(c, 503, 'unavailable', `the usage could not be read: ${(err as Error).message}`);
    }
    if (format === 'csv')
      return c.body(formatUsageCsv(report), 200, { 'content-type': 'text/csv; charset=utf-8' });
    return c.json(report);
  });
  return api;
}

/** the store's usage per agent and model for /metrics; undefined (no series) when it has none or fails */
export function usageMetrics(
  store: Pick<EventStore, 'usage'>,
  logger: Logger,
): AgentModelUsage[] | undefined {
  try {
    return store.usage?.().byAgentModel();
  } catch (err) {
    logger.warn({ err }, 'usage counters left out of /metrics: the store could not be read');
    return undefined;
  }
}

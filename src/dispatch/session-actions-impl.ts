/**
 * Steer and Abort through the gateway, for the API and dashboard (`session-actions.ts` is the
 * interface the server knows). Gateway refusals become errors the user can read; the audit line
 * (who, what) is logged by the HTTP layer.
 */
import type { Logger } from '../infra/logger.js';
import type { SessionState } from '../model/session.js';
import { abortSession, type GatewayCaller, steerSession } from './gateway-ops.js';
import { ActionError, type SessionActions } from './session-actions.js';

/** run ids a legacy transcript source made up (`<tag>:r:<entry id>`): the gateway does not know them */
const SYNTHETIC_RUN_RE = /:r:/;

export function createSessionActions(deps: {
  gateway: GatewayCaller;
  runIdOf: (key: string) => SessionState | undefined;
  logger: Logger;
}): SessionActions {
  const known = (key: string): SessionState => {
    const s = deps.runIdOf(key);
    if (!s) throw new ActionError(`no session ${key} in clawpulse's model`, 404);
    return s;
  };
  return {
    async steer(key, message) {
      known(key);
      try {
        return await steerSession(deps.gateway, key, message);
      } catch (err) {
        throw asActionError(err, 'steer');
      }
    },
    async abort(key) {
      const s = known(key);
      const runId =
        s.runOpen && s.currentRunId && !SYNTHETIC_RUN_RE.test(s.currentRunId) ? s.currentRunId : undefined;
      try {
        return await abortSession(deps.gateway, key, runId);
      } catch (err) {
        throw asActionError(err, 'abort');
      }
    },
  };
}

function asActionError(err: unknown, what: string): ActionError {
  const e = err as { code?: string; message?: string };
  const msg = `gateway refused ${what}: ${e.message ?? String(err)}`;
  if (e.code === 'UNAVAILABLE') return new ActionError(`gateway unavailable: ${e.message ?? ''}`.trim(), 503);
  if (e.code === 'NOT_FOUND') return new ActionError(msg, 404);
  return new ActionError(msg, 502);
}

/**
 * The budget guard: at 100 % of a budget with BUDGET_ACTION=abort, the open runs in the budget's
 * scope are aborted through the same SessionActions the dashboard's Abort button uses (the
 * gateway's sessions.abort with the run id, else chat.abort), each with the same audit line.
 * Without a gateway connection it does nothing and says so, as the dashboard's button does.
 * It never throws: what it did, or why it could not, is the alert's `action`.
 */
import { type ActionActor, ActionError, type SessionActions } from '../dispatch/session-actions.js';
import type { Logger } from '../infra/logger.js';
import type { SessionState } from '../model/session.js';
import { UNAVAILABLE } from '../server/actions.js';

/** the actor the audit lines name (the HTTP routes name the browser or script) */
export const GUARD_ACTOR: ActionActor = { ip: 'local', userAgent: 'clawpulse budget guard', via: 'api' };

export interface BudgetGuardDeps {
  /** the daemon's session actions; undefined while there is no gateway connection */
  actions: () => SessionActions | undefined;
  logger: Logger;
  /** one abort is awaited this long (30 s, as the API's) */
  timeoutMs?: number;
}

export function createBudgetGuard(deps: BudgetGuardDeps): (sessions: SessionState[]) => Promise<string> {
  const log = deps.logger.child({ component: 'budget-guard' });
  const timeoutMs = deps.timeoutMs ?? 30_000;
  return async (sessions) => {
    if (!sessions.length) return 'no run was open to abort';
    const actions = deps.actions();
    if (!actions) return `could not abort: ${UNAVAILABLE}`;
    const done: string[] = [];
    const failed: string[] = [];
    for (const s of sessions) {
      const line = { action: 'abort', sessionKey: s.key, ...GUARD_ACTOR, reason: 'budget' };
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
        });
        const r = await Promise.race([actions.abort(s.key, GUARD_ACTOR), timeout]);
        log.info({ ...line, method: r.method, runId: r.runId, aborted: r.aborted }, 'session action');
        done.push(s.key);
      } catch (err) {
        const msg = err instanceof ActionError || err instanceof Error ? err.message : String(err);
        log.warn({ ...line, error: msg }, 'session action refused');
        failed.push(`${s.key}: ${msg}`);
      } finally {
        clearTimeout(timer);
      }
    }
    const parts: string[] = [];
    if (done.length === 1 && !failed.length) return 'aborted the run';
    if (done.length) parts.push(`aborted ${done.length} run${done.length === 1 ? '' : 's'}`);
    if (failed.length) parts.push(`could not abort ${failed.join('; ')}`);
    return parts.join('; ');
  };
}

/**
 * Steer and Abort reach the gateway the session lives on. A session of a gateway named in
 * OPENCLAW_GATEWAYS has the key `<name>|<openclaw key>`: its actions go over that gateway's own
 * connection with the OpenClaw key. Plain keys (the local OpenClaw) go to the default actions
 * (dispatch's, over OPENCLAW_GATEWAY_URL). A scope this clawpulse follows no gateway for (a
 * host's session read from a shared store) is refused: it can only be acted on where it runs.
 */
import { ActionError, type SessionActions } from '../dispatch/session-actions.js';
import { createSessionActions } from '../dispatch/session-actions-impl.js';
import type { Logger } from '../infra/logger.js';
import type { SessionState } from '../model/session.js';
import { scopedKey, splitScope } from '../model/session-scope.js';
import type { GatewayConnection } from './connection.js';

export interface NamedGatewayLink {
  name: string;
  connection: GatewayConnection;
}

export function routeSessionActions(deps: {
  /** the local OpenClaw's actions (plain keys) */
  local: SessionActions;
  gateways: readonly NamedGatewayLink[];
  session: (key: string) => SessionState | undefined;
  logger: Logger;
}): SessionActions {
  if (!deps.gateways.length) return deps.local;
  const byName = new Map<string, SessionActions>();
  for (const g of deps.gateways) {
    const conn = g.connection;
    byName.set(
      g.name,
      createSessionActions({
        gateway: { request: (m, p, o) => conn.request(m, p, o), hasMethod: (m) => conn.hasMethod(m) },
        // the actions speak OpenClaw keys; the model knows the session by its scoped key
        runIdOf: (key) => deps.session(scopedKey(g.name, key)),
        logger: deps.logger,
      }),
    );
  }
  function route(key: string): { actions: SessionActions; key: string } {
    const { scope, rest } = splitScope(key);
    if (scope === undefined) return { actions: deps.local, key };
    const actions = byName.get(scope);
    if (!actions)
      throw new ActionError(
        `session ${key} is on ${scope}, which this clawpulse follows no gateway for (OPENCLAW_GATEWAYS)`,
        409,
      );
    return { actions, key: rest };
  }
  return {
    steer(key, message, actor) {
      const r = route(key);
      return r.actions.steer(r.key, message, actor);
    },
    abort(key, actor) {
      const r = route(key);
      return r.actions.abort(r.key, actor);
    },
  };
}

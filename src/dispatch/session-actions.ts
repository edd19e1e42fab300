/**
 * What clawpulse can do to a running OpenClaw session, as the HTTP API (src/server/actions.ts)
 * and the dashboard use it. The gateway-backed implementation lives beside this file; the
 * server only knows this interface, so it runs (and answers 503) without a gateway.
 */

/** a refusal the caller should see as it is: the status is the HTTP status the API answers */
export class ActionError extends Error {
  constructor(
    message: string,
    public readonly status: 400 | 404 | 409 | 502 | 503,
  ) {
    super(message);
    this.name = 'ActionError';
  }
}

/** who asked, for the audit log line */
export interface ActionActor {
  ip: string;
  userAgent?: string;
  via: 'api' | 'dashboard';
}

export interface SessionActions {
  /** message reaches the running session (chat.send queueMode steer on 2026.9; a follow-up turn on older gateways) */
  steer(
    sessionKey: string,
    message: string,
    actor: ActionActor,
  ): Promise<{ mode: 'steer' | 'followup'; runId?: string }>;
  /** ends the session's active run (sessions.abort with its run id where the gateway has it, else chat.abort) */
  abort(
    sessionKey: string,
    actor: ActionActor,
  ): Promise<{ method: 'sessions.abort' | 'chat.abort'; runId?: string; aborted: boolean }>;
}

/**
 * `dispatch enqueue`: start a labelled session now (no scheduler tick).
 *
 * fresh: a new key `agent:<agent>:subagent:<uuid>`; reuse: the label's last session; an explicit
 * `--session-key` bypasses the ledger. The ledger records the intent before the gateway is asked
 * (a crash in between leaves an entry that says so, not a run nobody knows about), then the run
 * id the gateway accepted.
 */
import { randomUUID } from 'node:crypto';
import type { DeliveryMode, DispatchLedger, LabelEntry } from '../store/dispatch-ledger.js';
import { DispatchError } from './errors.js';
import { type GatewayCaller, newKey, patchSession, startRun } from './gateway-ops.js';
import { taskMessage } from './task-prompt.js';

export interface EnqueueInput {
  label: string;
  message: string;
  mode: 'fresh' | 'reuse';
  sessionKey?: string;
  agent: string;
  model?: string;
  thinking?: string;
  timeoutSeconds: number;
  deliverTo?: string;
  deliverChannel: string;
  deliveryMode: DeliveryMode;
  origin?: string;
  monitor: boolean;
  monitorInterval?: string;
  monitorTimeoutMinutes?: number;
  verifyCmd?: string;
}

export interface EnqueueResult {
  ok: true;
  label: string;
  sessionKey: string;
  runId: string;
  mode: 'fresh' | 'reuse';
  agent: string;
  status: 'accepted';
}

export interface DispatchDeps {
  gateway: GatewayCaller;
  ledger: DispatchLedger;
  now?: () => number;
  uuid?: () => string;
}

export async function enqueue(input: EnqueueInput, deps: DispatchDeps): Promise<EnqueueResult> {
  const now = deps.now ?? Date.now;
  const uuid = deps.uuid ?? randomUUID;
  let sessionKey = input.sessionKey;
  if (!sessionKey && input.mode === 'reuse') {
    sessionKey = deps.ledger.get(input.label)?.sessionKey;
    if (!sessionKey)
      throw new DispatchError(
        `mode=reuse: no prior session found for label "${input.label}". Use --mode fresh.`,
      );
  }
  const fresh = !sessionKey;
  sessionKey ??= newKey(input.agent, uuid);

  // a rejected model or thinking override fails the enqueue instead of silently running without it
  await patchSession(deps.gateway, sessionKey, { model: input.model, thinking: input.thinking }).catch(
    (err) => {
      throw new DispatchError(`sessions.patch (model/thinking) failed: ${(err as Error).message}`);
    },
  );

  const started = new Date(now()).toISOString();
  const key = sessionKey;
  // a new run of a label starts a clean entry: the last run's retries, delivery and checks go
  deps.ledger.update(input.label, (cur) => ({
    ...entryFor(input, key, fresh, started),
    retryCount: 0,
    createdBy: cur?.createdBy ?? 'enqueue',
  }));
  let run: { runId: string };
  try {
    run = await startRun(deps.gateway, {
      sessionKey,
      message: taskMessage(input.label, input.message),
      thinking: input.thinking,
      timeoutSeconds: input.timeoutSeconds,
      idempotencyKey: uuid(),
    });
  } catch (err) {
    const message = `gateway agent call failed: ${(err as Error).message}`;
    deps.ledger.update(input.label, (cur) =>
      cur ? { ...cur, status: 'error', error: message, updatedAt: new Date(now()).toISOString() } : undefined,
    );
    throw new DispatchError(message);
  }
  deps.ledger.update(input.label, (cur) =>
    cur ? { ...cur, runId: run.runId, updatedAt: new Date(now()).toISOString() } : undefined,
  );
  return {
    ok: true,
    label: input.label,
    sessionKey,
    runId: run.runId,
    mode: fresh ? 'fresh' : 'reuse',
    agent: input.agent,
    status: 'accepted',
  };
}

function entryFor(input: EnqueueInput, sessionKey: string, fresh: boolean, at: string): LabelEntry {
  return {
    sessionKey,
    runId: null,
    agent: input.agent,
    mode: fresh ? 'fresh' : 'reuse',
    model: input.model ?? null,
    thinking: input.thinking ?? null,
    origin: input.origin ?? null,
    deliverTo: input.deliverTo ?? null,
    deliverChannel: input.deliverTo ? input.deliverChannel : null,
    spawnedAt: at,
    status: 'running',
    summary: null,
    error: null,
    updatedAt: at,
    taskPrompt: input.message,
    deliveryMode: input.deliveryMode,
    timeoutSeconds: input.timeoutSeconds,
    monitor: input.monitor,
    monitorInterval: input.monitorInterval ?? null,
    monitorTimeoutMinutes: input.monitorTimeoutMinutes ?? null,
    verifyCmd: input.verifyCmd ?? null,
  };
}

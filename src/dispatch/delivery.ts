/**
 * Delivering a label's final reply to its chat (`--deliver-to`, `--deliver-channel`) through the
 * gateway's `send`: once per run, at least once. The record (with its idempotency key) is in the
 * ledger before the first attempt, and a failed attempt is tried again with backoff, across
 * gateway and daemon restarts, so the chat gets the reply even if the gateway was down when the
 * run ended. `announce` sends only a non-empty reply; `announce-always` sends a note when empty.
 */
import type { DeliveryRecord, DispatchLedger, LabelEntry } from '../store/dispatch-ledger.js';
import { deliverText, type GatewayCaller, lastReplyFromHistory } from './gateway-ops.js';
import type { LiveView } from './live.js';
import { spawnedAtMs } from './verdict.js';

const BACKOFF_MS = [5_000, 30_000, 120_000, 300_000, 600_000];
export const MAX_DELIVERY_ATTEMPTS = 30;
const MAX_TEXT = 4000;

/** whether a finished label gets a delivery, and its record */
export function deliveryFor(label: string, e: LabelEntry): DeliveryRecord | undefined {
  if (e.monitor === false || !e.deliverTo || (e.deliveryMode ?? 'announce') === 'none') return undefined;
  return {
    state: 'pending',
    idempotencyKey: `clawpulse:deliver:${label}:${e.runId ?? e.spawnedAt}`,
    attempts: 0,
  };
}

export const deliveryDue = (e: LabelEntry, now: number): boolean =>
  e.delivery?.state === 'pending' && (e.delivery.nextAt ?? 0) <= now;

/** the text for a finished run: its reply, or what to say when there is none */
export function deliveryText(label: string, e: LabelEntry, reply: string | undefined): string | undefined {
  const body = reply?.trim();
  if (e.status === 'error') return `[${label}] failed: ${e.error ?? 'run failed'}`;
  if (body) return `[${label}] ${body.length > MAX_TEXT ? `${body.slice(0, MAX_TEXT)}...` : body}`;
  return e.deliveryMode === 'announce-always' ? `[${label}] finished with no output` : undefined;
}

/** one attempt; returns the record as it now stands */
export async function attemptDelivery(
  label: string,
  deps: { gateway: GatewayCaller; ledger: DispatchLedger; live: LiveView; now: () => number },
): Promise<DeliveryRecord | undefined> {
  const e = deps.ledger.get(label);
  const d = e?.delivery;
  if (!e || !d || d.state !== 'pending' || !e.deliverTo) return d;
  let text = d.text;
  let error: string | undefined;
  let sent = false;
  try {
    if (text === undefined) {
      const reply =
        (await deps.live.lastReply(e.sessionKey, spawnedAtMs(e))) ??
        (await lastReplyFromHistory(deps.gateway, e.sessionKey).catch(() => undefined));
      text = deliveryText(label, e, reply);
    }
    if (text !== undefined) {
      await deliverText(deps.gateway, {
        channel: e.deliverChannel ?? 'telegram',
        to: e.deliverTo,
        message: text,
        idempotencyKey: d.idempotencyKey,
      });
      sent = true;
    }
  } catch (err) {
    error = (err as Error).message;
  }
  const now = deps.now();
  const next: DeliveryRecord =
    text === undefined && !error
      ? {
          ...d,
          state: 'skipped',
          at: new Date(now).toISOString(),
          error: 'empty reply (delivery mode announce)',
        }
      : sent
        ? {
            ...d,
            state: 'sent',
            text,
            attempts: d.attempts + 1,
            at: new Date(now).toISOString(),
            error: undefined,
          }
        : d.attempts + 1 >= MAX_DELIVERY_ATTEMPTS
          ? { ...d, state: 'failed', text, attempts: d.attempts + 1, error }
          : {
              ...d,
              text,
              attempts: d.attempts + 1,
              error,
              nextAt: now + (BACKOFF_MS[Math.min(d.attempts, BACKOFF_MS.length - 1)] ?? 600_000),
            };
  deps.ledger.update(label, (cur) =>
    cur?.delivery?.idempotencyKey === d.idempotencyKey ? { ...cur, delivery: next } : undefined,
  );
  return next;
}

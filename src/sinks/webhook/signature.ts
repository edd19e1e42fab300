/**
 * How a webhook receiver knows a request came from this clawpulse and was not replayed.
 *
 * With DISPATCH_WEBHOOK_SECRET set, every request carries
 *
 *   X-Clawpulse-Timestamp: <ms since the epoch when this attempt was sent, decimal digits>
 *   X-Clawpulse-Signature: sha256=<hex of HMAC-SHA256(secret, "<timestamp>.<body>")>
 *
 * where <body> is the exact bytes of the request body (UTF-8 JSON, not re-serialized) and the
 * signed message is the timestamp's ASCII digits, one ".", then those bytes. A receiver
 * recomputes the HMAC over the raw body it read, compares in constant time, and refuses a
 * timestamp too far from its own clock (e.g. 5 min) so a captured request cannot be replayed
 * later. Each retry is signed again with a fresh timestamp; X-Clawpulse-Delivery stays the
 * same across retries, so a receiver can drop a repeat whose first answer got lost.
 */
import { createHmac } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-clawpulse-signature';
export const TIMESTAMP_HEADER = 'x-clawpulse-timestamp';
export const DELIVERY_HEADER = 'x-clawpulse-delivery';

export function signWebhook(secret: string, timestampMs: number, body: Buffer): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestampMs}.`, 'utf8');
  mac.update(body);
  return `sha256=${mac.digest('hex')}`;
}

/**
 * A named gateway's events (OPENCLAW_GATEWAYS) under its scope: every key that names a session
 * (sessionKey, parentKey, childKey) becomes `<name>|<key>` (src/model/session-scope.ts), the
 * dedupeKey too (two gateways may report the same fact id for the same key), and the event says
 * which gateway it came from. The single OPENCLAW_GATEWAY_URL keeps plain keys.
 */
import type { PulseEvent } from '../../model/events.js';
import { scopedKey } from '../../model/session-scope.js';

export function scopeEvents(name: string, events: readonly PulseEvent[]): PulseEvent[] {
  return events.map((e) => scopeEvent(name, e));
}

export function scopeEvent(name: string, e: PulseEvent): PulseEvent {
  const out = {
    ...e,
    sessionKey: scopedKey(name, e.sessionKey),
    dedupeKey: scopedKey(name, e.dedupeKey),
    gateway: name,
  } as PulseEvent;
  // the keys naming another session: a sub-agent's parent, a spawn's child
  const o = out as { parentKey?: string; childKey?: string };
  if (o.parentKey) o.parentKey = scopedKey(name, o.parentKey);
  if (o.childKey) o.childKey = scopedKey(name, o.childKey);
  return out;
}

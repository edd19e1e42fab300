/**
 * A host's events as the fleet view keeps them: every key naming a session is scoped by the host
 * (`<host>|<key>`, session-scope.ts) and the event carries `host`, so the same OpenClaw key on two
 * hosts is two sessions and every view can show and filter the host without parsing keys.
 */
import type { PulseEvent } from '../model/events.js';
import { scopedKey } from '../model/session-scope.js';

/** the fields of an event that name a session (besides sessionKey) */
const SESSION_KEY_FIELDS = ['parentKey', 'childKey'] as const;

export function rekeyForHost(host: string, event: PulseEvent): PulseEvent {
  const out = { ...event, host, sessionKey: scopedKey(host, event.sessionKey) } as PulseEvent & {
    parentKey?: string;
    childKey?: string;
  };
  for (const f of SESSION_KEY_FIELDS) {
    const v = out[f];
    if (typeof v === 'string' && v) out[f] = scopedKey(host, v);
  }
  return out;
}

/** a stored row's body back to an event; undefined (counted by the caller) when it is not one */
export function parseBody(body: string): PulseEvent | undefined {
  try {
    const e = JSON.parse(body) as Partial<PulseEvent> | null;
    if (!e || typeof e !== 'object' || typeof e.type !== 'string' || typeof e.sessionKey !== 'string')
      return undefined;
    return e as PulseEvent;
  } catch {
    return undefined;
  }
}

/**
 * Where a session lives, for a clawpulse that sees more than one OpenClaw: a gateway named in
 * OPENCLAW_GATEWAYS, a host writing into a shared store (the fleet view), or both.
 *
 * The same OpenClaw session key on two gateways (or two hosts) names two sessions, so the model
 * keys such a session by a scoped key: `<scope>|<key>` (a host's gateway's session:
 * `<host>|<gateway>|<key>`). OpenClaw keys never contain `|` (they are `agent:<id>:<rest>` with
 * channel ids, uuids and labels), so the first `|` always ends a scope. Sessions of the local
 * OpenClaw (the state dir, the single OPENCLAW_GATEWAY_URL) keep their plain key: nothing
 * changes for one machine. Events and sessions also carry the names (`host`, `gateway`) so every
 * view can show and filter them without parsing keys.
 */

export const SCOPE_SEPARATOR = '|';

/** `<scope>|<key>` */
export const scopedKey = (scope: string, key: string): string => `${scope}${SCOPE_SEPARATOR}${key}`;

/** the outermost scope of a key and the rest, e.g. 'h1|gw|agent:main:main' → h1, 'gw|agent:main:main' */
export function splitScope(key: string): { scope?: string; rest: string } {
  const at = key.indexOf(SCOPE_SEPARATOR);
  return at < 0 ? { rest: key } : { scope: key.slice(0, at), rest: key.slice(at + 1) };
}

/** the OpenClaw session key inside a scoped key (every scope taken off) */
export function openclawKey(key: string): string {
  const at = key.lastIndexOf(SCOPE_SEPARATOR);
  return at < 0 ? key : key.slice(at + 1);
}

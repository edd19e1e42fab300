/**
 * The names the transcript normalizer gives what it derives from a line: its events' dedupe keys
 * and the run ids of transcripts that carry none.
 */

/*
 * Dedupe keys are `${sessionId}/${entryId}/${type}/${index}` and stay in memory with their
 * events. Built as the line's `${sessionId}/${entryId}` plus a constant `/${type}/${index}`,
 * a key is one concatenation and the keys of a line share their prefix (a template literal
 * per key made five strings).
 */
export const TEXT_SUFFIXES: string[] = [];
export const CALL_SUFFIXES: string[] = [];
/** `/${type}/${index}` of a block's event, cached for the first blocks of a message */
export function blockSuffix(cache: string[], type: string, i: number): string {
  if (i >= 64) return `/${type}/${i}`;
  let suffix = cache[i];
  if (suffix === undefined) cache[i] = suffix = `/${type}/${i}`;
  return suffix;
}

/**
 * What the run ids made up for a transcript without them say of its session: 8 hex digits of a
 * hash of the session id. A run is named by the entry id of its first line; the tag keeps apart
 * the transcripts one session key goes through (each reset starts one, and its random 8-hex entry
 * ids may repeat an older one's). The whole UUID was 28 more characters in most stored events.
 * A hash, not a slice of the id: every part of a UUID is fixed or time-ordered in some version
 * (v1, v7). An id of 8 characters or fewer is its own tag. (Dedupe keys keep the whole id: the
 * gateway builds the same keys, and stores hold their hashes.)
 */
export function sessionTag(sessionId: string): string {
  if (sessionId.length <= 8) return sessionId;
  let h = 0x811c9dc5; // FNV-1a
  for (let i = 0; i < sessionId.length; i++) h = Math.imul(h ^ sessionId.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * The identity of a stored fact: a 96-bit hash of its dedupeKey, as three 32-bit lanes.
 *
 * The store keeps these (12 bytes per event) instead of the key text: per session in memory
 * for the dedupe check, and per chunk on disk to rebuild that set. Within one session (the
 * dedupe scope) two different keys share all 96 bits with probability about n²/2^97: for a
 * session of a million events, about one in 10^17. Stable across versions: it is stored.
 */

/** keys up to this long are hashed from their bytes (a dedupe key is 20 to 100 characters) */
const SCRATCH = 1024;
const scratch = new Uint8Array(SCRATCH);
const encoder = new TextEncoder();

/** writes the three lanes of `key`'s hash into out[0..2]; never all zero (zero marks an empty slot) */
export function hashKey(key: string, out: Uint32Array): void {
  // An ASCII key's UTF-8 bytes are its UTF-16 code units. Copying it out in one native call and
  // reading bytes is cheaper than charCodeAt per character: keys are built by concatenation, and
  // charCodeAt on such a string goes through its parts each time.
  const n = key.length;
  // all of it read, one byte per character: ASCII
  const copied = n <= SCRATCH ? encoder.encodeInto(key, scratch) : undefined;
  if (copied && copied.read === n && copied.written === n) {
    let h1 = 0xdeadbeef ^ n;
    let h2 = 0x41c6ce57;
    let h3 = 0x9e3779b9;
    for (let i = 0; i < n; i++) {
      const c = scratch[i] as number;
      h1 = Math.imul(h1 ^ c, 2654435761);
      h2 = Math.imul(h2 ^ c, 1597334677);
      h3 = Math.imul(h3 ^ c, 2246822519);
    }
    finish(h1, h2, h3, out);
  } else hashCodeUnits(key, out);
}

/** the same hash over the UTF-16 code units (any key) */
export function hashCodeUnits(key: string, out: Uint32Array): void {
  // three multiply-xor lanes over the UTF-16 code units, then a cross-mixing finalizer
  let h1 = 0xdeadbeef ^ key.length;
  let h2 = 0x41c6ce57;
  let h3 = 0x9e3779b9;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
    h3 = Math.imul(h3 ^ c, 2246822519);
  }
  finish(h1, h2, h3, out);
}

function finish(h1: number, h2: number, h3: number, out: Uint32Array): void {
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h3 ^ (h3 >>> 13), 3266489909);
  h3 = Math.imul(h3 ^ (h3 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  out[0] = h1;
  out[1] = h2;
  out[2] = (h1 | h2 | h3) === 0 ? 1 : h3;
}

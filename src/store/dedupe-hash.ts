/**
 * The identity of a stored fact: a 96-bit hash of its dedupeKey, as three 32-bit lanes.
 *
 * The store keeps these (12 bytes per event) instead of the key text: per session in memory
 * for the dedupe check, and per chunk on disk to rebuild that set. Within one session (the
 * dedupe scope) two different keys share all 96 bits with probability about n²/2^97: for a
 * session of a million events, about one in 10^17. Stable across versions: it is stored.
 */

import { DEDUPE_HASH_WASM } from './dedupe-hash-wasm.js';

/** keys up to this long are hashed from their bytes (a dedupe key is 20 to 100 characters) */
const SCRATCH = 1024;
const encoder = new TextEncoder();

/**
 * The byte loop, in WebAssembly (`dedupe-hash.wat`) where it runs about three times faster
 * than in JS: a hash per stored event made it a few percent of ingest. Its memory holds the
 * key's bytes at 0 .. SCRATCH and the lanes after them.
 */
interface ByteHasher {
  /** where the key's bytes go */
  bytes: Uint8Array;
  /** hashes bytes[0 .. n) into out */
  hash(n: number, out: Uint32Array): void;
}

function wasmHasher(): ByteHasher | undefined {
  try {
    const instance = new WebAssembly.Instance(
      new WebAssembly.Module(Buffer.from(DEDUPE_HASH_WASM, 'base64')),
    );
    const { mem, hash } = instance.exports as { mem: WebAssembly.Memory; hash: (n: number) => void };
    // the memory never grows, so these views stay valid
    const bytes = new Uint8Array(mem.buffer, 0, SCRATCH);
    const lanes = new Uint32Array(mem.buffer, SCRATCH, 3);
    return {
      bytes,
      hash(n, out) {
        hash(n);
        out[0] = lanes[0] as number;
        out[1] = lanes[1] as number;
        out[2] = lanes[2] as number;
      },
    };
  } catch {
    return undefined;
  }
}

/** undefined without WebAssembly: then every key takes `hashCodeUnits` */
const hasher = wasmHasher();
/** which loop hashes ASCII keys in this process (tests check it is the WebAssembly one) */
export const byteHasher: 'wasm' | 'none' = hasher ? 'wasm' : 'none';

/** writes the three lanes of `key`'s hash into out[0..2]; never all zero (zero marks an empty slot) */
export function hashKey(key: string, out: Uint32Array): void {
  // An ASCII key's UTF-8 bytes are its UTF-16 code units. Copying it out in one native call and
  // reading bytes is cheaper than charCodeAt per character: keys are built by concatenation, and
  // charCodeAt on such a string goes through its parts each time.
  const n = key.length;
  if (hasher && n <= SCRATCH) {
    const copied = encoder.encodeInto(key, hasher.bytes);
    // all of it read, one byte per character: ASCII
    if (copied.read === n && copied.written === n) {
      hasher.hash(n, out);
      return;
    }
  }
  hashCodeUnits(key, out);
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

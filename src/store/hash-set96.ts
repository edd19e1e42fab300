/**
 * A set of 96-bit hashes (three uint32 lanes) in one typed array: open addressing with linear
 * probing, at most three quarters full. 16–32 bytes per entry and no object per entry, so a daemon can keep
 * the dedupe identities of every active session in memory. An all-zero entry marks a free slot
 * (`hashKey` never produces one). Entries are never removed: a set is dropped whole instead.
 */
export class HashSet96 {
  private table: Uint32Array;
  private mask: number;
  size = 0;

  constructor(expected = 8) {
    let slots = 16;
    while (slots * 3 < expected * 4) slots *= 2;
    this.table = new Uint32Array(slots * 3);
    this.mask = slots - 1;
  }

  /** bytes held by the table */
  get bytes(): number {
    return this.table.byteLength;
  }

  has(a: number, b: number, c: number): boolean {
    const o = this.probe(a, b, c);
    return (
      (this.table[o] as number) !== 0 ||
      (this.table[o + 1] as number) !== 0 ||
      (this.table[o + 2] as number) !== 0
    );
  }

  /** adds the hash; false when it was already there */
  add(a: number, b: number, c: number): boolean {
    if ((this.size + 1) * 4 > (this.mask + 1) * 3) this.grow();
    const t = this.table;
    const o = this.probe(a, b, c);
    if (((t[o] as number) | (t[o + 1] as number) | (t[o + 2] as number)) !== 0) return false;
    t[o] = a;
    t[o + 1] = b;
    t[o + 2] = c;
    this.size++;
    return true;
  }

  /** the offset of the hash's slot, or of the free slot where it belongs */
  private probe(a: number, b: number, c: number): number {
    const t = this.table;
    for (let i = this.slot(a, b); ; i = (i + 1) & this.mask) {
      const o = i * 3;
      const x = t[o] as number;
      const y = t[o + 1] as number;
      const z = t[o + 2] as number;
      if ((x === a && y === b && z === c) || (x | y | z) === 0) return o;
    }
  }

  /** adds every hash of a blob written by `packHashes` (12 bytes each, little-endian lanes) */
  addPacked(blob: Uint8Array): void {
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    for (let o = 0; o + 12 <= blob.byteLength; o += 12)
      this.add(view.getUint32(o, true), view.getUint32(o + 4, true), view.getUint32(o + 8, true));
  }

  private slot(a: number, b: number): number {
    // the lanes are already mixed; folding two keeps clustered inputs apart
    return (a ^ Math.imul(b, 0x9e3779b1)) & this.mask;
  }

  private grow(): void {
    const old = this.table;
    this.table = new Uint32Array(old.length * 2);
    this.mask = (this.mask + 1) * 2 - 1;
    this.size = 0;
    for (let o = 0; o < old.length; o += 3) {
      const a = old[o] as number;
      const b = old[o + 1] as number;
      const c = old[o + 2] as number;
      if ((a | b | c) !== 0) this.add(a, b, c);
    }
  }
}

/** hashes (lanes in a flat array, three per entry) → a blob of 12 little-endian bytes each */
export function packHashes(lanes: Uint32Array, count: number): Buffer {
  const out = Buffer.allocUnsafe(count * 12);
  for (let i = 0; i < count * 3; i++) out.writeUInt32LE(lanes[i] as number, i * 4);
  return out;
}

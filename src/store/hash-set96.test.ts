import { describe, expect, it } from 'vitest';
import { hashKey } from './dedupe-hash.js';
import { HashSet96 } from './hash-set96.js';

const lanes = (key: string): [number, number, number] => {
  const out = new Uint32Array(3);
  hashKey(key, out);
  return [out[0] as number, out[1] as number, out[2] as number];
};

describe('HashSet96', () => {
  it('adds once, finds what it holds, and keeps everything across growth', () => {
    const set = new HashSet96();
    const keys = Array.from({ length: 5000 }, (_, i) => `sess/${i.toString(16)}/tool.call/0`);
    for (const k of keys) expect(set.add(...lanes(k))).toBe(true);
    for (const k of keys) expect(set.add(...lanes(k))).toBe(false);
    expect(set.size).toBe(5000);
    expect(keys.every((k) => set.has(...lanes(k)))).toBe(true);
    expect(set.has(...lanes('sess/none/tool.call/0'))).toBe(false);
    // at most three quarters full, in a power-of-two table of 12-byte slots
    expect(set.bytes).toBe(8192 * 12);
  });

  it('tells apart hashes that share two lanes', () => {
    const set = new HashSet96();
    expect(set.add(1, 2, 3)).toBe(true);
    expect(set.add(1, 2, 4)).toBe(true);
    expect(set.has(1, 2, 5)).toBe(false);
    expect(set.size).toBe(2);
  });

  it('loads the packed hashes a chunk stores (12 little-endian bytes each)', () => {
    const blob = Buffer.alloc(24);
    for (const [i, v] of [7, 8, 9, 0xffffffff, 1, 2].entries()) blob.writeUInt32LE(v, i * 4);
    const set = new HashSet96();
    set.addPacked(blob.subarray(0, 24));
    expect(set.has(7, 8, 9)).toBe(true);
    expect(set.has(0xffffffff, 1, 2)).toBe(true);
  });

  it('hashKey is stable (it is stored) and never all zero', () => {
    // a change here makes every store's dedupe forget what it holds
    expect(lanes('9e3779b9-5388-4104-8e50-000000000000/5faf0641/agent.started/0')).toEqual([
      1669976420, 3019849901, 1369751374,
    ]);
    expect(lanes('')).not.toEqual([0, 0, 0]);
    expect(lanes('a')).not.toEqual(lanes('b'));
  });
});

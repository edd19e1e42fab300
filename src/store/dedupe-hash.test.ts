import { describe, expect, it } from 'vitest';
import { byteHasher, hashCodeUnits, hashKey } from './dedupe-hash.js';

const lanes = (f: (k: string, o: Uint32Array) => void, key: string): number[] => {
  const out = new Uint32Array(3);
  f(key, out);
  return [...out];
};

describe('dedupe hash', () => {
  it('is the hash stores were written with (values pinned: they are on disk)', () => {
    // computed by the implementation schema 3 and 4 stores were written with
    expect(lanes(hashKey, 'gw/run-1/start')).toEqual([789446238, 465549112, 4166131042]);
    expect(lanes(hashKey, '')).toEqual([451841411, 2531389425, 2441569145]);
  });

  it('gives the same lanes on the byte path and the code-unit path, for any text', () => {
    const long = 'x'.repeat(5000);
    const edge = `${'a'.repeat(1021)}€€€`; // 1024 characters whose UTF-8 does not fit the scratch
    const keys = ['', 'a', 'seen/agent:main:x/1', 'é', 'ключ/1', '😀/tool.call/0', '\ud800', long, edge];
    for (const k of keys) expect(lanes(hashKey, k), k.slice(0, 20)).toEqual(lanes(hashCodeUnits, k));
  });

  it('hashes ASCII keys in WebAssembly, with the lanes of the JS loop for every length up to the scratch and past it', () => {
    expect(byteHasher).toBe('wasm');
    // printable ASCII from a fixed LCG, so a failure names a reproducible key
    let x = 12345;
    const char = () => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return String.fromCharCode(32 + ((x >>> 16) % 95));
    };
    for (let n = 0; n <= 1030; n++) {
      let k = '';
      for (let i = 0; i < n; i++) k += char();
      expect(lanes(hashKey, k), `length ${n}`).toEqual(lanes(hashCodeUnits, k));
    }
  });

  it('never gives all zero lanes, and differs for keys one character apart', () => {
    const a = lanes(hashKey, 'sid/e1/tool.call/0');
    const b = lanes(hashKey, 'sid/e1/tool.call/1');
    expect(a).not.toEqual(b);
    expect(a.some((x) => x !== 0)).toBe(true);
  });
});

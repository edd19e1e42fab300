import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  const o = { baseMs: 1000, maxMs: 30_000 };
  it('doubles per attempt up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50].map((a) => backoffDelay(a, o, () => 1))).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000,
    ]);
  });
  it('jitter keeps at least half of the nominal delay', () => {
    expect(backoffDelay(3, o, () => 0)).toBe(2000);
    expect(backoffDelay(3, o, () => 0.5)).toBe(3000);
  });
});

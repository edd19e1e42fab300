import { describe, expect, it } from 'vitest';
import { parseIsoTime } from './iso-time.js';

describe('parseIsoTime', () => {
  it('is Date.parse for the toISOString shape and everything around it', () => {
    const odd = [
      '2026-11-21T14:46:37.053Z',
      '2026-11-21T14:46:37Z',
      '2026-11-21T14:46:37.053+02:00',
      '2026-11-21t14:46:37.053z',
      '2026-02-30T00:00:00.000Z', // rolls over to March
      '2026-13-01T00:00:00.000Z',
      '2026-01-01T24:00:00.000Z',
      '2026-01-01T24:00:00.001Z',
      '2026-01-01T23:60:00.000Z',
      '2026-01-01T23:59:60.000Z',
      '0000-01-01T00:00:00.000Z',
      '+275760-09-13T00:00:00.000Z',
      '2026-11-21T14:46:37.a53Z',
      '２026-11-21T14:46:37.053Z',
      '',
      'not a date',
    ];
    for (const s of odd) expect(parseIsoTime(s), s).toBe(Date.parse(s));
  });

  it('is Date.parse across hours, days and years (the cached hour changes)', () => {
    for (let t = Date.UTC(1999, 11, 31, 22); t < Date.UTC(2000, 0, 1, 3); t += 1_234_567) {
      const s = new Date(t).toISOString();
      expect(parseIsoTime(s), s).toBe(t);
    }
    for (let y = 1968; y <= 2104; y += 4) {
      for (const s of [`${y}-02-29T12:34:56.789Z`, `${y}-12-31T23:59:59.999Z`])
        expect(parseIsoTime(s), s).toBe(Date.parse(s));
    }
  });
});

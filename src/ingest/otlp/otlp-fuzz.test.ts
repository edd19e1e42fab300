import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../infra/logger.js';
import type { PulseEvent } from '../../model/events.js';
import { createOtlpReceiver } from './otlp-app.js';
import { encodeMetricsProto, encodeTracesProto } from './proto.js';

/** small deterministic PRNG (mulberry32): the same bodies every run */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ODD = [null, true, 0, -1, 1e308, 'x', '', [], {}, [1, 'a'], { a: 1 }, '18446744073709551616', 'NaN'];

/** a JSON value shaped roughly like OTLP, with any field swapped for something odd */
function oddJson(r: () => number, depth = 0): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  if (depth > 4 || r() < 0.25) return pick(ODD);
  const keys = [
    'resourceSpans',
    'resourceMetrics',
    'scopeSpans',
    'scopeMetrics',
    'spans',
    'metrics',
    'dataPoints',
    'attributes',
    'value',
    'sum',
    'gauge',
    'histogram',
    'name',
    'spanId',
    'traceId',
    'startTimeUnixNano',
    'timeUnixNano',
    'asInt',
    'status',
    'key',
    'stringValue',
    'intValue',
  ];
  if (r() < 0.3) return Array.from({ length: Math.floor(r() * 3) }, () => oddJson(r, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = 0; i < 1 + Math.floor(r() * 4); i++) o[pick(keys)] = oddJson(r, depth + 1);
  if (r() < 0.3)
    o.name = pick(['openclaw.run', 'openclaw.tokens', 'openclaw.tool.execution', 'openclaw.session.stuck']);
  return o;
}

describe('OTLP receiver under garbage', () => {
  it('answers every odd body with 200 or 400 and never throws or stores nonsense', async () => {
    const events: PulseEvent[] = [];
    const rx = createOtlpReceiver({
      sink: { ingest: (ev) => void events.push(...ev) },
      logger: silentLogger,
      maxBodyBytes: 1 << 20,
    });
    const r = rng(42);
    const statuses = new Map<number, number>();
    const valid = [
      encodeTracesProto({
        resourceSpans: [
          {
            scopeSpans: [
              {
                spans: [
                  { spanId: 'aa'.repeat(8), name: 'openclaw.run', startTimeUnixNano: '1795272000000000000' },
                ],
              },
            ],
          },
        ],
      }),
      encodeMetricsProto({
        resourceMetrics: [
          {
            scopeMetrics: [{ metrics: [{ name: 'openclaw.tokens', sum: { dataPoints: [{ asInt: '5' }] } }] }],
          },
        ],
      }),
    ];
    for (let i = 0; i < 300; i++) {
      const path = i % 2 ? '/v1/traces' : '/v1/metrics';
      let body: ArrayBuffer | string;
      let type: string;
      if (i % 3 === 0) {
        type = 'application/json';
        body = JSON.stringify(oddJson(r));
      } else {
        type = 'application/x-protobuf';
        // a valid message with random bytes flipped, cut or appended
        const base = Buffer.from(valid[i % 2] as Uint8Array);
        for (let k = 0; k < 1 + Math.floor(r() * 4); k++)
          base[Math.floor(r() * base.length)] = Math.floor(r() * 256);
        const cut = base.subarray(0, Math.max(1, Math.floor(r() * (base.length + 1))));
        body = new Uint8Array(cut).buffer;
      }
      const res = await rx.app.request(path, { method: 'POST', headers: { 'content-type': type }, body });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      expect([200, 400]).toContain(res.status);
      await res.arrayBuffer();
    }
    expect(statuses.get(200)).toBeGreaterThan(0);
    expect(statuses.get(400)).toBeGreaterThan(0);
    for (const e of events) {
      expect(typeof e.sessionKey).toBe('string');
      expect(Number.isFinite(e.ts)).toBe(true);
      expect(e.dedupeKey.startsWith('otlp/')).toBe(true);
    }
  });
});

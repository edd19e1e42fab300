import { describe, expect, it } from 'vitest';
import type { LlmTokensEvent } from '../../model/events.js';
import { createMetricsMapper } from './map-metrics.js';
import type { KeyValue, OtlpMetrics } from './proto.js';

const S = (k: string, v: string): KeyValue => ({ key: k, value: { stringValue: v } });
const START = '1795272000000000000';
const at = (sec: number) => `${1795272000 + sec}000000000`;

function tokens(
  time: string,
  values: Partial<Record<'input' | 'output' | 'cache_read', number>>,
  cost?: number,
  start = START,
  temporality = 2,
): OtlpMetrics {
  const common = [
    S('openclaw.agent', 'main'),
    S('openclaw.provider', 'anthropic'),
    S('openclaw.model', 'claude'),
    S('openclaw.channel', 'mattermost'),
  ];
  const metrics: NonNullable<
    NonNullable<OtlpMetrics['resourceMetrics']>[number]['scopeMetrics']
  >[number]['metrics'] = [
    {
      name: 'openclaw.tokens',
      sum: {
        aggregationTemporality: temporality,
        isMonotonic: true,
        dataPoints: Object.entries(values).map(([k, v]) => ({
          attributes: [...common, S('openclaw.token', k)],
          startTimeUnixNano: start,
          timeUnixNano: time,
          asInt: String(v),
        })),
      },
    },
  ];
  if (cost !== undefined) {
    metrics.push({
      name: 'openclaw.cost.usd',
      sum: {
        aggregationTemporality: temporality,
        dataPoints: [{ attributes: common, startTimeUnixNano: start, timeUnixNano: time, asDouble: cost }],
      },
    });
  }
  return {
    resourceMetrics: [
      { resource: { attributes: [S('service.name', 'openclaw-gateway')] }, scopeMetrics: [{ metrics }] },
    ],
  };
}

describe('metrics mapper', () => {
  it('turns cumulative counters into deltas per series, and a new start time into a reset', () => {
    const m = createMetricsMapper();
    const one = m.map(tokens(at(5), { input: 100, output: 10 }, 0.5), 0).events as LlmTokensEvent[];
    expect(one).toHaveLength(1);
    expect(one[0]).toMatchObject({
      type: 'llm.tokens',
      input: 100,
      output: 10,
      cacheRead: 0,
      costUsd: 0.5,
      model: 'claude',
      provider: 'anthropic',
      agentId: 'main',
      sessionKey: 'otlp:main',
      ts: (1795272000 + 5) * 1000,
    });

    const two = m.map(tokens(at(10), { input: 250, output: 10, cache_read: 7 }, 0.75), 0)
      .events as LlmTokensEvent[];
    expect(two[0]).toMatchObject({ input: 150, output: 0, cacheRead: 7, costUsd: 0.25 });
    expect(two[0]?.dedupeKey).not.toBe(one[0]?.dedupeKey);

    // nothing moved: no event
    expect(m.map(tokens(at(15), { input: 250, output: 10, cache_read: 7 }, 0.75), 0).events).toHaveLength(0);

    // OpenClaw restarted: new start time, totals from zero again
    const three = m.map(tokens(at(20), { input: 40 }, undefined, at(18)), 0).events as LlmTokensEvent[];
    expect(three[0]).toMatchObject({ input: 40, output: 0 });
  });

  it('joins openclaw.cost.usd (which has no agent attribute) to the agent token event of its route', () => {
    const m = createMetricsMapper();
    const req = tokens(at(5), { input: 100 });
    const route = [
      S('openclaw.provider', 'anthropic'),
      S('openclaw.model', 'claude'),
      S('openclaw.channel', 'mattermost'),
    ];
    req.resourceMetrics?.[0]?.scopeMetrics?.[0]?.metrics?.push({
      name: 'openclaw.cost.usd',
      sum: {
        aggregationTemporality: 2,
        dataPoints: [{ attributes: route, startTimeUnixNano: START, timeUnixNano: at(5), asDouble: 0.02 }],
      },
    });
    const ev = m.map(req, 0).events as LlmTokensEvent[];
    expect(ev).toHaveLength(1);
    expect(ev[0]).toMatchObject({ sessionKey: 'otlp:main', input: 100, costUsd: 0.02 });
    // a cost on a route with no token event stands alone, on the service's synthetic session
    const other = m.map(
      {
        resourceMetrics: [
          {
            resource: { attributes: [S('service.name', 'gw')] },
            scopeMetrics: [
              {
                metrics: [
                  {
                    name: 'openclaw.cost.usd',
                    sum: {
                      aggregationTemporality: 1,
                      dataPoints: [
                        { attributes: [S('openclaw.model', 'x')], timeUnixNano: at(6), asDouble: 1.5 },
                      ],
                    },
                  },
                ],
              },
            ],
          },
        ],
      },
      0,
    ).events as LlmTokensEvent[];
    expect(other[0]).toMatchObject({ sessionKey: 'otlp:gw', costUsd: 1.5, input: 0, model: 'x' });
  });

  it('takes delta temporality as is, and the same export twice gives the same dedupe key', () => {
    const m = createMetricsMapper();
    const a = m.map(tokens(at(5), { input: 30 }, undefined, at(0), 1), 0).events;
    const b = createMetricsMapper().map(tokens(at(5), { input: 30 }, undefined, at(0), 1), 0).events;
    const c = m.map(tokens(at(10), { input: 30 }, undefined, at(5), 1), 0).events as LlmTokensEvent[];
    expect(a[0]?.dedupeKey).toBe(b[0]?.dedupeKey);
    expect(c[0]?.input).toBe(30);
  });

  it('maps stuck counters and ages to session.stuck, uses a real session key when present, rejects valueless points', () => {
    const m = createMetricsMapper();
    const req: OtlpMetrics = {
      resourceMetrics: [
        {
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'openclaw.session.stuck',
                  sum: {
                    aggregationTemporality: 2,
                    dataPoints: [
                      {
                        attributes: [
                          S('openclaw.sessionKey', 'agent:ops:main'),
                          S('openclaw.state', 'processing'),
                        ],
                        startTimeUnixNano: START,
                        timeUnixNano: at(3),
                        asInt: '1',
                      },
                      {
                        attributes: [S('openclaw.sessionKey', 'unknown')],
                        startTimeUnixNano: START,
                        timeUnixNano: at(3),
                      },
                    ],
                  },
                },
                {
                  name: 'openclaw.session.stuck_age_ms',
                  histogram: {
                    aggregationTemporality: 2,
                    dataPoints: [
                      {
                        attributes: [S('openclaw.sessionKey', 'agent:ops:main')],
                        startTimeUnixNano: START,
                        timeUnixNano: at(3),
                        count: '1',
                        sum: 130000,
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    const r = m.map(req, 0);
    expect(r.rejected).toBe(1);
    expect(r.events).toHaveLength(1);
    expect(r.events[0]).toMatchObject({
      type: 'session.stuck',
      sessionKey: 'agent:ops:main',
      agentId: 'ops',
      ageMs: 130000,
    });
    expect((r.events[0] as { reason?: string }).reason).toContain('processing');
  });
});

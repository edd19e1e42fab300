import { describe, expect, it } from 'vitest';
import { lokiPushUrl } from './loki-sink.js';
import { toLokiEntry, toPushBody } from './push-format.js';

describe('Loki push format', () => {
  it('turns epoch ms into exact epoch ns digits (past 2^53)', () => {
    const e = toLokiEntry({ event: 'dispatch.stuck', ts: 4_102_444_800_999, label: 'x', host: 'h' }, 0);
    expect(e.tsNs).toBe('4102444800999000000');
  });

  it('leaves an empty agent out of the labels and uses the clock for a missing timestamp', () => {
    const e = toLokiEntry(
      { event: 'dispatch.started', ts: Number.NaN, label: 'x', host: 'h', agent: '' },
      1234,
    );
    expect(e.labels).toEqual({ job: 'clawpulse', event: 'dispatch.started', host: 'h' });
    expect(e.tsNs).toBe('1234000000');
  });

  it('groups by label set regardless of key order', () => {
    const body = toPushBody([
      { labels: { job: 'clawpulse', event: 'a', host: 'h' }, tsNs: '1', line: 'x' },
      { labels: { host: 'h', event: 'a', job: 'clawpulse' }, tsNs: '2', line: 'y' },
    ]);
    expect(body.streams).toHaveLength(1);
    expect(body.streams[0]?.values).toEqual([
      ['1', 'x'],
      ['2', 'y'],
    ]);
  });

  it('adds the push path to a bare Loki URL and keeps an explicit one', () => {
    expect(lokiPushUrl('http://loki:3100')).toBe('http://loki:3100/loki/api/v1/push');
    expect(lokiPushUrl('https://logs.example/api/prom/push?x=1')).toBe(
      'https://logs.example/api/prom/push?x=1',
    );
  });
});

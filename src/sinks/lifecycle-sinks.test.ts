import { afterEach, describe, expect, it } from 'vitest';
import { captureLogger, type Receiver, startReceiver, waitFor } from '../../test/support/http-receiver.js';
import type { LifecycleEvent } from '../dispatch/lifecycle.js';
import { ManualClock } from '../infra/clock.js';
import { silentLogger } from '../infra/logger.js';
import { createLifecycleSinks } from './lifecycle-sinks.js';

const T0 = 1_760_000_000_000;
let receivers: Receiver[] = [];
afterEach(async () => {
  for (const r of receivers) await r.close();
  receivers = [];
});

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}

const ev = (over: Partial<LifecycleEvent> = {}): LifecycleEvent => ({
  event: 'dispatch.delivered',
  ts: T0,
  label: 'digest',
  host: 'box-1',
  ...over,
});

describe('createLifecycleSinks', () => {
  it('with nothing configured the emitter is a no-op and there is nothing to report', async () => {
    const sinks = createLifecycleSinks({}, { clock: new ManualClock(T0), logger: silentLogger });
    expect(() => sinks.emitter.emit(ev())).not.toThrow();
    expect(sinks.health()).toEqual([]);
    expect(sinks.metrics()).toBe('');
    await sinks.stop();
  });

  it('fans each event out to Loki and the webhook; health and metrics report both', async () => {
    const loki = await receiver();
    const hook = await receiver();
    const clock = new ManualClock(T0);
    const sinks = createLifecycleSinks(
      {
        lokiUrl: loki.url,
        lokiTenant: 't1',
        webhookUrl: `${hook.url}/in`,
        webhookSecret: 'k',
        host: 'dispatch-7',
      },
      { clock, logger: silentLogger },
    );
    sinks.emitter.emit(ev({ host: '' })); // the configured host fills an empty one
    await waitFor(() => sinks.stats().every((r) => r.stats.sent === 1), 'both delivered');
    const line = JSON.parse(loki.requests[0]?.body.toString('utf8') ?? '').streams[0];
    expect(line.stream.host).toBe('dispatch-7');
    expect(JSON.parse(hook.requests[0]?.body.toString('utf8') ?? '').host).toBe('dispatch-7');
    expect(hook.requests[0]?.headers['x-clawpulse-signature']).toMatch(/^sha256=/);

    const health = sinks.health();
    expect(health.map((h) => [h.id, h.kind, h.breaker, h.requests, h.failures, h.queued])).toEqual([
      ['loki', 'loki', 'closed', 1, 0, 0],
      ['webhook', 'webhook', 'closed', 1, 0, 0],
    ]);
    expect(health[0]?.detail).toMatchObject({ sent: 1, failed: 0, dropped: 0, retries: 0, tenant: 't1' });
    const m = sinks.metrics();
    expect(m).toContain('clawpulse_lifecycle_events_total{sink="loki",kind="loki",outcome="sent"} 1');
    expect(m).toContain(
      'clawpulse_lifecycle_events_total{sink="webhook",kind="webhook",outcome="dropped"} 0',
    );
    expect(m).toContain('clawpulse_lifecycle_queued{sink="webhook",kind="webhook"} 0');
    const stopping = sinks.stop();
    clock.advance(10_000);
    await stopping;
  });

  it('a URL that does not parse leaves that output off, says so in health, and leaks no credentials', async () => {
    const { logger, lines } = captureLogger();
    const sinks = createLifecycleSinks(
      { lokiUrl: 'http://u:pa55word@[not a host', webhookUrl: 'ftp://u:pa55word@example.com/' },
      { clock: new ManualClock(T0), logger },
    );
    expect(() => sinks.emitter.emit(ev())).not.toThrow();
    const [loki, hook] = sinks.health();
    expect(loki).toMatchObject({ id: 'loki', breaker: 'closed' });
    expect(loki?.lastError).toMatch(/loki output not started: Invalid URL/);
    expect(hook?.lastError).toMatch(/webhook output not started: unsupported URL scheme "ftp:"/);
    expect(JSON.stringify(sinks.health()) + lines.join('\n')).not.toContain('pa55word');
    await sinks.stop();
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { createGatewayConnection } from '../../gateway/connection.js';
import { ManualClock } from '../../infra/clock.js';
import { silentLogger } from '../../infra/logger.js';
import type { PulseEvent } from '../../model/events.js';
import { startFakeGateway } from './fake-gateway.helper.js';
import { createGatewaySource } from './gateway-source.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});
const waitFor = (fn: () => void) => vi.waitFor(fn, { timeout: 5000, interval: 5 });

describe('gateway source on a shared connection', () => {
  it('subscribes on a connection that is already live, and leaves it running when it stops', async () => {
    const g = await startFakeGateway({
      methods: { echo: (params, _c, reply) => reply.ok(params) },
      subscribe: () => ({ sessions: [{ key: 'agent:main:main', updatedAt: 5 }] }),
    });
    cleanups.push(() => g.close());
    const clock = new ManualClock(1000);
    const conn = createGatewayConnection({ url: g.url, logger: silentLogger, clock, name: 'dispatch' });
    cleanups.push(() => conn.stop());
    conn.start();
    await conn.ready();

    const events: PulseEvent[] = [];
    const s = createGatewaySource({
      url: g.url,
      connection: conn,
      sink: { ingest: (evs) => events.push(...evs) },
      offsets: { getOffset: () => undefined, listOffsets: () => [] },
      logger: silentLogger,
      clock,
    });
    await s.start();
    await waitFor(() => expect(s.health().state).toBe('live'));
    expect(s.health().detail).toBe('protocol 4, gateway fake, 1 sessions');
    expect(events.some((e) => e.type === 'session.seen' && e.sessionKey === 'agent:main:main')).toBe(true);
    await expect(conn.request('echo', { x: 1 })).resolves.toEqual({ x: 1 });
    expect(g.conns).toHaveLength(1);
    expect(g.conns[0]?.requests.map((r) => r.method)).toEqual(['connect', 'sessions.subscribe', 'echo']);

    await s.stop();
    expect(s.health().state).toBe('stopped');
    expect(conn.status().state).toBe('live');
    await expect(conn.request('echo', 2)).resolves.toBe(2);
  });
});

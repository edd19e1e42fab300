import { describe, expect, it } from 'vitest';
import { BreakerOpenError, createBreaker } from './breaker.js';
import { ManualClock } from './clock.js';

const ok = async () => 'ok';
const boom = async () => {
  throw new Error('boom');
};

describe('circuit breaker', () => {
  it('opens after threshold consecutive failures and then fails fast', async () => {
    const clock = new ManualClock(0);
    const states: string[] = [];
    const b = createBreaker({
      name: 'mm',
      threshold: 3,
      cooldownMs: 30_000,
      clock,
      onStateChange: (s) => states.push(s),
    });
    await expect(b.exec(boom)).rejects.toThrow('boom');
    await expect(b.exec(boom)).rejects.toThrow('boom');
    expect(b.state()).toBe('closed');
    await expect(b.exec(boom)).rejects.toThrow('boom');
    expect(b.state()).toBe('open');
    let called = false;
    await expect(
      b.exec(async () => {
        called = true;
      }),
    ).rejects.toBeInstanceOf(BreakerOpenError);
    expect(called).toBe(false);
    expect(b.stats().rejected).toBe(1);
    expect(b.retryInMs()).toBe(30_000);
    expect(states).toEqual(['open']);
  });

  it('a success resets the failure count', async () => {
    const b = createBreaker({ name: 'mm', threshold: 2, cooldownMs: 1000, clock: new ManualClock() });
    await expect(b.exec(boom)).rejects.toThrow();
    await b.exec(ok);
    await expect(b.exec(boom)).rejects.toThrow();
    expect(b.state()).toBe('closed');
  });

  it('lets exactly one probe through after the cooldown; success closes it', async () => {
    const clock = new ManualClock(0);
    const b = createBreaker({ name: 'mm', threshold: 1, cooldownMs: 1000, clock });
    await expect(b.exec(boom)).rejects.toThrow();
    clock.advance(999);
    await expect(b.exec(ok)).rejects.toBeInstanceOf(BreakerOpenError);
    clock.advance(1);
    let release!: (v: string) => void;
    const probe = b.exec(() => new Promise<string>((r) => (release = r)));
    expect(b.state()).toBe('half-open');
    await expect(b.exec(ok)).rejects.toBeInstanceOf(BreakerOpenError); // only one probe
    release('fine');
    await expect(probe).resolves.toBe('fine');
    expect(b.state()).toBe('closed');
    await expect(b.exec(ok)).resolves.toBe('ok');
  });

  it('a failed probe opens it again for a full cooldown', async () => {
    const clock = new ManualClock(0);
    const b = createBreaker({ name: 'mm', threshold: 1, cooldownMs: 1000, clock });
    await expect(b.exec(boom)).rejects.toThrow();
    clock.advance(1000);
    await expect(b.exec(boom)).rejects.toThrow('boom');
    expect(b.state()).toBe('open');
    clock.advance(500);
    await expect(b.exec(ok)).rejects.toBeInstanceOf(BreakerOpenError);
    expect(b.stats().opened).toBe(2);
  });

  it('errors the caller does not count never open it', async () => {
    const b = createBreaker({
      name: 'mm',
      threshold: 1,
      cooldownMs: 1000,
      clock: new ManualClock(),
      isFailure: (e) => (e as Error).message !== 'bad request',
    });
    for (let i = 0; i < 5; i++)
      await expect(
        b.exec(async () => {
          throw new Error('bad request');
        }),
      ).rejects.toThrow();
    expect(b.state()).toBe('closed');
  });
});

import { describe, expect, it } from 'vitest';
import { installShutdown } from './shutdown.js';

function harness(stop: (signal: string) => Promise<void>, deadlineMs = 10_000) {
  const handlers = new Map<string, () => void>();
  const exits: number[] = [];
  const said: string[] = [];
  let cleanups = 0;
  const s = installShutdown({
    stop,
    cleanup: () => cleanups++,
    deadlineMs,
    exit: (c) => exits.push(c),
    on: (sig, fn) => handlers.set(sig, fn),
    say: (t) => said.push(t),
  });
  return { s, exits, said, signal: (sig: string) => handlers.get(sig)?.(), cleanups: () => cleanups };
}

describe('Ctrl-C and SIGTERM', () => {
  it('the first signal stops gracefully, then exits 0 after cleaning up', async () => {
    const signals: string[] = [];
    const h = harness(async (sig) => {
      signals.push(sig);
    });
    h.signal('SIGTERM');
    expect(h.s.stopping).toBe(true);
    await new Promise((r) => setTimeout(r, 0));
    expect(signals).toEqual(['SIGTERM']);
    expect(h.exits).toEqual([0]);
    expect(h.cleanups()).toBe(1);
  });

  it('a second signal exits at once (130) while the stop still hangs', () => {
    const h = harness(() => new Promise<void>(() => {}));
    h.signal('SIGINT');
    expect(h.exits).toEqual([]);
    h.signal('SIGINT');
    expect(h.exits).toEqual([130]);
    expect(h.said).toEqual(['clawpulse: SIGINT again: exiting now']);
    expect(h.cleanups()).toBe(1);
  });

  it('a stop that outlives the deadline exits 1; a failed one exits 1 saying why', async () => {
    const hung = harness(() => new Promise<void>(() => {}), 20);
    hung.signal('SIGTERM');
    await new Promise((r) => setTimeout(r, 60));
    expect(hung.exits).toEqual([1]);
    expect(hung.said[0]).toMatch(/did not stop within 0 s; exiting/);
    const failed = harness(async () => {
      throw new Error('store busy');
    });
    failed.signal('SIGTERM');
    await new Promise((r) => setTimeout(r, 0));
    expect(failed.exits).toEqual([1]);
    expect(failed.said).toEqual(['clawpulse: shutdown failed: store busy']);
  });
});

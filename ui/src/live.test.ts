import { describe, expect, it } from 'vitest';
import type { SessionSummary, SessionTotals } from '../../src/server/summary.js';
import { countsAfter } from './live.js';

const summary = (key: string, extra: Partial<SessionSummary> = {}): SessionSummary => ({
  key,
  agentId: 'main',
  status: 'active',
  startedAt: 0,
  lastEventAt: 0,
  elapsed: 0,
  tokens: 100,
  costUsd: 0.5,
  children: 0,
  toolCalls: 0,
  toolErrors: 0,
  errors: 0,
  ...extra,
});

const totals: SessionTotals = {
  sessions: 1,
  byStatus: { active: 1 },
  tokens: 100,
  costUsd: 0.5,
  running: 1,
  agents: ['main'],
  hosts: [],
  gateways: [],
};

describe('countsAfter', () => {
  it('marks the header total estimated as soon as a changed session is, before the server says so', () => {
    const known = new Map([['a', summary('a')]]);
    const plain = countsAfter(totals, known, new Map([['b', summary('b')]]));
    expect(plain).toMatchObject({ sessions: 2, costUsd: 1 });
    expect('costEstimated' in plain).toBe(false);
    const est = countsAfter(totals, known, new Map([['b', summary('b', { costEstimated: true })]]));
    expect(est).toMatchObject({ sessions: 2, costUsd: 1, costEstimated: true });
    // the server's mark stays while other sessions change
    expect(countsAfter({ ...totals, costEstimated: true }, known, new Map([['a', null]])).costEstimated).toBe(
      true,
    );
  });
});

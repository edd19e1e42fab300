import { describe, expect, it } from 'vitest';
import type { SessionSummary } from '../../src/server/summary.js';
import { buildRows } from './tree.js';

const s = (
  key: string,
  status: SessionSummary['status'],
  extra: Partial<SessionSummary> = {},
): SessionSummary => ({
  key,
  agentId: 'main',
  status,
  startedAt: 0,
  lastEventAt: 0,
  elapsed: 0,
  tokens: 0,
  costUsd: 0,
  children: 0,
  toolCalls: 0,
  toolErrors: 0,
  errors: 0,
  ...extra,
});

const all = { status: '' as const, agent: '', text: '' };

describe('buildRows', () => {
  it('puts stuck and failed trees first, sub-agents right under their parent', () => {
    const map = new Map(
      [
        s('done', 'done', { lastEventAt: 50 }),
        s('active', 'active', { lastEventAt: 40 }),
        s('err', 'error', { lastEventAt: 10 }),
        s('parent', 'active', { lastEventAt: 5 }),
        s('child', 'stuck', { parentKey: 'parent', startedAt: 1 }),
      ].map((x) => [x.key, x]),
    );
    const rows = buildRows(map, all);
    expect(rows.map((r) => `${r.s.key}:${r.depth}`)).toEqual([
      'parent:0',
      'child:1',
      'err:0',
      'active:0',
      'done:0',
    ]);
  });

  it('keeps the ancestors of a match as context and filters by status/agent/text', () => {
    const map = new Map(
      [
        s('p', 'active', { label: 'planner' }),
        s('c', 'active', { parentKey: 'p', label: 'log-reader' }),
        s('o', 'done', { agentId: 'ops', lastText: 'checking backups' }),
      ].map((x) => [x.key, x]),
    );
    const rows = buildRows(map, { ...all, text: 'LOG-READER' });
    expect(rows.map((r) => [r.s.key, r.context])).toEqual([
      ['p', true],
      ['c', false],
    ]);
    expect(buildRows(map, { ...all, agent: 'ops' }).map((r) => r.s.key)).toEqual(['o']);
    expect(buildRows(map, { ...all, status: 'done' }).map((r) => r.s.key)).toEqual(['o']);
    expect(buildRows(map, { ...all, text: 'backups' }).map((r) => r.s.key)).toEqual(['o']);
  });

  it('never hides sessions caught in a parent cycle', () => {
    const map = new Map(
      [s('a', 'active', { parentKey: 'b' }), s('b', 'active', { parentKey: 'a' })].map((x) => [x.key, x]),
    );
    expect(
      buildRows(map, all)
        .map((r) => r.s.key)
        .sort(),
    ).toEqual(['a', 'b']);
  });
});

import { describe, expect, it } from 'vitest';
import { liveStatusOfPost, parseLiveStatus, parseWsPost } from './validate.js';

const node = (key: string, extra: Record<string, unknown> = {}) => ({
  sessionKey: key,
  agentId: 'main',
  label: key,
  status: 'active',
  startedAt: 1000,
  tokens: 10,
  costUsd: 0.1,
  lines: [],
  children: [],
  ...extra,
});

describe('parseLiveStatus', () => {
  it('accepts a valid tree, as an object or a JSON string', () => {
    const props = {
      v: 1,
      updatedAt: 5000,
      root: node('root', {
        lines: [
          { kind: 'text', text: 'hello' },
          { kind: 'tool', text: 'exec: ls', toolStatus: 'ok', durationMs: 12 },
          { kind: 'child', childIndex: 0 },
        ],
        children: [node('child', { status: 'done', endedAt: 3000 })],
      }),
    };
    const parsed = parseLiveStatus(props);
    expect(parsed).toEqual(props);
    expect(parseLiveStatus(JSON.stringify(props))).toEqual(props);
  });

  it('refuses broken roots and unknown versions without throwing', () => {
    expect(parseLiveStatus(undefined)).toBeNull();
    expect(parseLiveStatus('{nope')).toBeNull();
    expect(parseLiveStatus([])).toBeNull();
    expect(parseLiveStatus({ v: 2, root: node('r') })).toBeNull();
    expect(parseLiveStatus({ v: 1, root: { ...node('r'), status: 'weird' } })).toBeNull();
    expect(parseLiveStatus({ v: 1, root: { ...node('r'), sessionKey: '' } })).toBeNull();
    const hostile = { v: 1 };
    Object.defineProperty(hostile, 'root', {
      get() {
        throw new Error('boom');
      },
      enumerable: true,
    });
    expect(parseLiveStatus(hostile)).toBeNull();
  });

  it('drops bad lines and children, remaps child indexes, appends unplaced children', () => {
    const parsed = parseLiveStatus({
      v: 1,
      updatedAt: 'x',
      root: node('r', {
        tokens: Number.NaN,
        lines: [
          { kind: 'text' },
          7,
          { kind: 'tool', text: 't', toolStatus: 'bogus' },
          { kind: 'child', childIndex: 1 },
          { kind: 'child', childIndex: 1 },
          { kind: 'child', childIndex: 0 },
          { kind: 'child', childIndex: 42 },
        ],
        children: [{ broken: true }, node('good'), node('unplaced')],
      }),
    });
    expect(parsed?.updatedAt).toBe(0);
    expect(parsed?.root.tokens).toBe(0);
    expect(parsed?.root.children.map((c) => c.sessionKey)).toEqual(['good', 'unplaced']);
    expect(parsed?.root.lines).toEqual([
      { kind: 'tool', text: 't', toolStatus: 'running' },
      { kind: 'child', childIndex: 0 },
      { kind: 'child', childIndex: 1 },
    ]);
  });

  it('caps depth and text length', () => {
    let deep: Record<string, unknown> = node('leaf');
    for (let i = 0; i < 40; i++) deep = node(`n${i}`, { children: [deep] });
    const parsed = parseLiveStatus({ v: 1, updatedAt: 1, root: deep });
    let depth = 0;
    let cur = parsed?.root;
    while (cur?.children[0]) {
      cur = cur.children[0];
      depth++;
    }
    expect(depth).toBe(16);
    const long = parseLiveStatus({
      v: 1,
      root: node('r', { lines: [{ kind: 'text', text: 'x'.repeat(5000) }] }),
    });
    expect((long?.root.lines[0] as { text: string } | undefined)?.text.length).toBe(2001);
  });
});

describe('costEstimated (optional, v1)', () => {
  it('keeps a literal true on a node with a cost, drops anything else, and old props parse as before', () => {
    const props = {
      v: 1,
      updatedAt: 5000,
      root: node('root', { costEstimated: true, children: [node('child', { costEstimated: true })] }),
    };
    const parsed = parseLiveStatus(props);
    expect(parsed?.root.costEstimated).toBe(true);
    expect(parsed?.root.children[0]?.costEstimated).toBe(true);
    // not a literal true, or nothing spent: no mark
    expect(parseLiveStatus({ v: 1, root: node('r', { costEstimated: 'yes' }) })?.root).not.toHaveProperty(
      'costEstimated',
    );
    expect(
      parseLiveStatus({ v: 1, root: node('r', { costEstimated: true, costUsd: 0 }) })?.root,
    ).not.toHaveProperty('costEstimated');
    // props from a daemon before the field: unchanged
    const old = { v: 1, updatedAt: 5000, root: node('root') };
    expect(parseLiveStatus(old)).toEqual(old);
  });
});

describe('posts', () => {
  it('reads props.livestatus from a post and parses WebSocket post strings', () => {
    const post = { id: 'p', type: 'custom_livestatus', props: { livestatus: { v: 1, root: node('r') } } };
    expect(liveStatusOfPost(post)?.root.sessionKey).toBe('r');
    expect(liveStatusOfPost({ id: 'p', props: null })).toBeNull();
    expect(parseWsPost(JSON.stringify(post))?.id).toBe('p');
    expect(parseWsPost('{"id":""}')).toBeNull();
    expect(parseWsPost('[1]')).toBeNull();
    expect(parseWsPost('garbage')).toBeNull();
  });
});

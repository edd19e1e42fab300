import { describe, expect, it } from 'vitest';
import { collectSessions, createPostCache } from './sessions.js';
import type { MmPost } from './types.js';

const node = (key: string, status = 'active', children: unknown[] = []) => ({
  sessionKey: key,
  agentId: 'main',
  label: key,
  status,
  startedAt: 1000,
  tokens: 5,
  costUsd: 0,
  lines: [],
  children,
});
const post = (id: string, root: unknown, updateAt = 1, extra: Partial<MmPost> = {}): MmPost => ({
  id,
  channel_id: 'c1',
  type: 'custom_livestatus',
  message: 'm',
  props: { livestatus: { v: 1, updatedAt: updateAt, root } },
  update_at: updateAt,
  delete_at: 0,
  ...extra,
});

describe('createPostCache', () => {
  it('keeps only livestatus posts, never goes back in time, notifies and caps', () => {
    const cache = createPostCache(2);
    let calls = 0;
    const off = cache.subscribe(() => calls++);
    cache.upsert({ id: 'x', type: '', message: 'plain' });
    expect(cache.posts().size).toBe(0);
    cache.upsert(post('a', node('a'), 5));
    cache.upsert(post('a', node('a', 'done'), 3)); // older edit arriving late
    expect(cache.posts().get('a')?.update_at).toBe(5);
    cache.upsert(post('b', node('b')));
    cache.upsert(post('c', node('c')));
    expect([...cache.posts().keys()]).toEqual(['b', 'c']);
    expect(calls).toBe(3);
    const v = cache.version();
    cache.remove('b');
    expect(cache.version()).toBe(v + 1);
    off();
    cache.remove('c');
    expect(calls).toBe(4);
  });
});

describe('collectSessions', () => {
  it('merges Redux and cache, one entry per session (newest wins), live first', () => {
    const cache = createPostCache();
    cache.upsert(post('p2', node('s1', 'done'), 10)); // the same session re-posted later
    cache.upsert(
      post('p3', node('s2', 'stuck', [node('c1', 'active', [node('c2', 'idle')]), node('c3', 'done')]), 2),
    );
    const state = {
      entities: {
        posts: {
          posts: {
            p1: post('p1', node('s1', 'active'), 4),
            p4: post('p4', node('s3', 'done'), 1),
            p5: post('p5', node('gone'), 1, { delete_at: 9 }),
            p6: { id: 'p6', type: '', message: 'hi' },
            p7: post('p7', { bad: true }, 1),
            p8: undefined,
          },
        },
      },
    };
    const list = collectSessions(state, cache);
    expect(list.map((s) => [s.sessionKey, s.status, s.postId])).toEqual([
      ['s2', 'stuck', 'p3'],
      ['s1', 'done', 'p2'],
      ['s3', 'done', 'p4'],
    ]);
    expect(list[0]?.liveChildren).toBe(2);
    expect(collectSessions(undefined, createPostCache())).toEqual([]);
    expect(collectSessions({ entities: { posts: { posts: null as never } } }, cache)).toHaveLength(2);
  });
});

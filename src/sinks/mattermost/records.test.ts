import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../infra/logger.js';
import { createSqliteStore } from '../../store/sqlite-store.js';
import type { BoxRecord } from './box.js';
import { createBoxRecords, isNewTurn } from './records.js';

const rec = (rootKey: string, createdAt: number, lastStatus?: BoxRecord['lastStatus']): BoxRecord => ({
  v: 1,
  rootKey,
  turn: 1,
  pendingPostId: `u:${createdAt}`,
  postId: 'p'.repeat(26),
  channelId: 'c'.repeat(26),
  type: '',
  recreated: 0,
  createdAt,
  ...(lastStatus ? { lastStatus } : {}),
});

describe('box records', () => {
  it('survive a reopened store and prune only old finished ones and garbage', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawpulse-rec-'));
    try {
      const db = path.join(dir, 'db.sqlite');
      let store = createSqliteStore(db);
      const r = createBoxRecords(store, silentLogger);
      r.save(rec('old-done', 1000, 'done'));
      r.save(rec('old-active', 1000, 'active'));
      r.save(rec('new-done', 9000, 'done'));
      store.kvSet('mattermost', 'box:garbage', '{not json');
      store.close();
      store = createSqliteStore(db);
      const r2 = createBoxRecords(store, silentLogger);
      expect(r2.load('old-done')?.postId).toBe('p'.repeat(26));
      expect(r2.load('garbage')).toBeUndefined();
      expect(r2.prune(5000)).toBe(2);
      expect(
        store
          .kvList('mattermost')
          .map((x) => x.key)
          .sort(),
      ).toEqual(['box:new-done', 'box:old-active']);
      store.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a newer turn takes the current slot; an earlier box not closed stays findable until it is', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawpulse-rec-'));
    try {
      const store = createSqliteStore(path.join(dir, 'db.sqlite'));
      const r = createBoxRecords(store, silentLogger);
      const t1 = rec('s', 1000, 'idle');
      r.save(t1);
      const t2 = { ...rec('s', 2000, 'active'), turn: 2, postId: undefined };
      r.save(t2);
      expect(r.load('s')?.turn).toBe(2);
      expect(
        r
          .unclosed()
          .map((x) => x.turn)
          .sort(),
      ).toEqual([1, 2]);
      // the earlier box goes on saving (its post id, its status) under its own key
      r.save({ ...t1, lastStatus: 'done', final: { status: 'done', text: 't', summary: 's' } });
      expect(r.load('s')?.turn).toBe(2);
      expect(JSON.parse(store.kvGet('mattermost', 'open:s:1') ?? '{}').final.text).toBe('t');
      // closed: gone from the open list
      r.save({ ...t1, closed: 3000 });
      // a final status with no kept content is an earlier version's record: nothing to finish
      r.save({ ...rec('legacy', 1000, 'done') });
      expect(r.unclosed().some((x) => x.rootKey === 'legacy')).toBe(false);
      expect(store.kvGet('mattermost', 'open:s:1')).toBeUndefined();
      expect(r.unclosed().map((x) => x.turn)).toEqual([2]);
      // a closed current record is not moved aside by the next turn
      r.save({ ...t2, closed: 4000 });
      r.save({ ...rec('s', 5000, 'active'), turn: 3 });
      expect(store.kvGet('mattermost', 'open:s:2')).toBeUndefined();
      store.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a new turn is a comeback after done or error only', () => {
    expect(isNewTurn('done', 'active')).toBe(true);
    expect(isNewTurn('error', 'idle')).toBe(true);
    expect(isNewTurn('interrupted', 'active')).toBe(false); // a restart continues the same box
    expect(isNewTurn('idle', 'active')).toBe(false);
    expect(isNewTurn('done', 'done')).toBe(false);
  });
});

/**
 * The contract every EventStore implementation must pass. Each implementation's test file
 * calls `describeEventStoreContract(name, open)` with a factory for a fresh or reopened store.
 */
import { describe, expect, it } from 'vitest';
import type { PulseEvent } from '../model/events.js';
import type { SessionState } from '../model/session.js';
import { emptyTokens } from '../model/session.js';
import type { EventStore } from './event-store.js';

/** `open(id)` returns a store; calling it again with the same id reopens the same data. */
export type OpenStore = (id: string) => EventStore;

function text(n: number, key = 'agent:main:main'): PulseEvent {
  return {
    type: 'assistant.text',
    ts: 1000 + n,
    source: 'files',
    sessionKey: key,
    agentId: 'main',
    dedupeKey: `k${n}/${key}`,
    text: `line ${n}`,
  };
}

/** a plain session snapshot (the sqlite tests use it too) */
export function session(key: string): SessionState {
  return {
    key,
    agentId: 'main',
    children: [],
    status: 'active',
    startedAt: 1,
    lastEventAt: 2,
    runs: 1,
    runOpen: true,
    lines: [{ kind: 'text', text: 'hello ✓', ts: 2 }],
    tools: [],
    tokens: emptyTokens(),
    costUsd: 0.5,
    errors: [],
    compactions: 0,
  };
}

export function describeEventStoreContract(name: string, open: OpenStore): void {
  describe(`EventStore contract: ${name}`, () => {
    it('appends with gap-free sequence numbers starting at 1', () => {
      const s = open('seq');
      const r = s.append([text(1), text(2), text(3)]);
      expect(r.stored.map((x) => x.seq)).toEqual([1, 2, 3]);
      expect(r.duplicates).toBe(0);
      expect(s.lastSeq()).toBe(3);
      expect(s.countEvents()).toBe(3);
      s.close();
    });

    it('drops a second sighting of the same dedupeKey without using a sequence number', () => {
      const s = open('dedupe');
      s.append([text(1), text(2)]);
      const r = s.append([text(2), text(3), text(1)]);
      expect(r.duplicates).toBe(2);
      expect(r.stored).toHaveLength(1);
      expect(r.stored[0]?.seq).toBe(3);
      expect(r.stored[0]?.event).toMatchObject({ text: 'line 3' });
      s.close();
    });

    it('dedupes within a session: the same dedupeKey in another session is another fact', () => {
      const s = open('dedupe-scope');
      const inB = { ...text(1), sessionKey: 'agent:main:other' };
      const r = s.append([text(1), inB, text(1), inB]);
      expect(r.stored.map((x) => x.event.sessionKey)).toEqual(['agent:main:main', 'agent:main:other']);
      expect(r.duplicates).toBe(2);
      s.close();
    });

    it('reads events back after a sequence number and per session, oldest first', () => {
      const s = open('read');
      s.append([text(1, 'a'), text(2, 'b'), text(3, 'a'), text(4, 'b')]);
      expect(s.readAfter(1, 2).map((e) => e.seq)).toEqual([2, 3]);
      expect(s.readAfter(4, 10)).toEqual([]);
      expect(s.readSession('a').map((e) => (e.event as { text: string }).text)).toEqual(['line 1', 'line 3']);
      s.close();
    });

    it('keeps events, offsets, snapshots and kv across a reopen', () => {
      const s = open('persist');
      s.append([text(1)], [{ key: 'files:/x.jsonl', value: { pos: 120, ino: 7 } }]);
      expect(s.snapshotSeq()).toBeUndefined();
      s.saveSnapshots([session('agent:main:main')], 1);
      s.kvSet('mattermost', 'agent:main:main#1', 'post123');
      s.close();
      const again = open('persist');
      expect(again.snapshotSeq()).toBe(1);
      expect(again.lastSeq()).toBe(1);
      expect(again.getOffset('files:/x.jsonl')).toEqual({ pos: 120, ino: 7 });
      expect(again.loadSnapshot('agent:main:main')?.lines[0]).toEqual({
        kind: 'text',
        text: 'hello ✓',
        ts: 2,
      });
      expect(again.loadSnapshots()).toHaveLength(1);
      expect(again.kvGet('mattermost', 'agent:main:main#1')).toBe('post123');
      // the next append continues the sequence
      expect(again.append([text(2)]).stored[0]?.seq).toBe(2);
      again.close();
    });

    it('saves offsets in the same call as the events and lists them by prefix', () => {
      const s = open('offsets');
      s.append(
        [],
        [
          { key: 'files:/a', value: { pos: 1 } },
          { key: 'sqlite:/db:s1', value: { seq: 4 } },
        ],
      );
      s.setOffsets([{ key: 'files:/b', value: { pos: 2 } }]);
      s.append([text(1)], [{ key: 'files:/a', value: { pos: 10 } }]);
      expect(s.listOffsets('files:')).toEqual([
        { key: 'files:/a', value: { pos: 10 } },
        { key: 'files:/b', value: { pos: 2 } },
      ]);
      expect(s.getOffset('nope')).toBeUndefined();
      s.close();
    });

    it('overwrites a snapshot of the same session and deletes kv entries', () => {
      const s = open('overwrite');
      s.saveSnapshots([session('k')]);
      s.saveSnapshots([{ ...session('k'), status: 'done' }]);
      expect(s.loadSnapshots()).toHaveLength(1);
      expect(s.loadSnapshot('k')?.status).toBe('done');
      s.kvSet('ns', 'a', '1');
      s.kvSet('ns', 'b', '2');
      s.kvDelete('ns', 'a');
      expect(s.kvList('ns')).toEqual([{ key: 'b', value: '2' }]);
      expect(s.kvGet('other', 'b')).toBeUndefined();
      s.close();
    });

    it('reads appended events before their commit, and a reopen keeps them with their dedupe', () => {
      const s = open('uncommitted');
      s.append([text(1, 'a'), text(2, 'b')], [{ key: 'files:/a', value: { pos: 1 } }]);
      s.append([text(3, 'a')], [{ key: 'files:/a', value: { pos: 3 } }]);
      // no flush: reads merge what waits for its group's commit
      expect(s.readAfter(0, 10).map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(s.readAfter(1, 1).map((e) => e.seq)).toEqual([2]);
      expect(s.readSession('a').map((e) => e.seq)).toEqual([1, 3]);
      expect(s.readSession('a', 1).map((e) => e.seq)).toEqual([1]);
      expect(s.getOffset('files:/a')).toEqual({ pos: 3 });
      s.close();
      const again = open('uncommitted');
      expect(again.lastSeq()).toBe(3);
      expect(again.getOffset('files:/a')).toEqual({ pos: 3 });
      // the facts seen before the reopen are still known: only the new one is stored, at seq 4
      const r = again.append([text(1, 'a'), text(2, 'b'), text(3, 'a'), text(4, 'a')]);
      expect(r.duplicates).toBe(3);
      expect(r.stored.map((e) => e.seq)).toEqual([4]);
      expect(again.readAfter(0, 10).map((e) => (e.event as { text: string }).text)).toEqual([
        'line 1',
        'line 2',
        'line 3',
        'line 4',
      ]);
      again.close();
    });

    it('keeps offsets set after appended ones, and the snapshot seq, across a reopen', () => {
      const s = open('offsets-order');
      s.append([text(1)], [{ key: 'files:/a', value: { pos: 1 } }]);
      // saved on its own after the append: the append's older value must not overwrite it
      s.setOffsets([{ key: 'files:/a', value: { pos: 9 } }]);
      s.saveSnapshots([session('agent:main:main')], 1);
      s.saveSnapshots([{ ...session('agent:main:main'), status: 'done' }], 1);
      s.close();
      const again = open('offsets-order');
      expect(again.getOffset('files:/a')).toEqual({ pos: 9 });
      expect(again.listOffsets('files:')).toEqual([{ key: 'files:/a', value: { pos: 9 } }]);
      expect(again.snapshotSeq()).toBe(1);
      expect(again.loadSnapshots().map((x) => x.status)).toEqual(['done']);
      again.close();
    });

    it('counts an event missing its dedupeKey or sessionKey as a duplicate, storing nothing', () => {
      const s = open('incomplete');
      const noKey = { ...text(1), dedupeKey: undefined } as unknown as PulseEvent;
      const noSession = { ...text(2), sessionKey: undefined } as unknown as PulseEvent;
      const r = s.append([noKey, noSession, text(3)]);
      expect(r.duplicates).toBe(2);
      expect(r.stored.map((e) => e.seq)).toEqual([1]);
      s.close();
    });

    it('reports stats', () => {
      const s = open('stats');
      s.append([text(1), text(2)]);
      s.saveSnapshots([session('x')]);
      const st = s.stats();
      expect(st.events).toBe(2);
      expect(st.sessions).toBe(1);
      expect(st.lastSeq).toBe(2);
      s.close();
    });
  });
}

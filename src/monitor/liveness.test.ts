import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deadUrl } from '../../test/support/http-receiver.js';
import { tempDir } from '../test-support/temp-dir.js';
import { gatewayProbe, onlyLiveFilter, recentlyActiveFromFiles } from './liveness.js';

describe('--only-live', () => {
  it('keeps every agent while the gateway answers, else the recently active ones', async () => {
    let up = false;
    const seen: number[] = [];
    const filter = onlyLiveFilter({
      gatewayUp: async () => up,
      recentlyActive: (ids, since) => {
        seen.push(since);
        return new Set(ids.filter((i) => i === 'coding'));
      },
      now: () => 1_000_000,
    });
    expect(await filter(['main', 'coding'], 300_000)).toEqual(['coding']);
    expect(seen).toEqual([700_000]);
    up = true;
    expect(await filter(['main', 'coding'], 300_000)).toEqual(['main', 'coding']);
  });

  it('reads a session event from the agents’ session files (transcripts, sessions.json, the SQLite store)', () => {
    const state = tempDir('clawpulse-live-');
    const now = Date.now();
    const touch = (rel: string, ageMs: number) => {
      const f = path.join(state, rel);
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(f, '');
      const t = new Date(now - ageMs);
      fs.utimesSync(f, t, t);
    };
    touch('agents/main/sessions/0b6c0e3a-1111-4a4a-8a8a-000000000001.jsonl', 60_000);
    touch('agents/coding/sessions/sessions.json', 10 * 60_000);
    touch('agents/coding/sessions/notes.txt', 0); // not a session file
    touch('agents/ops/agent/openclaw-agent.sqlite-wal', 1000);
    const live = recentlyActiveFromFiles(state, ['main', 'coding', 'ops', 'ghost'], now - 5 * 60_000);
    expect([...live].sort()).toEqual(['main', 'ops']);
  });

  it('says the gateway is down when nothing answers there', async () => {
    const url = (await deadUrl()).replace('http', 'ws');
    const probe = gatewayProbe({ url, stateDir: tempDir('clawpulse-live-'), timeoutMs: 2000 });
    expect(await probe()).toBe(false);
  });
});

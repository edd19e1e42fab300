import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readStateDirOnce, readStateDirOnceWithStats, readTranscriptOnce } from './once.js';
import { line, say, tempStateDir, user } from './test-helpers.js';

const FIX = path.resolve('test/fixtures/openclaw/v2026.7.35');
const PARENT = 'daa6b28a-5388-4104-8e50-89a5a783e4c6';

describe('one-shot readers (replay)', () => {
  it('readTranscriptOnce names the session from the sibling sessions.json', () => {
    const evs = readTranscriptOnce(path.join(FIX, `${PARENT}.jsonl`));
    expect(evs[0]).toMatchObject({ type: 'session.seen', sessionKey: 'agent:main:main', sessionId: PARENT });
    expect(evs.every((e) => e.sessionKey === 'agent:main:main')).toBe(true);
    expect(evs.filter((e) => e.type === 'tool.call')).toHaveLength(4);
    expect(evs.filter((e) => e.type === 'agent.finished')).toHaveLength(3);
  });

  it('readStateDirOnce reads every agent, sessions first, skipping side files and archives', () => {
    const { stateDir, sessions } = tempStateDir();
    for (const f of fs.readdirSync(FIX))
      if (/\.jsonl$|^sessions\.json$|trajectory/.test(f))
        fs.copyFileSync(path.join(FIX, f), path.join(sessions, f));
    // an archive of the parent must not be counted again
    fs.copyFileSync(
      path.join(FIX, `${PARENT}.jsonl`),
      path.join(sessions, `${PARENT}.jsonl.reset.2026-11-21T10-00-00.000Z`),
    );
    const ops = path.join(stateDir, 'agents', 'ops', 'sessions');
    fs.mkdirSync(ops, { recursive: true });
    const id = '44444444-2222-4333-8444-555555555555';
    fs.writeFileSync(
      path.join(ops, `${id}.jsonl`),
      `${line(user('u1', 'x'))}garbage\n${line(say('a1', 'ok'))}`,
    );
    const r = readStateDirOnceWithStats(stateDir);
    expect(r.malformed).toBe(1);
    const types = r.events.map((e) => e.type);
    expect(types.slice(0, 3)).toEqual(['session.seen', 'session.seen', 'subagent.spawned']);
    expect(r.events.filter((e) => e.type === 'tool.call')).toHaveLength(5);
    expect(r.events.filter((e) => e.sessionKey === `agent:ops:session:${id}`).map((e) => e.type)).toContain(
      'assistant.text',
    );
    expect(readStateDirOnce(path.join(stateDir, 'nope'))).toEqual([]);
  });
});

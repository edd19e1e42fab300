import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PulseEvent } from '../../model/events.js';
import { createTranscriptNormalizer } from '../../openclaw/normalize.js';
import { processLines } from './line-processor.js';
import {
  readStateDirOnce,
  readStateDirOnceWithStats,
  readTranscriptOnce,
  streamTranscript,
  streamTranscriptFolder,
} from './once.js';
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

  it('streams a transcript in chunks: lines across chunk edges and a line longer than a chunk read whole', () => {
    const { sessions } = tempStateDir();
    const id = '55555555-2222-4333-8444-666666666666';
    const file = path.join(sessions, `${id}.jsonl`);
    const parts: string[] = [];
    for (let i = 0; i < 4000; i++) parts.push(line(user(`u${i}`, `question ${i} ${'x'.repeat(i % 700)}`)));
    parts.push(line(say('long', `a long answer ${'y'.repeat(3 << 20)}`)));
    for (let i = 0; i < 100; i++) parts.push(line(say(`a${i}`, `answer ${i}`)));
    parts.push(JSON.stringify(say('tail', 'no newline at the end')));
    fs.writeFileSync(file, parts.join(''));
    expect(fs.statSync(file).size).toBeGreaterThan(4 << 20);

    // what reading the whole file at once gives
    const whole: PulseEvent[] = [];
    const n = createTranscriptNormalizer({
      sessionKey: `agent:main:session:${id}`,
      agentId: 'main',
      sessionId: id,
      source: 'files',
    });
    processLines(Buffer.from(`${parts.join('')}\n`), n, whole, () => {});

    const batches: number[] = [];
    const streamed: PulseEvent[] = [];
    const stats = streamTranscript(file, {
      events(b) {
        batches.push(b.length);
        streamed.push(...b);
      },
    });
    expect(streamed).toEqual(whole);
    expect(batches.length).toBeGreaterThan(3);
    expect(stats).toMatchObject({ transcripts: 1, lines: 4102, malformed: 0, events: whole.length });
    expect(streamed.at(-1)).toMatchObject({ type: 'agent.finished' });
  });

  it('reads a flat transcript folder (sessions.json and transcripts side by side)', () => {
    const dir = tempStateDir().sessions;
    for (const f of fs.readdirSync(FIX))
      if (/\.jsonl$|^sessions\.json$/.test(f)) fs.copyFileSync(path.join(FIX, f), path.join(dir, f));
    const files: string[] = [];
    const evs: PulseEvent[] = [];
    const stats = streamTranscriptFolder(dir, {
      file: (f, kind) => files.push(`${kind}:${path.basename(f)}`),
      events: (b) => evs.push(...b),
    });
    expect(files[0]).toBe('sessions:sessions.json');
    expect(stats.transcripts).toBe(2);
    expect(evs.filter((e) => e.type === 'tool.call')).toHaveLength(5);
    expect(new Set(evs.map((e) => e.sessionKey))).toContain('agent:main:main');
  });
});

/**
 * The follower's read loop at chunk edges: a read's whole lines go through processLines in one
 * go, a line split across reads is carried, and malformed lines are logged with their line
 * number on either path.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../infra/clock.js';
import { createLogger } from '../../infra/logger.js';
import type { PulseEvent } from '../../model/events.js';
import { createFollower, type FileOffsetValue } from './follower.js';
import { line, say, tempStateDir, user } from './test-helpers.js';

const SID = '11111111-2222-4333-8444-555555555555';

function follow(file: string, chunkSize?: number, paused?: () => boolean) {
  const events: PulseEvent[] = [];
  const logged: Array<{ line: number; error: string }> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      const o = JSON.parse(String(chunk));
      if (o.msg === 'skipping malformed transcript line') logged.push({ line: o.line, error: o.error });
      done();
    },
  });
  let offset: FileOffsetValue | undefined;
  const follower = createFollower({
    path: file,
    sessionId: SID,
    agentId: 'main',
    logger: createLogger('warn', sink),
    clock: new ManualClock(1e12),
    emit: (evs, o) => {
      events.push(...evs);
      offset = o.value as FileOffsetValue;
    },
    onMalformed: () => {},
    chunkSize,
    ...(paused ? { paused } : {}),
  });
  follower.resolve('agent:main:main', 'main');
  return { follower, events, logged, offset: () => offset };
}

describe('transcript follower', () => {
  const content = [
    line(user('u1', 'first')),
    'not json\n',
    line(say('a1', 'Grüße — non-ASCII', 'toolUse')),
    '\n',
    line(say('a2', 'plain ASCII', 'stop')),
    '{"type":\n',
    line(user('u2', 'second')),
    line(say('a3', 'last one')),
  ].join('');

  it('reads the same events and logs the same line numbers whatever the read size', async () => {
    const { sessions } = tempStateDir();
    const file = path.join(sessions, `${SID}.jsonl`);
    fs.writeFileSync(file, content);
    const whole = follow(file);
    await whole.follower.poll(true);
    expect(whole.events.filter((e) => e.type === 'assistant.text').map((e) => e.text)).toEqual([
      'Grüße — non-ASCII',
      'plain ASCII',
      'last one',
    ]);
    expect(whole.logged.map((l) => l.line)).toEqual([2, 6]);
    expect(whole.offset()).toMatchObject({ pos: Buffer.byteLength(content), lineNo: 8, lastId: 'a3' });

    // reads of 7 to 300 bytes: lines split across reads, and reads of several whole lines
    for (const chunkSize of [7, 64, 300]) {
      const r = follow(file, chunkSize);
      await r.follower.poll(true);
      expect(r.events, `chunkSize ${chunkSize}`).toEqual(whole.events);
      expect(r.logged).toEqual(whole.logged);
      expect(r.offset()).toEqual(whole.offset());
    }
  });

  it('keeps a partial last line until its newline comes, then reads on', async () => {
    const { sessions } = tempStateDir();
    const file = path.join(sessions, `${SID}.jsonl`);
    const full = line(say('a9', 'complete later'));
    fs.writeFileSync(file, line(user('u1', 'hi')) + full.slice(0, 20));
    const r = follow(file, 16);
    await r.follower.poll(true);
    expect(r.events.map((e) => e.type)).toEqual(['agent.started']);
    expect(r.offset()?.pos).toBe(Buffer.byteLength(line(user('u1', 'hi'))));
    fs.appendFileSync(file, `${full.slice(20)}garbage\n`);
    await r.follower.poll(true);
    expect(r.events.filter((e) => e.type === 'assistant.text').map((e) => e.text)).toEqual([
      'complete later',
    ]);
    expect(r.logged).toEqual([{ line: 3, error: expect.stringMatching(/^invalid JSON/) }]);
    expect(r.offset()).toMatchObject({ lineNo: 3, lastId: 'a9' });
  });

  it('told to pause, stops after the chunk it emitted and reads on from there on the next poll', async () => {
    const { sessions } = tempStateDir();
    const file = path.join(sessions, `${SID}.jsonl`);
    const lines = Array.from({ length: 40 }, (_, i) => line(say(`a${i}`, `line ${i}`)));
    fs.writeFileSync(file, lines.join(''));
    const whole = follow(file);
    await whole.follower.poll(true);
    let pause = true;
    const r = follow(file, 1000, () => pause);
    await r.follower.poll(true);
    const first = r.events.length;
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(whole.events.length);
    expect(r.offset()?.pos).toBeLessThan(Buffer.byteLength(lines.join('')));
    await r.follower.poll();
    expect(r.events.length).toBeGreaterThan(first); // each poll reads one more chunk while paused
    pause = false;
    await r.follower.poll();
    expect(r.events).toEqual(whole.events);
    expect(r.offset()).toEqual(whole.offset());
  });
});

import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock, systemClock } from '../../infra/clock.js';
import { silentLogger } from '../../infra/logger.js';
import { sessionTag } from '../../openclaw/event-keys.js';
import { createFileSource, type FileSource, REST_AFTER_MS, SAFETY_SCAN_MS } from './file-source.js';
import type { FileOffsetValue } from './follower.js';
import { createMemorySink, line, type MemorySink, say, tempStateDir, user, waitFor } from './test-helpers.js';

const FIX = path.resolve('test/fixtures/openclaw/v2026.7.35');
const PARENT = 'daa6b28a-5388-4104-8e50-89a5a783e4c6';
const CHILD = '98b47024-154f-495f-95d6-aaedbec7b8ed';
const CHILD_KEY = 'agent:main:subagent:d8962e0f-3bd5-4e5d-a8cc-eaa16e63acf8';
const SID = '11111111-2222-4333-8444-555555555555';

const started: FileSource[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.stop();
});

function copyFixtures(sessions: string): void {
  for (const f of fs.readdirSync(FIX)) {
    if (f === 'sessions.json' || f.startsWith(PARENT) || f.startsWith(CHILD))
      fs.copyFileSync(path.join(FIX, f), path.join(sessions, f));
  }
}

function source(
  stateDir: string,
  sink: MemorySink,
  extra: Partial<Parameters<typeof createFileSource>[0]> = {},
): FileSource {
  const s = createFileSource({
    stateDir,
    sink,
    offsets: sink,
    logger: silentLogger,
    clock: new ManualClock(1e12),
    usePolling: true,
    ...extra,
  });
  started.push(s);
  return s;
}

function sessionsJson(sessions: string, entries: Record<string, unknown>): void {
  const tmp = path.join(sessions, 'sessions.json.tmp');
  fs.writeFileSync(tmp, JSON.stringify(entries));
  fs.renameSync(tmp, path.join(sessions, 'sessions.json'));
}

describe('file source on the real 2026.7.35 state dir', () => {
  it('reads sessions, tools, tokens and the sub-agent link; ignores trajectory side files', async () => {
    const { stateDir, sessions } = tempStateDir();
    copyFixtures(sessions);
    const sink = createMemorySink();
    const src = source(stateDir, sink);
    await src.start();
    expect(src.health()).toMatchObject({ state: 'live', inputs: 2, malformed: 0 });
    // the rows of sessions.json; each transcript header adds its cwd (the usage reports' repo)
    const seen = sink.ofType('session.seen').filter((e) => !e.cwd);
    expect(seen.map((e) => e.sessionKey).sort()).toEqual(['agent:main:main', CHILD_KEY]);
    const cwds = sink.ofType('session.seen').filter((e) => e.cwd);
    expect(cwds.map((e) => [e.sessionKey, e.cwd]).sort()).toEqual([
      ['agent:main:main', '/home/oc/workspace'],
      [CHILD_KEY, '/home/oc/workspace'],
    ]);
    // sessions.json comes first, so the first transcript event already has its real key
    expect(sink.events.findIndex((e) => e.type === 'session.seen')).toBe(0);
    const spawned = sink.ofType('subagent.spawned');
    expect(spawned).toHaveLength(1);
    expect(sink.duplicates).toBe(1); // the same link from sessions.json and from the spawn result
    expect(spawned[0]).toMatchObject({
      parentKey: 'agent:main:main',
      childKey: CHILD_KEY,
      label: 'fake-child',
    });
    const childCalls = sink.ofType('tool.call').filter((e) => e.sessionKey === CHILD_KEY);
    expect(childCalls.map((c) => c.callId)).toEqual(['call_fake_5']);
    expect(sink.ofType('tool.call')).toHaveLength(5);
    expect(sink.ofType('llm.tokens').reduce((a, e) => a + e.output, 0)).toBe(12 * 9);
    const off = sink.offsets.get(`files:${path.join(sessions, `${PARENT}.jsonl`)}`) as FileOffsetValue;
    expect(off.pos).toBe(fs.statSync(path.join(sessions, `${PARENT}.jsonl`)).size);
    expect(off.lineNo).toBe(20);
  });

  it('restart with saved offsets re-reads nothing and then picks up only new lines', async () => {
    const { stateDir, sessions } = tempStateDir();
    copyFixtures(sessions);
    const offsets = new Map<string, unknown>();
    const keys = new Set<string>();
    const first = createMemorySink(offsets, keys);
    const a = source(stateDir, first);
    await a.start();
    await a.stop();
    const before = first.events.length;

    const second = createMemorySink(offsets, keys);
    const b = source(stateDir, second);
    await b.start();
    expect(second.events).toHaveLength(0);
    // only sessions.json was read again (its entries dedupe); transcripts were only stat'ed
    expect(second.duplicates).toBe(3);
    fs.appendFileSync(path.join(sessions, `${PARENT}.jsonl`), line(user('new00001', 'again')));
    await b.scanNow();
    expect(second.events.map((e) => e.type)).toEqual(['agent.started']);
    expect(second.events[0]?.sessionKey).toBe('agent:main:main');
    expect(before).toBeGreaterThan(40);
  });
});

describe('file source edge cases', () => {
  function setup(entries: Record<string, unknown> = { 'agent:main:main': { sessionId: SID, updatedAt: 1 } }) {
    const { stateDir, sessions } = tempStateDir();
    sessionsJson(sessions, entries);
    const file = path.join(sessions, `${SID}.jsonl`);
    const sink = createMemorySink();
    return { stateDir, sessions, file, sink };
  }

  it('paused, reads nothing more; resumed, reads every line on from where it stopped, once', async () => {
    const { stateDir, file, sink } = setup();
    const texts = (n: number, from = 0) =>
      Array.from({ length: n }, (_, i) =>
        line(say(`p${from + i}`, `line ${from + i} ${'x'.repeat(400)}`)),
      ).join('');
    fs.writeFileSync(file, texts(6000)); // ~3 MB: three reads of 1 MB
    let src: FileSource | undefined;
    let told = false;
    // the pipeline says "pause" as soon as the first transcript batch reaches it
    const paused: MemorySink = {
      ...sink,
      ingest(events, offsets) {
        sink.ingest(events, offsets);
        if (!told && events.some((e) => e.type === 'assistant.text')) {
          told = true;
          src?.pause();
        }
      },
    };
    src = source(stateDir, paused);
    await src.start();
    const first = sink.ofType('assistant.text').length;
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(6000);
    expect(src.health().detail).toMatch(/^paused/);
    const off = () => (sink.offsets.get(`files:${file}`) as FileOffsetValue).pos;
    const stoppedAt = off();
    fs.appendFileSync(file, texts(10, 6000));
    await src.scanNow();
    expect(sink.ofType('assistant.text').length).toBe(first);
    expect(off()).toBe(stoppedAt);
    src.resume();
    await waitFor(() => sink.ofType('assistant.text').length === 6010, 10_000);
    await src.scanNow();
    expect(sink.duplicates).toBe(0);
    expect(new Set(sink.ofType('assistant.text').map((e) => e.text.split(' ')[1])).size).toBe(6010);
    expect(off()).toBe(fs.statSync(file).size);
    expect(src.health().detail).not.toMatch(/paused/);
  });

  it('a transcript quiet for a minute keeps only its offset; a new line brings it back where it was', async () => {
    const { stateDir, file, sink } = setup();
    const clock = new ManualClock(1e12);
    // a run left open (the model asked for a tool), then quiet
    fs.writeFileSync(file, line(user('u1', 'hello')) + line(say('a1', 'looking', 'toolUse')));
    const src = source(stateDir, sink, { clock });
    await src.start();
    expect(sink.ofType('agent.started')).toHaveLength(1);
    const rest = /1 quiet, kept as offsets/;
    await src.scanNow();
    expect(src.health().detail).not.toMatch(rest);
    // a partial line held between reads keeps the follower, however long it waits
    const next = line(say('a2', 'still looking', 'toolUse'));
    fs.appendFileSync(file, next.slice(0, 10));
    await src.scanNow();
    clock.advance(REST_AFTER_MS);
    await src.scanNow();
    expect(src.health().detail).not.toMatch(rest);
    fs.appendFileSync(file, next.slice(10));
    await src.scanNow();
    clock.advance(REST_AFTER_MS);
    await src.scanNow();
    expect(src.health()).toMatchObject({ inputs: 1, detail: expect.stringMatching(rest) });
    // at rest: a scan stats it and reads nothing
    await src.scanNow();
    expect(src.health().detail).toMatch(rest);
    expect(sink.ofType('agent.finished')).toHaveLength(0);
    // woken by the run's last answer: the normalizer goes on from its saved state, so the run
    // left open before the rest is the one that finishes (no second start)
    fs.appendFileSync(file, line(say('a3', 'done')));
    await src.scanNow();
    expect(src.health().detail).not.toMatch(rest);
    const started = sink.ofType('agent.started');
    expect(started).toHaveLength(1);
    expect(sink.ofType('agent.finished').map((e) => e.runId)).toEqual([started[0]?.runId]);
    expect(sink.duplicates).toBe(0);
    expect((sink.offsets.get(`files:${file}`) as FileOffsetValue).pos).toBe(fs.statSync(file).size);
  });

  it('while watched, each safety scan stats a quarter of the resting transcripts, each once in four scans', async () => {
    const ids = Array.from({ length: 8 }, (_, i) => `11111111-2222-4333-8444-${String(i).padStart(12, '0')}`);
    const { stateDir, sessions, sink } = setup(
      Object.fromEntries(ids.map((id, i) => [`agent:main:s${i}`, { sessionId: id, updatedAt: 1 }])),
    );
    for (const id of ids) fs.writeFileSync(path.join(sessions, `${id}.jsonl`), line(user('u1', `hi ${id}`)));
    const clock = new ManualClock(1e12);
    const src = source(stateDir, sink, { clock, usePolling: false });
    await src.start();
    clock.advance(REST_AFTER_MS);
    await src.scanNow();
    expect(src.health().detail).toMatch(/8 quiet, kept as offsets/);
    const stat = vi.spyOn(fs, 'statSync');
    try {
      const perScan: string[][] = [];
      for (let i = 0; i < 4; i++) {
        stat.mockClear();
        await src.scanNow();
        perScan.push(stat.mock.calls.map((c) => String(c[0])).filter((f) => f.endsWith('.jsonl')));
      }
      expect(perScan.map((x) => x.length)).toEqual([2, 2, 2, 2]);
      expect(new Set(perScan.flat()).size).toBe(8);
    } finally {
      stat.mockRestore();
    }
    // polled (no watch): every resting transcript at every scan, so none waits for a change
    const polled = source(stateDir, createMemorySink(), { clock, usePolling: true });
    await polled.start();
    clock.advance(REST_AFTER_MS);
    await polled.scanNow();
    const spy = vi.spyOn(fs, 'statSync');
    try {
      await polled.scanNow();
      expect(spy.mock.calls.filter((c) => String(c[0]).endsWith('.jsonl'))).toHaveLength(8);
    } finally {
      spy.mockRestore();
    }
  });

  it('a partial last line waits for its newline', async () => {
    const { stateDir, file, sink } = setup();
    const full = line(user('u1', 'hello'));
    fs.writeFileSync(file, full.slice(0, 20));
    const src = source(stateDir, sink);
    await src.start();
    expect(sink.ofType('agent.started')).toHaveLength(0);
    fs.appendFileSync(file, full.slice(20, -1));
    await src.scanNow();
    expect(sink.ofType('agent.started')).toHaveLength(0);
    fs.appendFileSync(file, '\n');
    await src.scanNow();
    expect(sink.ofType('agent.started')).toHaveLength(1);
    expect(src.health()).toMatchObject({ malformed: 0, lagMs: 0, inputs: 1 });
  });

  it('a 10 MB line is read whole; its text is stored cut to 16 KiB with a marker', async () => {
    const { stateDir, file, sink } = setup();
    const big = 'x'.repeat(10 * 1024 * 1024);
    fs.writeFileSync(file, line(user('u1', 'hi')) + line(say('a1', big)) + line(say('a2', 'after')));
    const src = source(stateDir, sink);
    await src.start();
    const texts = sink.ofType('assistant.text').map((t) => t.text);
    expect(texts.map((t) => t.length)).toEqual([16 * 1024 - 32 + '... [clipped 10469408 bytes]'.length, 5]);
    expect(texts[0]?.endsWith('x... [clipped 10469408 bytes]')).toBe(true);
  });

  it('invalid UTF-8 and garbage lines are counted and skipped', async () => {
    const { stateDir, file, sink } = setup();
    fs.writeFileSync(file, line(user('u1', 'hi')));
    fs.appendFileSync(file, Buffer.from([0xff, 0xfe, 0x7b, 0x0a]));
    fs.appendFileSync(file, 'this is not json\n{"type":"message"}\n');
    fs.appendFileSync(file, line(say('a1', 'still here')));
    const src = source(stateDir, sink);
    await src.start();
    expect(src.health().malformed).toBe(3);
    expect(sink.ofType('assistant.text')[0]?.text).toBe('still here');
  });

  it('a compaction rewrite (last lines kept, header dropped) is detected and nothing is counted twice', async () => {
    const { stateDir, file, sink } = setup();
    const header = line({
      type: 'session',
      version: 3,
      id: SID,
      timestamp: '2026-11-21T10:00:00.000Z',
      cwd: '/w',
    });
    const old = [
      user('u1', 'one'),
      say('a1', 'first'),
      user('u2', 'two'),
      say('a2', 'second'),
      user('u3', 'three'),
      say('a3', 'third'),
    ];
    fs.writeFileSync(file, header + old.map(line).join(''));
    const src = source(stateDir, sink);
    await src.start();
    const before = sink.events.length;
    // sessions.compact: keep the last 3 lines, rewrite in place (same inode, shorter), then more appends
    fs.writeFileSync(file, old.slice(-3).map(line).join(''));
    await src.scanNow();
    expect(sink.ofType('session.compacted')).toMatchObject([
      { mode: 'rewrite', sessionKey: 'agent:main:main' },
    ]);
    expect(sink.events.length).toBe(before + 1);
    fs.appendFileSync(file, line(user('u4', 'four')) + line(say('a4', 'fourth')));
    await src.scanNow();
    expect(sink.ofType('agent.started').map((e) => e.runId)).toEqual([
      `${sessionTag(SID)}:r:u1`,
      `${sessionTag(SID)}:r:u2`,
      `${sessionTag(SID)}:r:u3`,
      `${sessionTag(SID)}:r:u4`,
    ]);
    expect(sink.duplicates).toBe(0);
    // a rewrite by rename (new inode) with new lines in it
    const tmp = `${file}.tmp`;
    fs.writeFileSync(tmp, [say('a4', 'fourth'), user('u5', 'five')].map(line).join(''));
    fs.renameSync(tmp, file);
    await src.scanNow();
    expect(sink.ofType('session.compacted')).toHaveLength(2);
    expect(sink.ofType('agent.started').at(-1)?.runId).toBe(`${sessionTag(SID)}:r:u5`);
    expect(sink.ofType('assistant.text').map((t) => t.text)).toEqual(['first', 'second', 'third', 'fourth']);
  });

  it('an in-place rewrite that leaves the file larger is caught at the line boundary', async () => {
    const { stateDir, file, sink } = setup();
    const header = line({
      type: 'session',
      version: 3,
      id: SID,
      timestamp: '2026-11-21T10:00:00.000Z',
      cwd: '/w',
    });
    fs.writeFileSync(file, header + line(user('u1', 'one')));
    const src = source(stateDir, sink);
    await src.start();
    fs.appendFileSync(file, line(say('a1', 'first')));
    await src.scanNow();
    // rewritten in place (same inode): header dropped, last line kept, longer lines appended
    fs.writeFileSync(
      file,
      line(say('a1', 'first')) + line(user('u2', 'two '.repeat(50))) + line(say('a2', 'second')),
    );
    await src.scanNow();
    expect(sink.ofType('session.compacted')).toHaveLength(1);
    expect(sink.ofType('agent.started').map((e) => e.runId)).toEqual([
      `${sessionTag(SID)}:r:u1`,
      `${sessionTag(SID)}:r:u2`,
    ]);
    expect(sink.ofType('assistant.text').map((e) => e.text)).toEqual(['first', 'second']);
    expect(sink.duplicates).toBe(0);
  });

  it('a rewrite while the daemon was down is found at restart from the saved offset', async () => {
    const { stateDir, file } = setup();
    const offsets = new Map<string, unknown>();
    const keys = new Set<string>();
    const first = createMemorySink(offsets, keys);
    fs.writeFileSync(
      file,
      [user('u1', 'one'), say('a1', 'first'), user('u2', 'two'), say('a2', 'second')].map(line).join(''),
    );
    const a = source(stateDir, first);
    await a.start();
    await a.stop();
    const tmp = `${file}.tmp`;
    fs.writeFileSync(tmp, [say('a2', 'second'), user('u3', 'three')].map(line).join(''));
    fs.renameSync(tmp, file);
    const second = createMemorySink(offsets, keys);
    const b = source(stateDir, second);
    await b.start();
    expect(second.events.map((e) => e.type)).toEqual(['session.compacted', 'agent.started']);
    expect(second.duplicates).toBe(1); // the unchanged session.seen from sessions.json
  });

  it('a file deleted while followed stops being followed; its events stay', async () => {
    const { stateDir, sessions, file, sink } = setup();
    fs.writeFileSync(file, line(user('u1', 'hi')));
    const src = source(stateDir, sink);
    await src.start();
    expect(src.health().inputs).toBe(1);
    fs.renameSync(file, path.join(sessions, `${SID}.jsonl.deleted.2026-11-21T10-00-00.000Z`));
    await src.scanNow();
    expect(src.health().inputs).toBe(0);
    expect(sink.ofType('agent.started')).toHaveLength(1);
  });

  it('a sub-agent whose parent is unknown still gets its link', async () => {
    const { stateDir, sink } = setup({
      'agent:main:subagent:kid': {
        sessionId: SID,
        updatedAt: 5,
        spawnedBy: 'agent:main:subagent:ghost',
        label: 'orphan',
      },
    });
    const src = source(stateDir, sink);
    await src.start();
    expect(sink.ofType('subagent.spawned')).toMatchObject([
      { parentKey: 'agent:main:subagent:ghost', childKey: 'agent:main:subagent:kid', label: 'orphan' },
    ]);
  });

  it('a transcript not in sessions.json waits, then uses a fallback key; a later sessions.json wins', async () => {
    const { stateDir, sessions, sink } = setup({});
    const other = '22222222-2222-4333-8444-555555555555';
    fs.writeFileSync(path.join(sessions, `${SID}.jsonl`), line(user('u1', 'hi')));
    const clock = new ManualClock(1000);
    const src = source(stateDir, sink, { clock });
    await src.start();
    expect(sink.ofType('agent.started')).toHaveLength(0);
    clock.advance(1999);
    expect(sink.ofType('agent.started')).toHaveLength(0);
    clock.advance(1);
    await src.scanNow();
    expect(sink.ofType('agent.started')[0]?.sessionKey).toBe(`agent:main:session:${SID}`);
    // the second transcript's session appears in sessions.json while it waits
    fs.writeFileSync(path.join(sessions, `${other}.jsonl`), line(user('v1', 'hi')));
    await src.scanNow();
    sessionsJson(sessions, { 'agent:main:telegram:direct:9': { sessionId: other, updatedAt: 2 } });
    await src.scanNow();
    expect(sink.ofType('agent.started').map((e) => e.sessionKey)).toEqual([
      `agent:main:session:${SID}`,
      'agent:main:telegram:direct:9',
    ]);
  });

  it('session.seen only when updatedAt changes', async () => {
    const t = Date.UTC(2026, 10, 21);
    const { stateDir, sessions, sink } = setup({ 'agent:main:main': { sessionId: SID, updatedAt: t } });
    const src = source(stateDir, sink);
    await src.start();
    sessionsJson(sessions, {
      'agent:main:main': { sessionId: SID, updatedAt: t + 1 },
      'agent:main:x': { sessionId: 'b', updatedAt: t + 1 },
    });
    await src.scanNow();
    sessionsJson(sessions, {
      'agent:main:main': { sessionId: SID, updatedAt: t + 2 },
      'agent:main:x': { sessionId: 'b', updatedAt: t + 1 },
    });
    await src.scanNow();
    expect(sink.ofType('session.seen').map((e) => [e.sessionKey, e.updatedAt])).toEqual([
      ['agent:main:main', t],
      ['agent:main:main', t + 1],
      ['agent:main:x', t + 1],
      ['agent:main:main', t + 2],
    ]);
  });

  it('live follow through fs.watch: an appended line reaches the sink quickly, new agents too', async () => {
    const { stateDir, file, sink } = setup();
    fs.writeFileSync(file, '');
    const src = createFileSource({
      stateDir,
      sink,
      offsets: sink,
      logger: silentLogger,
      clock: systemClock,
      pollIntervalMs: 60_000,
    });
    started.push(src);
    await src.start();
    const t0 = Date.now();
    fs.appendFileSync(file, line(user('u1', 'hi')));
    await waitFor(() => sink.ofType('agent.started').length === 1, 2000);
    expect(Date.now() - t0).toBeLessThan(1000);
    const agent2 = path.join(stateDir, 'agents', 'ops', 'sessions');
    fs.mkdirSync(agent2, { recursive: true });
    const other = '33333333-2222-4333-8444-555555555555';
    sessionsJson(agent2, { 'agent:ops:main': { sessionId: other, updatedAt: 3 } });
    await waitFor(() => sink.ofType('session.seen').some((e) => e.agentId === 'ops'), 2000);
    fs.appendFileSync(path.join(agent2, `${other}.jsonl`), line(user('w1', 'ops turn')));
    await waitFor(() => sink.ofType('agent.started').some((e) => e.sessionKey === 'agent:ops:main'), 2000);
    // an agent folder whose sessions/ folder is created later
    const late = path.join(stateDir, 'agents', 'late');
    fs.mkdirSync(late);
    fs.mkdirSync(path.join(late, 'sessions'));
    const third = '55555555-2222-4333-8444-555555555555';
    sessionsJson(path.join(late, 'sessions'), { 'agent:late:main': { sessionId: third, updatedAt: 4 } });
    fs.writeFileSync(path.join(late, 'sessions', `${third}.jsonl`), line(user('z1', 'late turn')));
    await waitFor(() => sink.ofType('agent.started').some((e) => e.sessionKey === 'agent:late:main'), 2000);
  });
});

describe('file source pacing', () => {
  /** a manual clock that remembers the delay of every timer set on it */
  class RecordingClock extends ManualClock {
    delays: number[] = [];
    override setTimeout(fn: () => void, ms: number): unknown {
      this.delays.push(ms);
      return super.setTimeout(fn, ms);
    }
  }

  function transcripts(count: number): { stateDir: string; sessions: string } {
    const dirs = tempStateDir();
    const entries: Record<string, unknown> = {};
    for (let i = 0; i < count; i++) {
      const sid = `${String(i).padStart(8, '0')}-2222-4333-8444-555555555555`;
      entries[`agent:main:s${i}`] = { sessionId: sid, updatedAt: 1 };
      fs.writeFileSync(path.join(dirs.sessions, `${sid}.jsonl`), line(user(`u${i}`, 'hi')));
    }
    sessionsJson(dirs.sessions, entries);
    return dirs;
  }

  it('with every folder watched the scan is a safety net every 15 s; without watches it runs every pollIntervalMs', async () => {
    const { stateDir } = transcripts(2);
    const watched = new RecordingClock(1000);
    const sink = createMemorySink();
    const src = source(stateDir, sink, { clock: watched, usePolling: false, pollIntervalMs: 1000 });
    await src.start();
    expect(sink.ofType('agent.started')).toHaveLength(2);
    expect(watched.delays.at(-1)).toBe(SAFETY_SCAN_MS);
    // the scan the timer starts arms the next one at the same pace
    watched.advance(SAFETY_SCAN_MS);
    await src.scanNow();
    expect(watched.delays.at(-1)).toBe(SAFETY_SCAN_MS);

    const polled = new RecordingClock(1000);
    const other = source(stateDir, createMemorySink(), {
      clock: polled,
      usePolling: true,
      pollIntervalMs: 1000,
    });
    await other.start();
    expect(polled.delays.at(-1)).toBe(1000);
  });

  it('a state dir with no sessions folder yet is scanned every pollIntervalMs (nothing to watch in it)', async () => {
    const stateDir = tempStateDir().stateDir;
    fs.rmSync(path.join(stateDir, 'agents'), { recursive: true });
    const clock = new RecordingClock(1000);
    const src = source(stateDir, createMemorySink(), { clock, usePolling: false, pollIntervalMs: 700 });
    await src.start();
    expect(clock.delays.at(-1)).toBe(700);
  });

  /** counts the transcripts open at once while `body` runs (the follower opens each to read it) */
  async function mostOpenDuring(body: () => Promise<void>): Promise<number> {
    let open = 0;
    let most = 0;
    const realOpen = fsp.open;
    const spy = vi.spyOn(fsp, 'open').mockImplementation(async (...args: Parameters<typeof fsp.open>) => {
      const fh = await realOpen(...args);
      open++;
      most = Math.max(most, open);
      const close = fh.close.bind(fh);
      fh.close = async () => {
        open--;
        return close();
      };
      return fh;
    });
    try {
      await body();
    } finally {
      spy.mockRestore();
    }
    expect(open).toBe(0);
    return most;
  }

  it('a scan reads at most 8 transcripts at once, and every one of them', async () => {
    const { stateDir } = transcripts(40);
    const sink = createMemorySink();
    const most = await mostOpenDuring(async () => {
      await source(stateDir, sink).start();
    });
    expect(sink.ofType('agent.started')).toHaveLength(40);
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(8);
  });

  it('transcripts written together while followed are read at most 8 at once too (watch events)', async () => {
    const { stateDir, sessions } = transcripts(40);
    const sink = createMemorySink();
    const src = source(stateDir, sink, { clock: systemClock, usePolling: false, pollIntervalMs: 60_000 });
    await src.start();
    const most = await mostOpenDuring(async () => {
      for (const f of fs.readdirSync(sessions).filter((n) => n.endsWith('.jsonl')))
        fs.appendFileSync(path.join(sessions, f), line(say(`more-${f}`, 'again')));
      await waitFor(() => sink.ofType('assistant.text').length === 40, 3000);
    });
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(8);
  });
});

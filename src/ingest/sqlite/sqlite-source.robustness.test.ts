import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../infra/clock.js';
import { createFakeAgentDb } from './fake-agent-db.js';
import { createKit, fixtureLines, Recorder, SID, seed } from './sqlite-test-kit.js';

const require = createRequire(import.meta.url);
const kit = createKit();
afterEach(() => kit.cleanup());

describe('sqlite source robustness', () => {
  it('reports a corrupt database in health and keeps following the healthy one', async () => {
    const stateDir = kit.tmp();
    const good = kit.track(createFakeAgentDb(stateDir, 'main'));
    seed(good);
    good.append(SID, fixtureLines()[4]);
    const badDir = path.join(stateDir, 'agents', 'broken', 'agent');
    fs.mkdirSync(badDir, { recursive: true });
    fs.writeFileSync(path.join(badDir, 'openclaw-agent.sqlite'), 'this is not a database at all'.repeat(200));
    const rec = new Recorder();
    const clock = new ManualClock(0);
    const src = kit.startSource(stateDir, rec, clock);
    await src.start();
    clock.advance(300);
    const h = src.health();
    expect(h.state).toBe('live');
    expect(h.inputs).toBe(1);
    expect(h.detail).toMatch(/1 unreadable: broken/);
    expect(rec.events.some((e) => e.type === 'agent.started')).toBe(true);
  });

  it('waits for a database that has no schema yet, then follows it', async () => {
    const stateDir = kit.tmp();
    const dir = path.join(stateDir, 'agents', 'main', 'agent');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'openclaw-agent.sqlite'), ''); // OpenClaw is still creating it
    const rec = new Recorder();
    const clock = new ManualClock(0);
    const src = kit.startSource(stateDir, rec, clock);
    await src.start();
    expect(src.health().state).toBe('down');
    expect(src.health().detail).toMatch(/no such table/);
    const db = kit.track(createFakeAgentDb(stateDir, 'main'));
    seed(db);
    db.append(SID, fixtureLines()[4]);
    clock.advance(100);
    expect(src.health()).toMatchObject({ state: 'live', inputs: 1 });
    expect(rec.events.map((e) => e.type)).toContain('agent.started');
  });

  it('retries a locked database on the next poll and notices a removed one', async () => {
    const stateDir = kit.tmp();
    const db = kit.track(createFakeAgentDb(stateDir, 'main'));
    seed(db);
    const rec = new Recorder();
    const clock = new ManualClock(0);
    const src = kit.startSource(stateDir, rec, clock, { discoverEveryMs: 1000 });
    await src.start();
    expect(rec.events.map((e) => e.type)).toEqual(['session.seen']);
    clock.advance(5000); // idle: the source lets go of the file
    // a writer that takes the whole file (OpenClaw does this for backups/handoffs): it could
    // not start if the source still held a connection
    db.db.pragma('locking_mode = EXCLUSIVE');
    db.db.exec('BEGIN EXCLUSIVE');
    db.append(SID, fixtureLines()[4]);
    db.db.exec('COMMIT');
    clock.advance(100);
    expect(src.health().detail).toMatch(/busy retries/);
    expect(src.health().state).toBe('live');
    expect(rec.events).toHaveLength(1);
    db.db.pragma('locking_mode = NORMAL');
    db.db.prepare('SELECT 1 FROM session_nodes').get(); // releases the exclusive lock
    clock.advance(100);
    expect(rec.events.some((e) => e.type === 'agent.started')).toBe(true);

    db.close();
    kit.untrack(db);
    for (const f of fs.readdirSync(path.dirname(db.path))) fs.rmSync(path.join(path.dirname(db.path), f));
    clock.advance(1000);
    expect(src.health().state).toBe('down');
    expect(src.health().detail).toMatch(/unreadable/);
  });

  it('keeps reading while another connection writes, without surfacing SQLITE_BUSY', async () => {
    const stateDir = kit.tmp();
    const db = kit.track(createFakeAgentDb(stateDir, 'main'));
    seed(db);
    db.close();
    kit.untrack(db);
    const ROWS = 1500;
    // a real second writer on another thread, like OpenClaw's gateway process
    const worker = new Worker(
      `const { workerData } = require('node:worker_threads');
       const Database = require(workerData.bs3);
       const db = new Database(workerData.path);
       db.pragma('busy_timeout = 5000');
       const ins = db.prepare('INSERT INTO transcript_events (session_id, seq, event_json, created_at) VALUES (?, ?, ?, ?)');
       // commits in small transactions, paced, so the reader really runs between them
       const pause = new Int32Array(new SharedArrayBuffer(4));
       for (let i = 1; i <= workerData.rows; i++) {
         if (i % 50 === 0) Atomics.wait(pause, 0, 0, 3);
         ins.run(workerData.sid, i, JSON.stringify({ type: 'message', id: 'm' + i, parentId: null, timestamp: new Date(1795272397000 + i).toISOString(),
           message: { role: 'assistant', content: [{ type: 'text', text: 'line ' + i }], stopReason: 'toolUse', timestamp: 1795272397000 + i } }), Date.now());
       }
       db.close();`,
      {
        eval: true,
        workerData: {
          path: path.join(stateDir, 'agents/main/agent/openclaw-agent.sqlite'),
          sid: SID,
          rows: ROWS,
          bs3: require.resolve('better-sqlite3'),
        },
      },
    );
    const done = new Promise<void>((resolve, reject) => {
      worker.on('exit', () => resolve());
      worker.on('error', reject);
    });
    const rec = new Recorder();
    const src = kit.startSource(stateDir, rec, new ManualClock(0), { batchRows: 200 });
    await src.start();
    let finished = false;
    void done.then(() => {
      finished = true;
    });
    let polls = 0;
    // bounded: the writer ends by itself; each loop yields so it can run
    while (!finished && polls < 100_000) {
      src.poll();
      polls++;
      await new Promise((r) => setImmediate(r));
    }
    await done;
    const batchesWhileWriting = rec.batches;
    for (let i = 0; i < 20; i++) src.poll(); // drain what is left, 200 rows per poll
    const texts = rec.events
      .filter((e) => e.type === 'assistant.text')
      .map((e) => (e as { text: string }).text);
    expect(texts).toHaveLength(ROWS);
    expect(batchesWhileWriting).toBeGreaterThan(3); // it really read while the writer was writing
    expect(texts[0]).toBe('line 1');
    expect(texts.at(-1)).toBe(`line ${ROWS}`);
    expect(src.health()).toMatchObject({ state: 'live', malformed: 0 });
    expect(src.health().detail).not.toMatch(/unreadable/);
    // the source never wrote: the writer's DB is intact and has no clawpulse traces
    const check = new Database(path.join(stateDir, 'agents/main/agent/openclaw-agent.sqlite'), {
      readonly: true,
    });
    expect(check.pragma('user_version', { simple: true })).toBe(23);
    expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    check.close();
  });
});

/** The file source with the real SQLite store, pipeline and model: offsets survive a restart. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../infra/clock.js';
import { silentLogger } from '../../infra/logger.js';
import { createSessionTracker } from '../../model/tracker.js';
import { createPipeline } from '../../pipeline.js';
import { createSqliteStore } from '../../store/sqlite-store.js';
import { createFileSource } from './file-source.js';
import { line, tempStateDir, user } from './test-helpers.js';

const FIX = path.resolve('test/fixtures/openclaw/v2026.7.35');
const PARENT = 'daa6b28a-5388-4104-8e50-89a5a783e4c6';
const LIMITS = {
  maxStatusLines: 15,
  idleTimeoutMs: 60_000,
  maxSessionDurationMs: 1_800_000,
  stuckAfterMs: 300_000,
};

function open(dbPath: string) {
  const store = createSqliteStore(dbPath);
  const tracker = createSessionTracker(LIMITS);
  const pipeline = createPipeline({ store, tracker, logger: silentLogger });
  return { store, tracker, pipeline };
}

describe('file source → SQLite store → model', () => {
  it('builds the session tree from the real fixtures and resumes from stored offsets', async () => {
    const { stateDir, sessions } = tempStateDir();
    for (const f of fs.readdirSync(FIX))
      if (f === 'sessions.json' || /^[0-9a-f-]{36}\./.test(f))
        fs.copyFileSync(path.join(FIX, f), path.join(sessions, f));
    const dbPath = path.join(stateDir, 'pulse.sqlite');

    const a = open(dbPath);
    const srcA = createFileSource({
      stateDir,
      sink: a.pipeline,
      offsets: a.store,
      logger: silentLogger,
      clock: new ManualClock(0),
      usePolling: true,
    });
    await srcA.start();
    await srcA.stop();
    const stored = a.store.countEvents();
    expect(stored).toBeGreaterThan(40);
    const main = a.tracker.get('agent:main:main');
    expect(main?.children).toEqual(['agent:main:subagent:d8962e0f-3bd5-4e5d-a8cc-eaa16e63acf8']);
    expect(a.tracker.get('agent:main:subagent:d8962e0f-3bd5-4e5d-a8cc-eaa16e63acf8')?.parentKey).toBe(
      'agent:main:main',
    );
    a.store.close();

    const b = open(dbPath);
    const srcB = createFileSource({
      stateDir,
      sink: b.pipeline,
      offsets: b.store,
      logger: silentLogger,
      clock: new ManualClock(0),
      usePolling: true,
    });
    await srcB.start();
    expect(b.store.countEvents()).toBe(stored);
    fs.appendFileSync(path.join(sessions, `${PARENT}.jsonl`), line(user('abcd0001', 'one more')));
    await srcB.scanNow();
    expect(b.store.countEvents()).toBe(stored + 1);
    await srcB.stop();
    b.store.close();
  });
});

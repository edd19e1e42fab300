/**
 * The fleet reader on what the real PostgreSQL EventStore writes (createPgStore: its migrations,
 * seqs, commits and NOTIFY), not on hand-written rows: two hosts' writers, one serve.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { type FleetServe, startFleetServe } from '../../src/fleet/fleet-serve.js';
import { silentLogger } from '../../src/infra/logger.js';
import type { PulseEvent } from '../../src/model/events.js';
import type { EventStore } from '../../src/store/event-store.js';
import { createPgStore } from '../../src/store/pg/pg-store.js';
import { type PgCluster, postgresAvailable, startPostgres } from '../support/postgres.js';

let cluster: PgCluster;
let dir: string;
/** PostgreSQL tests skip where it is not installed, except in CI (.ci/run installs it) */
const withPg = postgresAvailable() || Boolean(process.env.CI);
const suite = withPg ? describe : describe.skip;

beforeAll(async () => {
  if (withPg) cluster = await startPostgres();
  dir = mkdtempSync(join(tmpdir(), 'clawpulse-fleet-pg-'));
});
afterAll(() => {
  cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const text = (key: string, i: number): PulseEvent => ({
  ts: Date.now(),
  source: 'files',
  sessionKey: key,
  agentId: 'main',
  dedupeKey: `${key}/${i}`,
  type: 'assistant.text',
  runId: 'r1',
  text: `line ${i}`,
});

async function until<T>(what: string, f: () => T | undefined | false, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

suite('fleet serve over the PostgreSQL EventStore', () => {
  it('follows two hosts written through createPgStore, live and by seq', async () => {
    const url = await cluster.createDatabase('pgstore');
    const writers: Record<string, EventStore> = {
      h1: createPgStore(url, { host: 'h1', writer: true }),
      h2: createPgStore(url, { host: 'h2', writer: true }),
    };
    let serve: FleetServe | undefined;
    try {
      writers.h1?.append([text('agent:main:main', 1)]);
      writers.h1?.flush();
      serve = await startFleetServe(
        loadConfig({ HOME: dir, CLAWPULSE_HOME: join(dir, 'home'), HEALTH_PORT: 'any', LOG_LEVEL: 'silent' }),
        // no poll within the test: what arrives after the start arrived through NOTIFY
        { url, cachePath: ':memory:', logger: silentLogger, pollMs: 600_000 },
      );
      const s = serve;
      await until('h1 read', () => s.pipeline.tracker.get('h1|agent:main:main'));
      for (let i = 2; i <= 5; i++) writers.h1?.append([text('agent:main:main', i)]);
      writers.h1?.flush();
      for (let i = 1; i <= 3; i++) writers.h2?.append([text('agent:main:main', i)]);
      writers.h2?.flush();
      await until('both hosts read to their last seq', () => {
        const o = s.source.offsets();
        return o.get('h1') === writers.h1?.lastSeq() && o.get('h2') === writers.h2?.lastSeq();
      });
      expect(writers.h1?.lastSeq()).toBe(5);
      expect(writers.h2?.lastSeq()).toBe(3);
      expect(s.pipeline.tracker.get('h1|agent:main:main')?.host).toBe('h1');
      expect(s.pipeline.tracker.get('h2|agent:main:main')?.host).toBe('h2');
      expect(s.store.countEvents()).toBe(8);
      await s.source.catchUp();
      expect(s.health().fleet.hosts.map((h) => [h.host, h.lastSeq])).toEqual([
        ['h1', 5],
        ['h2', 3],
      ]);
    } finally {
      await serve?.stop();
      for (const w of Object.values(writers)) w.close();
    }
  });
});

/**
 * Benchmark of the SQLite source: catch-up over a big store, then the cost of one follow poll.
 * Run: npx tsx src/ingest/sqlite/bench-sqlite-source.ts [sessions] [rowsPerSession]
 * Bounded: it builds one temp DB, measures, and deletes it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ManualClock } from '../../infra/clock.js';
import { silentLogger } from '../../infra/logger.js';
import type { PulseEvent } from '../../model/events.js';
import type { SourceOffset } from '../../store/event-store.js';
import { createFakeAgentDb } from './fake-agent-db.js';
import { createSqliteSource } from './sqlite-source.js';

const sessions = Number(process.argv[2] ?? 50);
const perSession = Number(process.argv[3] ?? 1000);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawpulse-sqlite-bench-'));
try {
  const db = createFakeAgentDb(dir, 'main');
  const t0 = Date.now();
  db.db.transaction(() => {
    for (let s = 0; s < sessions; s++) {
      const sid = `sess-${s}`;
      db.upsertSession({ sessionKey: `agent:main:explicit:${s}`, sessionId: sid, updatedAt: 1000 + s });
      db.append(sid, { type: 'session', version: 4, id: sid, timestamp: new Date(0).toISOString() });
      for (let i = 1; i < perSession; i++) {
        const ts = new Date(1795272000000 + i * 10).toISOString();
        const entry =
          i % 3 === 1
            ? {
                type: 'message',
                id: `u${i}`,
                timestamp: ts,
                message: { role: 'user', content: `do ${i}`, timestamp: 1795272000000 + i * 10 },
              }
            : i % 3 === 2
              ? {
                  type: 'message',
                  id: `a${i}`,
                  timestamp: ts,
                  message: {
                    role: 'assistant',
                    content: [
                      { type: 'toolCall', id: `c${i}`, name: 'exec', arguments: { command: `ls ${i}` } },
                    ],
                    stopReason: 'toolUse',
                  },
                }
              : {
                  type: 'message',
                  id: `r${i}`,
                  timestamp: ts,
                  message: {
                    role: 'toolResult',
                    toolCallId: `c${i - 1}`,
                    toolName: 'exec',
                    content: [{ type: 'text', text: 'ok' }],
                  },
                };
        db.append(sid, entry);
      }
    }
  })();
  const rows = sessions * perSession;
  console.log(`built ${rows} rows in ${Date.now() - t0} ms`);

  let events = 0;
  const offsets = new Map<string, unknown>();
  const sink = {
    ingest(ev: readonly PulseEvent[], offs?: readonly SourceOffset[]) {
      events += ev.length;
      for (const o of offs ?? []) offsets.set(o.key, o.value);
    },
  };
  const clock = new ManualClock(0);
  const src = createSqliteSource({
    stateDir: dir,
    sink,
    offsets: { getOffset: (k) => offsets.get(k), listOffsets: () => [] },
    logger: silentLogger,
    clock,
  });
  const t1 = process.hrtime.bigint();
  await src.start();
  // the source schedules back-to-back polls (0 ms) while it has a backlog
  for (let i = 0; i < 100_000 && clock.pending() > 0 && events < rows; i++) clock.advance(0);
  const catchUpMs = Number(process.hrtime.bigint() - t1) / 1e6;
  console.log(
    `catch-up: ${rows} rows → ${events} events in ${catchUpMs.toFixed(0)} ms = ${Math.round((rows / catchUpMs) * 1000)} rows/s`,
  );

  // steady state: a poll with nothing new, and a poll with one new row
  const N = 200;
  let t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) src.poll();
  const idleUs = Number(process.hrtime.bigint() - t) / 1e3 / N;
  let timed = 0;
  for (let i = 0; i < N; i++) {
    db.append('sess-7', {
      type: 'message',
      id: `x${i}`,
      timestamp: new Date().toISOString(),
      message: { role: 'assistant', content: [{ type: 'text', text: `hi ${i}` }] },
    });
    t = process.hrtime.bigint();
    src.poll();
    timed += Number(process.hrtime.bigint() - t);
  }
  console.log(
    `idle poll: ${idleUs.toFixed(0)} µs; poll with 1 new row on a ${rows}-row DB: ${(timed / 1e3 / N).toFixed(0)} µs`,
  );
  await src.stop();
  db.close();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * What the store writes to disk for a quiet, live daemon: OpenClaw sessions writing a line every
 * few seconds, each line read and appended on its own. Every commit rewrites whole pages in the
 * WAL (the table's last leaf, the session's index leaf, the offsets row's page), however little
 * the line holds; so the bytes written per line depend on how many lines a commit groups.
 *
 * Measured on a real store file with checkpoints off (the WAL then holds every frame written):
 * WAL bytes per line for a commit per line, and for commits grouped the way the store's default
 * group delay groups them at 10 lines/s, against the events' own JSON bytes.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PulseEvent } from '../src/model/events.js';
import { createSqliteStore, DEFAULT_COMMIT_DELAY_MS } from '../src/store/sqlite-store.js';

const LINES = 3000;
const SESSIONS = 20;
/** a quiet daemon's pace: 20 sessions, a line every 2 s each */
const LINES_PER_SEC = 10;

function walBytesPerLine(dir: string, linesPerCommit: number): { wal: number; json: number } {
  const path = join(dir, `wal-${linesPerCommit}.sqlite`);
  const store = createSqliteStore(path, {
    configure: (db) => void db.pragma('wal_autocheckpoint = 0'),
  });
  let json = 0;
  for (let i = 0; i < LINES; i++) {
    const s = i % SESSIONS;
    const e = {
      type: 'assistant.text',
      ts: 1_795_272_395_163 + i * 100,
      source: 'files',
      sessionKey: `agent:main:s${s}`,
      agentId: 'main',
      dedupeKey: `daa6b28a-5388-4104-8e50-89a5a783e4c6/${i.toString(16).padStart(8, '0')}/assistant.text/0`,
      runId: 'daa6b28a:r:e6d11f7d',
      text: 'Checking the logs of the last deploy now; the build step is the slow one. '.repeat(4),
    } as PulseEvent;
    json += JSON.stringify(e).length;
    store.append([e], [{ key: `files:/state/agents/main/sessions/s${s}.jsonl`, value: { pos: i * 600 } }]);
    if ((i + 1) % linesPerCommit === 0) store.flush();
  }
  store.flush();
  const wal = statSync(`${path}-wal`).size;
  store.close();
  return { wal: wal / LINES, json: json / LINES };
}

export async function run(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'clawpulse-bench-wal-'));
  try {
    const grouped = Math.max(1, Math.round((LINES_PER_SEC * DEFAULT_COMMIT_DELAY_MS) / 1000));
    const single = walBytesPerLine(dir, 1);
    const group = walBytesPerLine(dir, grouped);
    return {
      'event JSON bytes per line': single.json,
      'WAL bytes per line, a commit per line': single.wal,
      'write amplification, a commit per line': single.wal / single.json,
      'default group delay ms': DEFAULT_COMMIT_DELAY_MS,
      'lines per commit at 10 lines/s': grouped,
      'WAL bytes per line, default groups': group.wal,
      'write amplification, default groups': group.wal / group.json,
      'WAL MB per day at 10 lines/s, a commit per line': (single.wal * LINES_PER_SEC * 86_400) / 1e6,
      'WAL MB per day at 10 lines/s, default groups': (group.wal * LINES_PER_SEC * 86_400) / 1e6,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

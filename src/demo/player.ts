/**
 * Plays recordings into an OpenClaw-shaped state dir, as OpenClaw itself writes it:
 * transcript lines appended one at a time at their recorded pace, and sessions.json rewritten
 * atomically (temp file + rename) with the entry's updatedAt moving on.
 */
import { appendFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freshIds, type Recording, shiftEntry, shiftTimestamps } from './recording.js';

export interface PlayerOptions {
  stateDir: string;
  agentId?: string;
  /** 1 = recorded pace; 10 = ten times faster */
  speed?: number;
  /** idle gaps longer than this are shortened to it (ms, before speed) */
  maxGapMs?: number;
  /** play again with fresh sessions after this pause (ms); undefined = play once */
  loopPauseMs?: number;
  now?: () => number;
  onLine?: (sessionKey: string) => void;
  /** a loop starts (1, 2, …) with these sessions (sessions.json keys) */
  onLoop?: (loop: number, sessionKeys: string[]) => void;
}

export interface Player {
  /** resolves when a single play ends (never, when looping, until stop) */
  done: Promise<void>;
  stop(): void;
}

/**
 * Each loop is a fresh set of sessions (new session ids, sub-agent uuids and `-runN` keys):
 * replaying the same keys piled a second copy of every line into the same boxes and doubled
 * their token totals each loop. While a session plays its row says `running`; after its last
 * line the row is the recorded one (done, failed, or still running: the stuck session, recorded
 * with its tool in flight). A run still open when the next loop starts is ended as an operator
 * would end it (row `killed`), and rows older than the previous loop are dropped from
 * sessions.json (their transcripts stay), so a long demo does not grow without bound.
 */
export function playRecording(recording: Recording, o: PlayerOptions): Player {
  const speed = o.speed ?? 1;
  const maxGapMs = o.maxGapMs ?? 4000;
  const now = o.now ?? Date.now;
  const dir = join(o.stateDir, 'agents', o.agentId ?? 'main', 'sessions');
  mkdirSync(dir, { recursive: true });
  const store: Record<string, Record<string, unknown>> = {};
  /** the keys of each loop played so far */
  const loops: string[][] = [];
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let finish: () => void = () => {};
  const done = new Promise<void>((r) => {
    finish = r;
  });

  const writeStore = () => {
    const tmp = join(dir, `sessions.json.${process.pid}.tmp`);
    writeFileSync(tmp, JSON.stringify(store, null, 2));
    renameSync(tmp, join(dir, 'sessions.json'));
  };

  /** before a new loop: runs left open are killed, rows two loops old leave sessions.json */
  const endPreviousLoops = () => {
    const t = now();
    for (const key of loops.at(-1) ?? []) {
      const row = store[key];
      if (row?.status === 'running')
        store[key] = { ...row, status: 'killed', abortedLastRun: true, endedAt: t, updatedAt: t };
    }
    for (const old of loops.slice(0, -1)) for (const key of old) delete store[key];
    writeStore();
  };

  const playOnce = (rec: Recording, loop: number) => {
    if (loops.length) endPreviousLoops();
    loops.push(Object.keys(rec.entries));
    o.onLoop?.(loop, Object.keys(rec.entries));
    // compress long idle gaps, then schedule each line relative to the first
    const schedule: number[] = [];
    const lastOf = new Map<string, number>();
    let at = 0;
    rec.lines.forEach((l, i) => {
      const prev = rec.lines[i - 1];
      if (prev) at += Math.min(l.ts - prev.ts, maxGapMs);
      schedule.push(at);
      lastOf.set(l.sessionKey, i);
    });
    const start = now();
    let i = 0;
    const step = () => {
      if (stopped) return;
      while (i < rec.lines.length && (schedule[i] as number) / speed <= now() - start) {
        const line = rec.lines[i] as Recording['lines'][number];
        // the line's own time becomes "when it was played"
        const delta = Math.round(start + (schedule[i] as number) / speed - line.ts);
        const value = shiftTimestamps(line.value, delta);
        const entry = rec.entries[line.sessionKey] ?? {};
        const file = join(dir, `${line.sessionId}.jsonl`);
        const t = Math.min(Math.round(line.ts + delta), now());
        const row: Record<string, unknown> = { ...shiftEntry(entry, delta), sessionFile: file, updatedAt: t };
        if (lastOf.get(line.sessionKey) === i) {
          // its last line, then the row as OpenClaw left it (saved after the transcript)
          appendFileSync(file, `${JSON.stringify(value)}\n`);
          if (typeof row.endedAt === 'number') row.endedAt = Math.min(row.endedAt, t);
          store[line.sessionKey] = row;
          writeStore();
        } else {
          store[line.sessionKey] = { ...row, status: 'running' };
          delete store[line.sessionKey]?.endedAt;
          writeStore();
          appendFileSync(file, `${JSON.stringify(value)}\n`);
        }
        o.onLine?.(line.sessionKey);
        i++;
      }
      if (i < rec.lines.length) {
        const wait = Math.max(1, (schedule[i] as number) / speed - (now() - start));
        timer = setTimeout(step, Math.min(wait, 1000));
        return;
      }
      if (o.loopPauseMs === undefined) {
        finish();
        return;
      }
      timer = setTimeout(() => playOnce(freshIds(recording, loop + 1), loop + 1), o.loopPauseMs);
    };
    step();
  };

  playOnce(recording, 1);
  return {
    done,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      finish();
    },
  };
}

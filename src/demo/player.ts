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
  /** play again with fresh ids after this pause (ms); undefined = play once */
  loopPauseMs?: number;
  now?: () => number;
  onLine?: (sessionKey: string) => void;
}

export interface Player {
  /** resolves when a single play ends (never, when looping, until stop) */
  done: Promise<void>;
  stop(): void;
}

export function playRecording(recording: Recording, o: PlayerOptions): Player {
  const speed = o.speed ?? 1;
  const maxGapMs = o.maxGapMs ?? 4000;
  const now = o.now ?? Date.now;
  const dir = join(o.stateDir, 'agents', o.agentId ?? 'main', 'sessions');
  mkdirSync(dir, { recursive: true });
  const store: Record<string, Record<string, unknown>> = {};
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

  const playOnce = (rec: Recording) => {
    // compress long idle gaps, then schedule each line relative to the first
    const schedule: number[] = [];
    let at = 0;
    rec.lines.forEach((l, i) => {
      const prev = rec.lines[i - 1];
      if (prev) at += Math.min(l.ts - prev.ts, maxGapMs);
      schedule.push(at);
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
        const t = Math.round(line.ts + delta);
        store[line.sessionKey] = {
          ...shiftEntry(entry, delta),
          sessionFile: file,
          updatedAt: t,
          status: 'running',
        };
        delete store[line.sessionKey]?.endedAt;
        writeStore();
        appendFileSync(file, `${JSON.stringify(value)}\n`);
        o.onLine?.(line.sessionKey);
        i++;
      }
      if (i < rec.lines.length) {
        const wait = Math.max(1, (schedule[i] as number) / speed - (now() - start));
        timer = setTimeout(step, Math.min(wait, 1000));
        return;
      }
      // the run is over: the entries say so, as OpenClaw's do
      for (const key of Object.keys(store)) {
        if (rec.entries[key])
          store[key] = { ...store[key], status: 'done', endedAt: now(), updatedAt: now() };
      }
      writeStore();
      if (o.loopPauseMs === undefined) {
        finish();
        return;
      }
      timer = setTimeout(() => playOnce(freshIds(recording)), o.loopPauseMs);
    };
    step();
  };

  playOnce(recording);
  return {
    done,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      finish();
    },
  };
}

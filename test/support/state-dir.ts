/** Builds OpenClaw-shaped state dirs from the real fixtures, for integration tests. */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../src/test-support/temp-dir.js';

export const FIXTURE_735 = new URL('../fixtures/openclaw/v2026.7.35/', import.meta.url).pathname;
export const PARENT_ID = 'daa6b28a-5388-4104-8e50-89a5a783e4c6';
export const CHILD_ID = '98b47024-154f-495f-95d6-aaedbec7b8ed';
export const CHILD_KEY = 'agent:main:subagent:d8962e0f-3bd5-4e5d-a8cc-eaa16e63acf8';

/** a temp state dir holding the real 2026.7.35 sessions.json and both transcripts (paths rewritten) */
export function makeStateDir(): { root: string; stateDir: string; sessionsDir: string } {
  const root = tempDir('clawpulse-it-');
  const stateDir = join(root, 'openclaw');
  const sessionsDir = join(stateDir, 'agents', 'main', 'sessions');
  mkdirSync(sessionsDir, { recursive: true });
  for (const id of [PARENT_ID, CHILD_ID])
    copyFileSync(join(FIXTURE_735, `${id}.jsonl`), join(sessionsDir, `${id}.jsonl`));
  const store = JSON.parse(readFileSync(join(FIXTURE_735, 'sessions.json'), 'utf8')) as Record<
    string,
    { sessionFile?: string }
  >;
  for (const e of Object.values(store))
    if (e.sessionFile) e.sessionFile = join(sessionsDir, e.sessionFile.split('/').pop() as string);
  writeFileSync(join(sessionsDir, 'sessions.json'), JSON.stringify(store, null, 2));
  return { root, stateDir, sessionsDir };
}

/** the fixture's token totals, summed from the per-message usage of each transcript */
export function fixtureTokenTotal(id: string): number {
  let total = 0;
  for (const line of readFileSync(join(FIXTURE_735, `${id}.jsonl`), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const u = (
      JSON.parse(line) as {
        message?: { usage?: { input: number; output: number; cacheRead: number; cacheWrite: number } };
      }
    ).message?.usage;
    if (u) total += u.input + u.output + u.cacheRead + u.cacheWrite;
  }
  return total;
}

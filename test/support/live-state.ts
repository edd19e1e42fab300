/**
 * A state dir with three sessions written "just now", in OpenClaw's transcript format: one
 * still running a tool (in flight), one whose model call failed with 529 (error), one whose
 * run finished a moment ago (idle until the idle timeout). For CLI tests of what `tail`, `stop`
 * and the sessions list show while things are live.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../src/test-support/temp-dir.js';

export const LIVE_KEYS = {
  running: 'agent:main:build',
  failed: 'agent:main:fail',
  finished: 'agent:main:answered',
} as const;

const ids = {
  running: '11111111-aaaa-4bbb-8ccc-000000000001',
  failed: '11111111-aaaa-4bbb-8ccc-000000000002',
  finished: '11111111-aaaa-4bbb-8ccc-000000000003',
};

const usage = (input: number, output: number, cost: number) => ({
  input,
  output,
  cacheRead: 0,
  cacheWrite: 0,
  totalTokens: input + output,
  cost: { input: cost, output: 0, cacheRead: 0, cacheWrite: 0, total: cost },
});

export function makeLiveStateDir(
  now = Date.now(),
  root = tempDir('clawpulse-live-'),
): { root: string; stateDir: string } {
  const stateDir = join(root, 'openclaw');
  const dir = join(stateDir, 'agents', 'main', 'sessions');
  mkdirSync(dir, { recursive: true });
  const iso = (t: number) => new Date(t).toISOString();
  const t0 = now - 5000;
  let n = 0;
  const entry = (message: Record<string, unknown>, t: number) =>
    JSON.stringify({
      type: 'message',
      id: (0xa0000000 + ++n).toString(16),
      parentId: null,
      timestamp: iso(t),
      message: { ...message, timestamp: t },
    });
  const head = (id: string) =>
    JSON.stringify({ type: 'session', version: 3, id, timestamp: iso(t0), cwd: '/w' });
  const user = (text: string) => entry({ role: 'user', content: text }, t0);
  const files: Record<keyof typeof ids, string[]> = {
    running: [
      head(ids.running),
      user('build and test the release'),
      entry(
        {
          role: 'assistant',
          content: [
            { type: 'toolCall', id: 'call_1', name: 'exec', arguments: { command: 'npm run build' } },
          ],
          usage: usage(1200, 30, 0.004),
          stopReason: 'toolUse',
        },
        t0 + 1000,
      ),
    ],
    failed: [
      head(ids.failed),
      user('summarise the incident'),
      entry(
        {
          role: 'assistant',
          content: [],
          usage: usage(0, 0, 0),
          stopReason: 'error',
          errorMessage: '529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
        },
        t0 + 1000,
      ),
    ],
    finished: [
      head(ids.finished),
      user('what time is it in Tokyo?'),
      entry(
        {
          role: 'assistant',
          content: [{ type: 'text', text: 'It is 21:04 in Tokyo.' }],
          usage: usage(800, 12, 0.002),
          stopReason: 'stop',
        },
        t0 + 1000,
      ),
    ],
  };
  const index: Record<string, unknown> = {};
  for (const k of Object.keys(ids) as Array<keyof typeof ids>) {
    writeFileSync(join(dir, `${ids[k]}.jsonl`), `${files[k].join('\n')}\n`);
    index[LIVE_KEYS[k]] = {
      sessionId: ids[k],
      updatedAt: t0 + 1000,
      ...(k === 'running' ? { label: 'nightly build' } : {}),
    };
  }
  writeFileSync(join(dir, 'sessions.json'), JSON.stringify(index, null, 2));
  return { root, stateDir };
}

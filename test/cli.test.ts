/**
 * The clawpulse command as a user runs it: real processes (node + tsx), temp dirs, PID file.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../src/test-support/temp-dir.js';
import { CHILD_KEY, FIXTURE_735, fixtureTokenTotal, makeStateDir, PARENT_ID } from './support/state-dir.js';

const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;

function cli(args: string[], env: NodeJS.ProcessEnv = {}, timeout = 60_000) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    timeout,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('clawpulse CLI', () => {
  it('exits 2 naming every bad variable', () => {
    const r = cli(['status'], { THROTTLE_MS: 'soon', IDLE_TIMEOUT_S: '-1' });
    expect(r.code).toBe(2);
    expect(r.err).toContain('THROTTLE_MS="soon"');
    expect(r.err).toContain('IDLE_TIMEOUT_S="-1"');
  });

  it('replays a state dir into nested status boxes and the JSON view', () => {
    const { stateDir } = makeStateDir();
    const text = cli(['replay', stateDir]);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^\[DONE\] main \| /m);
    expect(text.out).toMatch(/^ {2}Sub-agent: fake-child$/m);
    expect(text.out).toMatch(/^ {2}exec: ls \/tmp \| head -3 \[OK\]$/m);
    const json = JSON.parse(cli(['replay', '--json', stateDir]).out) as {
      sessions: Array<{
        sessionKey: string;
        parentKey: string | null;
        tokens: { total: number };
        tools: Array<{ name: string; status: string }>;
      }>;
    };
    const child = json.sessions.find((s) => s.sessionKey === CHILD_KEY);
    expect(child?.parentKey).toBe('agent:main:main');
    const parent = json.sessions.find((s) => s.sessionKey === 'agent:main:main');
    expect(parent?.tokens.total).toBe(fixtureTokenTotal(PARENT_ID));
    expect(parent?.tools.map((t) => `${t.name}:${t.status}`)).toEqual([
      'exec:ok',
      'sessions_spawn:ok',
      'exec:ok',
      'exec:ok',
    ]);
  });

  it('replays a single transcript file', () => {
    const r = cli(['replay', join(FIXTURE_735, `${PARENT_ID}.jsonl`)]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('exec: ls /tmp | head -3 [OK]');
  });

  it('replay on something that is not OpenClaw output says so and exits 1', () => {
    const dir = tempDir('clawpulse-junk-');
    writeFileSync(join(dir, 'empty.jsonl'), '');
    writeFileSync(join(dir, 'notes.txt'), 'hello\n');
    mkdirSync(join(dir, 'sub'));
    const pkg = new URL('../package.json', import.meta.url).pathname;
    for (const [path, says] of [
      [pkg, 'is not OpenClaw output: none of its'],
      [join(dir, 'empty.jsonl'), 'is empty: not an OpenClaw transcript'],
      [join(dir, 'notes.txt'), 'is not OpenClaw output'],
      [dir, 'is not OpenClaw output: no agents/ (a state dir), sessions.json or <sessionId>.jsonl in it'],
    ] as const) {
      const r = cli(['replay', path]);
      expect(r.code, path).toBe(1);
      expect(r.err).toContain(`${path} ${says}`);
      expect(r.out).toBe('');
    }
  });

  it('replays a flat transcript folder and a folder of recordings, each box under its session name', () => {
    const dir = tempDir('clawpulse-flat-');
    for (const f of readdirSync(FIXTURE_735))
      if (/\.jsonl$|^sessions\.json$/.test(f)) copyFileSync(join(FIXTURE_735, f), join(dir, f));
    const flat = cli(['replay', dir]);
    expect(flat.code).toBe(0);
    expect(flat.out).toMatch(/^── main ─+\n\[DONE\] main \| /m);
    expect(flat.out).toMatch(/^ {2}Sub-agent: fake-child$/m);
    // cost wherever tokens are
    expect(flat.out).toMatch(/^\[DONE\] \d+s \| 60\.9k tokens \| \$0\.06$/m);
    const recordings = new URL('../demo/recordings/', import.meta.url).pathname;
    const demo = cli(['replay', recordings]);
    expect(demo.code).toBe(0);
    expect(demo.out).toContain('| 529 Overloaded');
    expect(demo.out).not.toMatch(/529 529/);
    const json = JSON.parse(cli(['replay', '--json', recordings]).out) as { sessions: unknown[] };
    expect(json.sessions.length).toBeGreaterThanOrEqual(5);
  });

  it('says clearly when the path does not exist', () => {
    const r = cli(['replay', '/nonexistent/clawpulse']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('cannot read /nonexistent/clawpulse');
  });

  it('starts detached, refuses a second instance, reports status, lists sessions and stops', async () => {
    const { root, stateDir } = makeStateDir();
    const env = {
      HOME: root,
      OPENCLAW_STATE_DIR: stateDir,
      CLAWPULSE_HOME: join(tempDir('clawpulse-home-'), 'cp'),
      SOURCES: 'files',
      HEALTH_PORT: String(await freePort()),
    };
    const started = cli(['start', '--fork'], env);
    expect(started.err).toBe('');
    expect(started.out).toMatch(/clawpulse started \(pid \d+\)/);
    try {
      const second = cli(['start'], env);
      expect(second.code).toBe(1);
      expect(second.err).toMatch(/already running \(pid \d+/);

      let status = cli(['status', '--json'], env);
      expect(status.code).toBe(0);
      expect(JSON.parse(status.out)).toMatchObject({
        running: true,
        health: { sources: [{ id: 'files' }, { id: 'otlp' }] },
      });
      // while it runs, `sessions` asks the daemon (one source of truth)
      for (let i = 0; i < 100; i++) {
        const list = JSON.parse(cli(['sessions', '--json'], env).out) as {
          source: string;
          sessions: Array<{ sessionKey: string }>;
        };
        expect(list.source).toBe('daemon');
        if (list.sessions.some((s) => s.sessionKey === CHILD_KEY)) break;
        await new Promise((r) => setTimeout(r, 200));
        if (i === 99) throw new Error('sessions never listed the sub-agent');
      }
      status = cli(['status'], env);
      expect(status.out).toMatch(/source files: live/);
    } finally {
      const stopped = cli(['stop'], env);
      expect(stopped.out).toMatch(/clawpulse stopped \(pid \d+\)/);
    }
    const after = cli(['status'], env);
    expect(after.code).toBe(3);
    expect(after.out).toContain('not running');
  }, 120_000);
});

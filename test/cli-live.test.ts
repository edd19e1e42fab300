/**
 * The clawpulse command while something runs, as a user meets it: real processes, a real
 * pseudo-terminal where it matters (`script` from util-linux), temp dirs. What a terminal
 * shows first, what `start --fork` says, `status`/`sessions`/`tail` finding the daemon or the
 * demo, Ctrl-C with stdout piped into a process that is gone, and the small mistakes.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stripAnsi } from '../src/render/terminal.js';
import { tempDir } from '../src/test-support/temp-dir.js';
import { LIVE_KEYS, makeLiveStateDir } from './support/live-state.js';
import { makeStateDir } from './support/state-dir.js';

const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;
const NODE = process.execPath;

function cli(args: string[], env: NodeJS.ProcessEnv = {}, timeout = 60_000) {
  const r = spawnSync(NODE, ['--import', 'tsx', MAIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    timeout,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

interface Running {
  proc: ChildProcess;
  out(): string;
  err(): string;
  exited: Promise<number | null>;
  waitFor(re: RegExp, which?: 'out' | 'err', timeoutMs?: number): Promise<string>;
}

const running: Running[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    if (r.proc.exitCode === null && r.proc.signalCode === null) {
      // under `script` the command has a session of its own: the group kill below misses it
      const inner = descendant(r.proc.pid as number, /main\.ts/);
      if (inner) process.kill(inner, 'SIGKILL');
      try {
        process.kill(-(r.proc.pid as number), 'SIGKILL');
      } catch {
        // gone
      }
      await r.exited;
    }
  }
});

/** a background process in its own group; `pty` runs it under `script` (a real terminal) */
function start(args: string[], env: NodeJS.ProcessEnv, o: { pty?: boolean } = {}): Running {
  const argv = [NODE, '--import', 'tsx', MAIN, ...args];
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const proc = o.pty
    ? spawn('script', ['-qefc', quoted, '/dev/null'], {
        env: { ...process.env, ...env },
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
      })
    : spawn(argv[0] as string, argv.slice(1), {
        env: { ...process.env, ...env },
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
  let out = '';
  let err = '';
  proc.stdout?.on('data', (b: Buffer) => {
    out += b.toString();
  });
  proc.stderr?.on('data', (b: Buffer) => {
    err += b.toString();
  });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const r: Running = {
    proc,
    out: () => out,
    err: () => err,
    exited,
    async waitFor(re, which = 'out', timeoutMs = 30_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const text = which === 'out' ? out : err;
        const m = re.exec(text);
        if (m) return m[0];
        if (Date.now() > end || proc.exitCode !== null)
          throw new Error(`no ${re} in ${which}:\n${text}\n(other stream:\n${which === 'out' ? err : out})`);
        await new Promise((res) => setTimeout(res, 50));
      }
    },
  };
  running.push(r);
  return r;
}

/** the process under `pid` (children, grandchildren…) whose command line matches `re`; 0 when none */
function descendant(pid: number, re: RegExp): number {
  const rows = spawnSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((l) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3] as string }));
  const under = new Set([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const r of rows)
      if (under.has(r.ppid) && !under.has(r.pid)) {
        under.add(r.pid);
        grew = true;
      }
  }
  return rows.find((r) => r.pid !== pid && under.has(r.pid) && re.test(r.args))?.pid ?? 0;
}

function homeEnv(stateDir: string): NodeJS.ProcessEnv {
  return {
    OPENCLAW_STATE_DIR: stateDir,
    CLAWPULSE_HOME: join(tempDir('clawpulse-home-'), 'cp'),
    SOURCES: 'files',
    HEALTH_PORT: 'any',
    POLL_INTERVAL_MS: '50',
  };
}

const withinMs = async <T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> =>
  Promise.race([p, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms))]);

describe('what a terminal shows', () => {
  it('on a TTY: the dashboard URL first, then short human log lines (no JSON, no config dump)', async () => {
    const { stateDir } = makeStateDir();
    const env = { ...homeEnv(stateDir), LOG_LEVEL: 'info' };
    const d = start(['start'], env, { pty: true });
    await d.waitFor(/clawpulse running/);
    const lines = stripAnsi(d.out())
      .split(/\r?\n/)
      .filter((l) => l.trim());
    expect(lines[0]).toMatch(/^clawpulse: dashboard http:\/\/127\.0\.0\.1:\d+\/ {2}\(Ctrl-C stops\)$/);
    expect(lines.slice(1).every((l) => /^\d\d:\d\d:\d\d (INFO|WARN|ERROR) /.test(l))).toBe(true);
    expect(d.out()).not.toContain('{"level"');
    expect(d.out()).not.toContain('"config"');
    expect(lines.some((l) => /INFO {2}clawpulse \S+ starting$/.test(l))).toBe(true);
    process.kill(-(d.proc.pid as number), 'SIGINT');
    expect(await withinMs(d.exited, 15_000)).toBe(0);
  }, 60_000);

  it('JSON lines when stdout is not a terminal, or with LOG_FORMAT=json on one', async () => {
    const { stateDir } = makeStateDir();
    const piped = start(['start'], { ...homeEnv(stateDir), LOG_LEVEL: 'info' });
    await piped.waitFor(/"msg":"clawpulse running/, 'err');
    expect(piped.out()).toMatch(/^clawpulse: dashboard http:\/\/127\.0\.0\.1:\d+\/ /);
    for (const l of piped.err().trim().split('\n')) expect(() => JSON.parse(l)).not.toThrow();
    expect(piped.err()).not.toContain('"config"'); // at debug only
    process.kill(-(piped.proc.pid as number), 'SIGTERM');
    expect(await withinMs(piped.exited, 15_000)).toBe(0);

    const tty = start(
      ['start'],
      { ...homeEnv(stateDir), LOG_LEVEL: 'info', LOG_FORMAT: 'json' },
      { pty: true },
    );
    await tty.waitFor(/"msg":"clawpulse running/);
    expect(tty.out()).toMatch(/\{"level":30,/);
    process.kill(-(tty.proc.pid as number), 'SIGINT');
    await withinMs(tty.exited, 15_000);
  }, 60_000);
});

describe('start --fork', () => {
  it('says where the dashboard is first, and which sources came up and which did not', () => {
    const { stateDir } = makeStateDir();
    const env = { ...homeEnv(stateDir), SOURCES: 'files,gateway', OPENCLAW_GATEWAY_URL: 'ws://127.0.0.1:9' };
    const r = cli(['start', '--fork'], env);
    try {
      expect(r.code).toBe(0);
      expect(r.err).toBe('');
      const lines = r.out.trim().split('\n');
      expect(lines[0]).toMatch(/^clawpulse: dashboard http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(lines[1]).toMatch(/^clawpulse started \(pid \d+\); logs: /);
      expect(r.out).toMatch(/^ {2}sources up: files \(following 2 transcripts/m);
      expect(r.out).toMatch(/^ {2}sources down: gateway \(connect ECONNREFUSED ws:\/\/127\.0\.0\.1:9/m);
      // the gateway is down: running, but degraded
      const status = cli(['status'], env);
      expect(status.code).toBe(4);
      expect(status.out).toMatch(/status: degraded/);
      expect(JSON.parse(cli(['status', '--json'], env).out)).toMatchObject({ running: true, kind: 'daemon' });
    } finally {
      expect(cli(['stop'], env).code).toBe(0);
    }
  }, 60_000);

  it('failing (port in use) prints the one reason, not the log of this or earlier runs', async () => {
    const { stateDir } = makeStateDir();
    const env = homeEnv(stateDir);
    const taken: Server = await new Promise((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => resolve(s));
    });
    const port = (taken.address() as { port: number }).port;
    try {
      const home = env.CLAWPULSE_HOME as string;
      mkdirSync(home, { recursive: true });
      // an earlier run's lines: never this run's reason
      appendFileSync(
        join(home, 'clawpulse.log'),
        `${JSON.stringify({ level: 50, msg: 'an old failure' })}\nclawpulse: an old reason\n`,
      );
      const r = cli(['start', '--fork', '--port', String(port)], { ...env, LOG_LEVEL: 'info' });
      expect(r.code).toBe(1);
      expect(r.out).toBe('');
      const lines = r.err.trim().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toBe(
        `clawpulse: the daemon could not start: port ${port} on 127.0.0.1 is in use (another clawpulse, or another program): set HEALTH_PORT or --port`,
      );
      expect(lines[1]).toMatch(/^ {2}\(log: .*clawpulse\.log\)$/);
      expect(r.err).not.toContain('old');
      // the log keeps everything for whoever wants it
      expect(readFileSync(join(home, 'clawpulse.log'), 'utf8')).toContain('an old failure');
    } finally {
      taken.close();
    }
  }, 60_000);
});

describe('while a daemon runs, the other commands ask it', () => {
  it('tail --once: each box under its session name, the failed one first; sessions from the daemon; stop ends only work in flight', async () => {
    const { stateDir } = makeLiveStateDir();
    const env = homeEnv(stateDir);
    expect(cli(['start', '--fork'], env).code).toBe(0);
    let stopped = false;
    try {
      let frame = '';
      for (let i = 0; i < 100 && !/nightly build/.test(frame); i++) {
        frame = cli(['tail', '--once'], { ...env, COLUMNS: '100' }).out;
        if (!/nightly build/.test(frame)) await new Promise((r) => setTimeout(r, 100));
      }
      const lines = frame.split('\n');
      expect(lines[0]).toMatch(
        /^clawpulse tail — following the daemon \(pid \d+, http:\/\/127\.0\.0\.1:\d+\)$/,
      );
      expect(frame).not.toContain('\x1b['); // not a terminal: no escape codes
      const boxes = lines.filter((l) => l.startsWith('── '));
      expect(boxes.map((l) => l.split(' ')[1])).toEqual(['fail', 'build', 'answered']);
      expect(frame).toMatch(/^\[ERROR\] main \| \d+s\n\[ERROR\] \d+s \| 529 Overloaded$/m);
      expect(frame).toMatch(/^\[ACTIVE\] nightly build \| \d+s\n {2}exec: npm run build \.\.\.$/m);

      const listed = JSON.parse(cli(['sessions', '--json'], env).out) as {
        source: string;
        sessions: Array<{ sessionKey: string; status: string }>;
      };
      expect(listed.source).toBe('daemon');
      expect(Object.fromEntries(listed.sessions.map((s) => [s.sessionKey, s.status]))).toEqual({
        [LIVE_KEYS.running]: 'active',
        [LIVE_KEYS.failed]: 'error',
        [LIVE_KEYS.finished]: 'idle',
      });
      const stop = cli(['stop'], env);
      stopped = true;
      expect(stop.code).toBe(0);
      // the store after shutdown: only the run in flight was interrupted
      const after = cli(['sessions', '--json'], env);
      expect(after.err).toContain('no daemon running: reading the store');
      const stored = JSON.parse(after.out) as {
        source: string;
        sessions: Array<{ sessionKey: string; status: string }>;
      };
      expect(stored.source).toBe('store');
      expect(Object.fromEntries(stored.sessions.map((s) => [s.sessionKey, s.status]))).toEqual({
        [LIVE_KEYS.running]: 'interrupted',
        [LIVE_KEYS.failed]: 'error',
        [LIVE_KEYS.finished]: 'done',
      });
    } finally {
      if (!stopped) cli(['stop'], env);
    }
  }, 90_000);

  it('tail on a terminal follows the daemon, redraws in place and quits on Ctrl-C', async () => {
    const { stateDir } = makeLiveStateDir();
    const env = homeEnv(stateDir);
    expect(cli(['start', '--fork'], env).code).toBe(0);
    try {
      const t = start(['tail'], { ...env, LOG_LEVEL: 'silent' }, { pty: true });
      await t.waitFor(/── fail[\s\S]*nightly build/);
      const screen = stripAnsi(t.out());
      expect(screen).toMatch(
        /clawpulse tail — following the daemon \(pid \d+, http:\/\/127\.0\.0\.1:\d+\) \(Ctrl-C quits\)/,
      );
      expect(screen).toMatch(/── fail ─+/);
      expect(t.out()).toContain('\x1b[?25l'); // cursor hidden while drawing
      // Ctrl-C reaches the command itself (script relays its last output, then ends)
      const pid = descendant(t.proc.pid as number, /main\.ts tail/);
      expect(pid).toBeGreaterThan(0);
      process.kill(pid, 'SIGINT');
      expect(await withinMs(t.exited, 10_000)).toBe(0);
      expect(t.out()).toContain('\x1b[?25h'); // and shown again
    } finally {
      cli(['stop'], env);
    }
  }, 60_000);

  it('the demo is found by status, sessions, tail and stop', async () => {
    const home = join(tempDir('clawpulse-home-'), 'cp');
    const env = { CLAWPULSE_HOME: home, HEALTH_PORT: 'any', LOG_LEVEL: 'silent' };
    const demo = start(['demo', '--no-terminal', '--speed', '20'], env);
    await demo.waitFor(/clawpulse demo: dashboard http:\/\/127\.0\.0\.1:\d+\//);
    const status = cli(['status', '--json'], env);
    expect(JSON.parse(status.out)).toMatchObject({ running: true, kind: 'demo', pid: demo.proc.pid });
    let listed: { source: string; sessions: unknown[] } = { source: '', sessions: [] };
    for (let i = 0; i < 100 && listed.sessions.length < 3; i++) {
      listed = JSON.parse(cli(['sessions', '--json'], env).out);
      if (listed.sessions.length < 3) await new Promise((r) => setTimeout(r, 100));
    }
    expect(listed.source).toBe('daemon');
    expect(cli(['tail', '--once'], env).out).toMatch(/^clawpulse tail — following the demo \(pid \d+/);
    const stop = cli(['stop'], env);
    expect(stop.out, `${stop.err}\n${demo.err()}`).toMatch(/^clawpulse demo stopped \(pid \d+\)/);
    expect(await withinMs(demo.exited, 15_000)).toBe(0);
    expect(cli(['status'], env).code).toBe(3);
  }, 90_000);
});

describe('sessions --json from the daemon', () => {
  it('carries every tool call of a busy session, as the store and replay do', async () => {
    const { root, stateDir } = makeLiveStateDir();
    // a session of 160 tool calls (the API's detail sends the newest 100; the rest come in pages)
    const id = '22222222-aaaa-4bbb-8ccc-000000000009';
    const dir = join(stateDir, 'agents', 'main', 'sessions');
    const t = Date.now() - 3000;
    const lines = [JSON.stringify({ type: 'session', version: 3, id, timestamp: new Date(t).toISOString() })];
    for (let i = 0; i < 160; i++) {
      const ts = new Date(t + i).toISOString();
      lines.push(
        JSON.stringify({
          type: 'message',
          id: (0xb0000000 + 2 * i).toString(16),
          parentId: null,
          timestamp: ts,
          message: {
            role: 'assistant',
            content: [{ type: 'toolCall', id: `c${i}`, name: 'read', arguments: { path: `/f/${i}` } }],
            stopReason: 'toolUse',
            timestamp: t + i,
          },
        }),
        JSON.stringify({
          type: 'message',
          id: (0xb0000001 + 2 * i).toString(16),
          parentId: null,
          timestamp: ts,
          message: {
            role: 'toolResult',
            toolCallId: `c${i}`,
            toolName: 'read',
            content: [{ type: 'text', text: 'ok' }],
            timestamp: t + i,
          },
        }),
      );
    }
    appendFileSync(join(dir, `${id}.jsonl`), `${lines.join('\n')}\n`);
    const env = homeEnv(stateDir);
    expect(cli(['start', '--fork'], env).code).toBe(0);
    try {
      type J = { source?: string; sessions: Array<{ sessionKey: string; tools: unknown[] }> };
      const tools = (j: J) =>
        j.sessions.find((s) => s.sessionKey === `agent:main:session:${id}`)?.tools.length;
      let listed: J = { sessions: [] };
      for (let i = 0; i < 100 && tools(listed) !== 160; i++) {
        listed = JSON.parse(cli(['sessions', '--json'], env).out) as J;
        if (tools(listed) !== 160) await new Promise((r) => setTimeout(r, 100));
      }
      expect(listed.source).toBe('daemon');
      expect(tools(listed)).toBe(160);
      const replayed = JSON.parse(cli(['replay', '--json', stateDir]).out) as J;
      expect(tools(replayed)).toBe(160);
    } finally {
      cli(['stop'], env);
    }
    expect(root).toBeTruthy();
  }, 60_000);
});

describe('shutdown', () => {
  it('Ctrl-C with stdout and stderr piped into a process that is gone still stops, at once', async () => {
    const { stateDir } = makeStateDir();
    const d = start(['start'], { ...homeEnv(stateDir), LOG_LEVEL: 'info' });
    await d.waitFor(/clawpulse: dashboard/);
    // the reader dies (tee killed by the same Ctrl-C): every later write fails with EPIPE
    d.proc.stdout?.destroy();
    d.proc.stderr?.destroy();
    await new Promise((r) => setTimeout(r, 300));
    process.kill(-(d.proc.pid as number), 'SIGINT');
    expect(await withinMs(d.exited, 15_000)).toBe(0);
  }, 60_000);
});

describe('small mistakes', () => {
  it('demo --speed must be a number above 0; --port names itself; stop with nothing running exits 3', () => {
    for (const speed of ['abc', '0', '-1', '1e3x']) {
      const r = cli(['demo', '--speed', speed, '--no-terminal']);
      expect(r.code, speed).toBe(2);
      expect(r.err).toContain(`--speed "${speed}": expected a number above 0`);
    }
    const port = cli(['status', '--port', '99999']);
    expect(port.code).toBe(2);
    expect(port.err).toContain('--port "99999": expected a port from 1 to 65535, or 0 for any free port');
    expect(port.err).not.toContain('HEALTH_PORT');
    const stop = cli(['stop'], { CLAWPULSE_HOME: join(tempDir('clawpulse-home-'), 'cp') });
    expect(stop.code).toBe(3);
    expect(stop.err).toContain('not running');
  });

  it('HEALTH_PORT=0 runs without an HTTP server, and says so', () => {
    const { stateDir } = makeStateDir();
    const env = { ...homeEnv(stateDir), HEALTH_PORT: '0' };
    const r = cli(['start', '--fork'], env);
    try {
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/clawpulse started \(pid \d+\) without HTTP \(HEALTH_PORT=0\): no dashboard/);
      const status = cli(['status'], env);
      expect(status.code).toBe(0);
      expect(status.out).toMatch(
        /clawpulse is running \(pid \d+\)\n {2}health: no answer \(it runs without HTTP/,
      );
      expect(cli(['tail', '--once'], env).out).toMatch(
        /runs without HTTP \(HEALTH_PORT=0\): reading .* directly/,
      );
    } finally {
      expect(cli(['stop'], env).code).toBe(0);
    }
  }, 60_000);
});

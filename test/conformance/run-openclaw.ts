/**
 * Runs the real OpenClaw (one installed version) in a throwaway home: temp HOME, state and XDG
 * dirs, a generated openclaw.json pointing at the fake model, the file log inside the temp dir
 * (`logging.file`; the default is a fixed folder in the system temp root), a free loopback port.
 * Nothing touches the real HOME. Every process started here is stopped by its PID.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { InstalledPaths, OpenclawVersion } from './install.js';

export interface OpenclawEnv {
  version: OpenclawVersion;
  /** the temp dir holding everything of this run (kept for inspection) */
  root: string;
  home: string;
  stateDir: string;
  workspace: string;
  logFile: string;
  port: number;
  token: string;
  gatewayUrl: string;
  env: NodeJS.ProcessEnv;
  node: string;
  openclawBin: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function createOpenclawEnv(opts: {
  version: OpenclawVersion;
  installed: InstalledPaths;
  modelBaseUrl: string;
  root?: string;
}): Promise<OpenclawEnv> {
  const root = opts.root ?? fs.mkdtempSync(path.join(os.tmpdir(), `clawpulse-conf-${opts.version}-`));
  const home = path.join(root, 'home');
  const stateDir = path.join(home, '.openclaw');
  const workspace = path.join(home, 'workspace');
  const logFile = path.join(root, 'logs', 'openclaw.log');
  for (const d of [stateDir, workspace, path.dirname(logFile), path.join(root, 'tmp')])
    fs.mkdirSync(d, { recursive: true });
  const port = await freePort();
  const token = `conf-token-${process.pid}-${port}`;
  // JSON is valid JSON5; shape copied from the config that worked live (fixtures/openclaw/*/openclaw.json).
  const config = {
    gateway: { mode: 'local', port, bind: 'loopback', auth: { mode: 'token', token } },
    logging: { file: logFile },
    agents: { defaults: { workspace, model: { primary: 'fake/fake-model' } } },
    models: {
      mode: 'replace',
      providers: {
        fake: {
          baseUrl: opts.modelBaseUrl,
          apiKey: 'fake-local',
          api: 'openai-completions',
          timeoutSeconds: 60,
          models: [
            {
              id: 'fake-model',
              name: 'Fake Model',
              reasoning: false,
              input: ['text'],
              cost: { input: 1, output: 2, cacheRead: 0, cacheWrite: 0 },
              contextWindow: 128000,
              maxTokens: 4096,
            },
          ],
        },
      },
    },
  };
  fs.writeFileSync(path.join(stateDir, 'openclaw.json'), `${JSON.stringify(config, null, 2)}\n`);
  const env: NodeJS.ProcessEnv = {
    PATH: `${opts.installed.nodeBinDir}${path.delimiter}${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOME: home,
    OPENCLAW_STATE_DIR: stateDir,
    OPENCLAW_CONFIG_PATH: path.join(stateDir, 'openclaw.json'),
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_DATA_HOME: path.join(home, '.local/share'),
    XDG_STATE_HOME: path.join(home, '.local/state'),
    TMPDIR: path.join(root, 'tmp'),
    LANG: 'C.UTF-8',
    TZ: 'UTC',
    NO_COLOR: '1',
  };
  const oc = opts.installed.openclaw[opts.version];
  return {
    version: opts.version,
    root,
    home,
    stateDir,
    workspace,
    logFile,
    port,
    token,
    gatewayUrl: `ws://127.0.0.1:${port}`,
    env,
    node: path.join(opts.installed.nodeBinDir, 'node'),
    openclawBin: oc.bin,
  };
}

const live = new Set<ChildProcess>();
// If the test process dies, do not leave a gateway behind (only processes started here).
process.once('exit', () => {
  for (const p of live) if (p.exitCode === null && p.pid) p.kill('SIGKILL');
});

async function waitForPort(port: number, deadline: number, exited: () => boolean): Promise<void> {
  for (;;) {
    if (exited()) throw new Error('gateway exited before its port answered');
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`gateway port ${port} did not answer in time`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export interface GatewayHandle {
  pid: number;
  startMs: number;
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number; killed: boolean }>;
}

export async function startGateway(oc: OpenclawEnv, timeoutMs = 150_000): Promise<GatewayHandle> {
  const t0 = Date.now();
  const out = fs.openSync(path.join(oc.root, 'gateway.stdout.log'), 'a');
  const child = spawn(oc.node, [oc.openclawBin, 'gateway', 'run', '--verbose'], {
    cwd: oc.workspace,
    env: oc.env,
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  if (!child.pid) throw new Error('could not spawn the gateway');
  live.add(child);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    }),
  );
  try {
    await waitForPort(oc.port, t0 + timeoutMs, () => child.exitCode !== null || child.signalCode !== null);
  } catch (err) {
    child.kill('SIGKILL');
    await exit;
    throw err;
  }
  const pid = child.pid;
  return {
    pid,
    startMs: Date.now() - t0,
    async stop() {
      const s0 = Date.now();
      if (child.exitCode !== null || child.signalCode !== null)
        return { ...(await exit), ms: 0, killed: false };
      process.kill(pid, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((r) => {
        timer = setTimeout(() => r('timeout'), 10_000);
      });
      const first = await Promise.race([exit, timedOut]);
      clearTimeout(timer);
      if (first === 'timeout') {
        process.kill(pid, 'SIGKILL');
        return { ...(await exit), ms: Date.now() - s0, killed: true };
      }
      return { ...first, ms: Date.now() - s0, killed: false };
    },
  };
}

export interface AgentRun {
  code: number | null;
  ms: number;
  stdout: string;
  stderr: string;
  /** the parsed `--json` result, when stdout held one */
  json?: Record<string, unknown>;
}

/** `openclaw agent --agent main --message … --json [--session-key …]` through the gateway. */
export async function runAgent(
  oc: OpenclawEnv,
  opts: { message: string; sessionKey?: string; timeoutSec?: number; local?: boolean; name?: string },
): Promise<AgentRun> {
  const args = [oc.openclawBin, 'agent', '--agent', 'main', '--message', opts.message, '--json'];
  if (opts.sessionKey) args.push('--session-key', opts.sessionKey);
  if (opts.timeoutSec) args.push('--timeout', String(opts.timeoutSec));
  if (opts.local) args.push('--local');
  const t0 = Date.now();
  const child = spawn(oc.node, args, { cwd: oc.workspace, env: oc.env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => {
    stdout += c.toString('utf8');
  });
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString('utf8');
  });
  // Bounded: the CLI's own --timeout plus a margin, then it is killed.
  const hardMs = ((opts.timeoutSec ?? 120) + 30) * 1000;
  const killer = setTimeout(() => {
    if (child.exitCode === null && child.pid) child.kill('SIGKILL');
  }, hardMs);
  const code = await new Promise<number | null>((resolve) =>
    child.once('close', (c) => {
      live.delete(child);
      resolve(c);
    }),
  );
  clearTimeout(killer);
  const ms = Date.now() - t0;
  let json: Record<string, unknown> | undefined;
  const start = stdout.indexOf('{');
  if (start >= 0) {
    try {
      json = JSON.parse(stdout.slice(start)) as Record<string, unknown>;
    } catch {
      json = undefined;
    }
  }
  const name = opts.name ?? opts.sessionKey?.replace(/[^a-z0-9-]+/gi, '_') ?? 'agent';
  fs.writeFileSync(path.join(oc.root, `agent-${name}.out.json`), stdout);
  fs.writeFileSync(path.join(oc.root, `agent-${name}.err.log`), stderr);
  return { code, ms, stdout, stderr, json };
}

/**
 * OpenClaw 2026.9 keeps 0-byte lifecycle lock files in a hard-coded
 * `/tmp/openclaw-state-locks-<uid>/` (not movable by TMPDIR or the state dir), named by a hash
 * of each database path; 2026.7 creates an empty `/tmp/openclaw` log folder. After a run, remove
 * exactly what belongs to this run's databases (never anyone else's), and the log folder only
 * if it is empty and was not there before.
 */
export function cleanupOutsideTemp(oc: OpenclawEnv, tmpOpenclawExisted: boolean): void {
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  const lockDir = path.join(
    '/tmp',
    uid === undefined ? 'openclaw-state-locks' : `openclaw-state-locks-${uid}`,
  );
  const dbs = [
    path.join(oc.stateDir, 'state/openclaw.sqlite'),
    path.join(oc.stateDir, 'agents/main/agent/openclaw-agent.sqlite'),
  ];
  const hashes = dbs.map((p) => createHash('sha256').update(p).digest('hex').slice(0, 8));
  let names: string[] = [];
  try {
    names = fs.readdirSync(lockDir);
  } catch {
    names = [];
  }
  for (const name of names) {
    if (hashes.some((h) => name.endsWith(`.${h}.lock.sqlite`)))
      fs.rmSync(path.join(lockDir, name), { force: true });
  }
  if (!tmpOpenclawExisted) {
    try {
      fs.rmdirSync('/tmp/openclaw'); // fails (kept) when not empty
    } catch {
      /* not there, or not empty: leave it */
    }
  }
}

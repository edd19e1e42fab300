/**
 * What the store reliability tests (store-loss, disk-full) share: a real daemon process
 * (`node --import tsx src/cli/main.ts start`) on a temp CLAWPULSE_HOME and OpenClaw state dir,
 * a seeded transcript writer that knows what it wrote (the truth the store is compared with),
 * OTLP posts, /health polling, and a look into the store file once the daemon has stopped.
 * Every wait is bounded in time.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  chownSync,
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { StoredEvent } from '../../src/model/events.js';
import { createSqliteStore } from '../../src/store/sqlite-store.js';
import { tempDir } from '../../src/test-support/temp-dir.js';
import { freePort, prng as rng, sleep } from '../support/reliability-kit.js';

export const REPO = new URL('../..', import.meta.url).pathname;

/** one figure line: `[reliability] <test>: <figure>` */
export const figure = (test: string, text: string): void => {
  process.stdout.write(`[reliability] ${test}: ${text}\n`);
};

export { freePort, rng, sleep };

export interface Layout {
  root: string;
  home: string;
  stateDir: string;
  sessionsDir: string;
  dbPath: string;
}

/**
 * A temp root with a CLAWPULSE_HOME and an OpenClaw state dir (agents/main/sessions); with
 * `storeApart` the store sits in a folder of its own (`<root>/store`), away from the PID file.
 */
export function makeLayout(prefix: string, opts: { storeApart?: boolean } = {}): Layout {
  const root = tempDir(prefix);
  const home = join(root, 'clawpulse');
  const stateDir = join(root, 'openclaw');
  const sessionsDir = join(stateDir, 'agents', 'main', 'sessions');
  mkdirSync(home, { recursive: true });
  mkdirSync(sessionsDir, { recursive: true });
  const storeDir = opts.storeApart ? join(root, 'store') : home;
  mkdirSync(storeDir, { recursive: true });
  return { root, home, stateDir, sessionsDir, dbPath: join(storeDir, 'clawpulse.sqlite') };
}

/** hands a tree to another user (a daemon run as `nobody`, for whom permissions apply) */
export function chownTree(dir: string, uid: number, gid: number): void {
  chownSync(dir, uid, gid);
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, d.name);
    if (d.isDirectory()) chownTree(p, uid, gid);
    else chownSync(p, uid, gid);
  }
}

/**
 * Appends transcript lines to `sessions` sessions (one assistant message with usage per line,
 * its text naming the session and line number) and keeps the truth: what each session got.
 */
export function makeWriter(
  layout: Layout,
  sessions: number,
  seed: number,
  owner?: { uid: number; gid: number },
) {
  const random = rng(seed);
  const ids = Array.from(
    { length: sessions },
    (_, i) =>
      `${(0x1000_0000 + i * 7919 + seed).toString(16).slice(0, 8)}-5388-4104-8e50-${String(i).padStart(12, '0')}`,
  );
  const keys = ids.map((_, i) => `agent:main:rel-${i}`);
  const files = ids.map((id) => join(layout.sessionsDir, `${id}.jsonl`));
  const entries: Record<string, unknown> = {};
  const t0 = Date.now();
  ids.forEach((id, i) => {
    entries[keys[i] as string] = { sessionId: id, updatedAt: t0, sessionFile: files[i] };
    writeFileSync(
      files[i] as string,
      `${JSON.stringify({ type: 'session', version: 3, id, timestamp: new Date(t0).toISOString(), cwd: '/tmp' })}\n`,
    );
  });
  writeFileSync(join(layout.sessionsDir, 'sessions.json'), JSON.stringify(entries, null, 2));
  if (owner) chownTree(layout.stateDir, owner.uid, owner.gid);
  const lines = ids.map(() => 0);
  const tokens = ids.map(() => 0);
  let n = 0;
  const line = (s: number): string => {
    n++;
    const k = (lines[s] ?? 0) + 1;
    lines[s] = k;
    const input = 1 + Math.floor(random() * 50);
    const output = 1 + Math.floor(random() * 9);
    tokens[s] = (tokens[s] as number) + input + output;
    const now = Date.now();
    return JSON.stringify({
      type: 'message',
      id: (Math.imul(n ^ 0x5bd1e995, 2654435761) >>> 0).toString(16).padStart(8, '0'),
      parentId: null,
      timestamp: new Date(now).toISOString(),
      message: {
        role: 'assistant',
        content: [{ type: 'text', text: `rel ${s} line ${k} ${'x'.repeat(Math.floor(random() * 200))}` }],
        provider: 'fake',
        model: 'fake-model',
        usage: { input, output, cacheRead: 0, cacheWrite: 0, totalTokens: input + output },
        stopReason: 'stop',
        timestamp: now,
      },
    });
  };
  return {
    keys,
    files,
    /** appends `count` lines, each to a random session (one write per session touched) */
    append(count: number): void {
      const by = new Map<number, string[]>();
      for (let i = 0; i < count; i++) {
        const s = Math.floor(random() * sessions);
        const list = by.get(s) ?? [];
        list.push(line(s));
        by.set(s, list);
      }
      for (const [s, list] of by) appendFileSync(files[s] as string, `${list.join('\n')}\n`);
    },
    truth: () => keys.map((key, i) => ({ key, lines: lines[i] as number, tokens: tokens[i] as number })),
    total: () => lines.reduce((a, b) => a + b, 0),
  };
}

export type Writer = ReturnType<typeof makeWriter>;

export interface Health {
  status: string;
  store: { events: number; path: string; error?: string; heldEvents?: number; incidents?: unknown[] };
  pipeline: {
    ingested: number;
    duplicates: number;
    pendingEvents: number;
    heldEvents?: number;
    paused?: boolean;
    storeError?: string;
  };
  sources: Array<{ id: string; state: string; lagMs: number; detail?: string }>;
}

export interface DaemonProcess {
  readonly port: number;
  readonly proc: ChildProcess;
  /** what it wrote to stdout and stderr so far */
  output(): string;
  health(): Promise<Health | undefined>;
  /** SIGTERM and wait (bounded); the exit code */
  stop(): Promise<number | null>;
  exited(): Promise<number | null>;
}

export interface DaemonEnv {
  layout: Layout;
  port: number;
  extra?: Record<string, string>;
  /** run as this user (permissions apply to it; root ignores them) */
  uid?: number;
  gid?: number;
}

function daemonEnv(o: DaemonEnv): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: o.layout.root,
    OPENCLAW_STATE_DIR: o.layout.stateDir,
    CLAWPULSE_HOME: o.layout.home,
    CLAWPULSE_DB: o.layout.dbPath,
    SOURCES: 'files',
    HEALTH_PORT: String(o.port),
    POLL_INTERVAL_MS: '200',
    LOG_LEVEL: 'info',
    ...o.extra,
  };
}

/** `clawpulse start` as a process; resolves once /health answers (or it exits) */
export async function startDaemonProcess(o: DaemonEnv): Promise<DaemonProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start'], {
    cwd: REPO,
    env: daemonEnv(o),
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(o.uid !== undefined ? { uid: o.uid, gid: o.gid ?? o.uid } : {}),
  });
  let out = '';
  proc.stdout?.on('data', (d) => {
    out += d;
  });
  proc.stderr?.on('data', (d) => {
    out += d;
  });
  const exit = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  let done = false;
  void exit.then(() => {
    done = true;
  });
  const url = `http://127.0.0.1:${o.port}/health`;
  const health = async (): Promise<Health | undefined> => {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
      return (await res.json()) as Health;
    } catch {
      return undefined;
    }
  };
  const deadline = Date.now() + 30_000;
  while (!done && Date.now() < deadline) {
    if (await health()) break;
    await sleep(100);
  }
  return {
    port: o.port,
    proc,
    output: () => out,
    health,
    exited: () => exit,
    async stop() {
      if (done) return exit;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      const code = await exit;
      clearTimeout(t);
      return code;
    },
  };
}

/** polls `fn` until `ok` holds or `timeoutMs` passes; the last value and whether it held */
export async function waitFor<T>(
  fn: () => Promise<T> | T,
  ok: (v: T) => boolean,
  timeoutMs: number,
  stepMs = 200,
): Promise<{ value: T; ok: boolean; ms: number }> {
  const start = Date.now();
  let value = await fn();
  while (!ok(value)) {
    if (Date.now() - start >= timeoutMs) return { value, ok: false, ms: Date.now() - start };
    await sleep(stepMs);
    value = await fn();
  }
  return { value, ok: true, ms: Date.now() - start };
}

/** waits until the daemon has read every transcript to its end and stored it (events stable) */
export async function settle(d: DaemonProcess, timeoutMs = 30_000): Promise<boolean> {
  let last = -1;
  let stableSince = Date.now();
  const r = await waitFor(
    () => d.health(),
    (h) => {
      if (!h) return false;
      const n = h.store.events;
      const quiet =
        h.pipeline.pendingEvents === 0 && !(h.pipeline.heldEvents ?? 0) && h.sources.every((s) => !s.lagMs);
      if (n !== last || !quiet) {
        last = n;
        stableSince = Date.now();
        return false;
      }
      return Date.now() - stableSince >= 2500;
    },
    timeoutMs,
    250,
  );
  return r.ok;
}

let otlpSeq = 0;
/** one OTLP run span (agent.started + agent.finished) for session `key`; the HTTP status */
export async function postOtlpRun(port: number, key: string): Promise<number> {
  const n = ++otlpSeq;
  const now = BigInt(Date.now()) * 1_000_000n;
  const hex = (v: number, len: number) => v.toString(16).padStart(len, '0');
  const body = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'openclaw-gateway' } }] },
        scopeSpans: [
          {
            scope: { name: 'openclaw' },
            spans: [
              {
                traceId: hex(n, 32),
                spanId: hex(n, 16),
                name: 'openclaw.run',
                startTimeUnixNano: String(now - 50_000_000n),
                endTimeUnixNano: String(now),
                attributes: [{ key: 'openclaw.session.key', value: { stringValue: key } }],
              },
            ],
          },
        ],
      },
    ],
  };
  try {
    const res = await fetch(`http://127.0.0.1:${port}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
    return res.status;
  } catch {
    return 0;
  }
}

export interface StoreLook {
  exists: boolean;
  /** per transcript session: line number → times stored */
  lines: Map<string, Map<number, number>>;
  /** OTLP session key → agent.started events stored */
  otlp: Map<string, number>;
  /** files:<path> offsets: their pos */
  offsets: Map<string, number>;
  events: number;
}

/** what the store file holds (the daemon must be stopped) */
export function lookIntoStore(dbPath: string): StoreLook {
  const look: StoreLook = { exists: false, lines: new Map(), otlp: new Map(), offsets: new Map(), events: 0 };
  try {
    statSync(dbPath);
  } catch {
    return look;
  }
  look.exists = true;
  const store = createSqliteStore(dbPath);
  try {
    let after = 0;
    for (let page = 0; page < 10_000; page++) {
      const got: StoredEvent[] = store.readAfter(after, 5000);
      if (!got.length) break;
      for (const { event } of got) {
        look.events++;
        if (event.type === 'assistant.text') {
          const m = /^rel (\d+) line (\d+)/.exec((event as { text: string }).text);
          if (!m) continue;
          const per = look.lines.get(event.sessionKey) ?? new Map<number, number>();
          per.set(Number(m[2]), (per.get(Number(m[2])) ?? 0) + 1);
          look.lines.set(event.sessionKey, per);
        } else if (event.type === 'agent.started' && event.sessionKey.startsWith('agent:main:otlp-')) {
          look.otlp.set(event.sessionKey, (look.otlp.get(event.sessionKey) ?? 0) + 1);
        }
      }
      after = (got.at(-1) as StoredEvent).seq;
    }
    for (const o of store.listOffsets('files:')) {
      const pos = (o.value as { pos?: number }).pos;
      if (typeof pos === 'number') look.offsets.set(o.key.slice('files:'.length), pos);
    }
  } finally {
    store.close();
  }
  return look;
}

/** lines of the writer's truth missing from the store, and lines stored more than once */
export function compareLines(
  look: StoreLook,
  writer: Writer,
): { lost: number; doubled: number; total: number } {
  let lost = 0;
  let doubled = 0;
  for (const t of writer.truth()) {
    const per = look.lines.get(t.key) ?? new Map<number, number>();
    for (let k = 1; k <= t.lines; k++) {
      const c = per.get(k) ?? 0;
      if (c === 0) lost++;
      if (c > 1) doubled += c - 1;
    }
  }
  return { lost, doubled, total: writer.total() };
}

/** a clawpulse CLI command run to its end (bounded): stdout, stderr, status */
export function runCli(
  args: string[],
  o: DaemonEnv,
): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: REPO,
    env: daemonEnv(o),
    encoding: 'utf8',
    timeout: 60_000,
    ...(o.uid !== undefined ? { uid: o.uid, gid: o.gid ?? o.uid } : {}),
  });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

/**
 * The transcript sessions as `clawpulse sessions --json` (the store's model) and `clawpulse
 * replay <state dir> --json` (the transcripts read from scratch) see them: tokens per session.
 */
export function modelVsReplay(o: DaemonEnv, keys: readonly string[]): { agree: boolean; detail: string } {
  type J = {
    sessions: Array<{ sessionKey: string; tokens: { total?: number; input: number; output: number } }>;
  };
  const parse = (s: string): J => {
    try {
      return JSON.parse(s) as J;
    } catch {
      return { sessions: [] };
    }
  };
  const stored = parse(runCli(['sessions', '--json'], o).stdout);
  const replay = parse(runCli(['replay', o.layout.stateDir, '--json'], o).stdout);
  const tok = (j: J, k: string) => {
    const s = j.sessions.find((x) => x.sessionKey === k);
    return s ? s.tokens.input + s.tokens.output : undefined;
  };
  const diffs = keys.filter((k) => tok(stored, k) !== tok(replay, k));
  return {
    agree: diffs.length === 0,
    detail: diffs.map((k) => `${k}: store ${tok(stored, k)} vs replay ${tok(replay, k)}`).join('; '),
  };
}

/** fills what is left of a filesystem with one file (bounded by `maxBytes`); the bytes written */
export function fillUp(file: string, maxBytes: number): number {
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(64 * 1024, 0x61);
  let written = 0;
  try {
    while (written < maxBytes) {
      try {
        written += writeSync(fd, block);
      } catch {
        break; // ENOSPC: full
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

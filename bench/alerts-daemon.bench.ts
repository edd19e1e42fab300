/**
 * Event → alert at the webhook, through the real daemon (`clawpulse start` in its own process).
 * (bench/alerts.bench.ts measures the engine in process: its ingest cost and in-process latency.)
 *
 * `npm run bench -- alerts-daemon [samples]` (default 50): N OpenClaw sessions, each with a run
 * open (header + user line), followed by the daemon on a temporary state dir with
 * ALERT_WEBHOOK_URL pointing at a receiver in this process (127.0.0.1) that checks every
 * request's HMAC signature (ALERT_WEBHOOK_SECRET). Then, one session at a time, the writer
 * appends the assistant line of a failed run (stopReason error, a 529) and fsyncs it; that one
 * line fires the run-failed rule at once (one alert per session: each sample is a new
 * condition). From the moment the append began (the line is written with write() + fsync; the
 * daemon may read it before fsync returns, so timing from fsync's return would hide that part):
 *
 * - webhook: until the receiver has the alert (signed, rule run-failed, state firing, that session);
 * - baseline, same line, same run: until the line's agent.finished arrives over SSE
 *   (/api/stream), the dashboard's path (tail, normalize, store, stream). The ratio of the two is
 *   what the alert path (rules, engine, alert store, queue, pace, HTTP POST) costs on top;
 * - split by the daemon's clock (same machine, ms resolution): write → alert fired (firedAt),
 *   and fired → received (the destination's queue, pace and POST).
 *
 * - Samples are spaced 250 ms apart at least: the webhook destination paces 5 alerts/s (burst
 *   10); spaced wider, each sample finds an idle daemon and a token in the bucket, so no sample
 *   waits for the one before. ALERT_ERROR_BURST_COUNT=0: 50 failed runs in a minute are also a
 *   burst, one fleet alert more that is not what is measured.
 * - Bounded: 10 s per sample, 120 s for all of them. A sample whose alert did not arrive (the
 *   bench stops there), a bad signature or an alert sent twice fails the bench: it throws, and
 *   `npm run bench` exits 1.
 * - The daemon runs from source through tsx (module loading aside, the same code as the built
 *   CLI), so this bench neither needs nor rewrites dist/; timings start once it is caught up.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, get, type IncomingMessage } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { benchSessionId } from './support.js';

const DEFAULT_SAMPLES = 50;
const SAMPLE_TIMEOUT_MS = 10_000;
const ALL_SAMPLES_MS = 120_000;
/** the webhook destination's pace is 5/s: samples further apart never wait for a token */
const SAMPLE_GAP_MS = 250;
const START_LIMIT_MS = 60_000;

const root = fileURLToPath(new URL('..', import.meta.url));
/** absolute ms, high resolution, the same in the writer's thread */
const clock = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const keyOf = (i: number) => `agent:main:bench:alert:${i}`;

/** nearest-rank percentile */
const pct = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1))] ?? Number.NaN;
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** one transcript line as OpenClaw writes it */
const line = (o: Record<string, unknown>) => `${JSON.stringify(o)}\n`;

/** N transcripts with a run open in each, and their sessions.json */
function writeSessions(sessionsDir: string, n: number): void {
  mkdirSync(sessionsDir, { recursive: true });
  const index: Record<string, unknown> = {};
  const now = Date.now();
  const iso = new Date(now).toISOString();
  for (let i = 0; i < n; i++) {
    const id = benchSessionId(i);
    writeFileSync(
      join(sessionsDir, `${id}.jsonl`),
      line({ type: 'session', version: 3, id, timestamp: iso, cwd: '/home/oc/bench' }) +
        line({
          type: 'message',
          id: 'a0000001',
          parentId: null,
          timestamp: iso,
          message: { role: 'user', content: `bench alert ${i}: please work`, timestamp: now },
        }),
    );
    index[keyOf(i)] = { sessionId: id, updatedAt: now };
  }
  writeFileSync(join(sessionsDir, 'sessions.json'), JSON.stringify(index));
}

/**
 * The writer, in a worker thread (like OpenClaw, another writer): its write() + fsync never
 * holds this thread's event loop, which stamps the arrivals. It answers when the append began
 * on both clocks (the daemon may read the line once write() returns, while fsync still runs)
 * and what append + fsync took. Times are absolute (timeOrigin + now) so both threads agree.
 */
const WRITER = `
const fs = require('node:fs');
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ file, text }) => {
  const fd = fs.openSync(file, 'a');
  const wallAt = Date.now();
  const at = performance.timeOrigin + performance.now();
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  parentPort.postMessage({ at, wallAt, writeMs: performance.timeOrigin + performance.now() - at });
});
`;

interface Written {
  at: number;
  wallAt: number;
  writeMs: number;
}

function startWriter(sessionsDir: string) {
  const worker = new Worker(WRITER, { eval: true });
  // one append at a time: the sample waits for it
  let pending: { resolve(w: Written): void; reject(err: unknown): void } | undefined;
  worker.on('message', (w: Written) => pending?.resolve(w));
  worker.on('error', (err) => pending?.reject(err));
  return {
    /** appends the line that fails session i's run, fsynced */
    failRun(i: number): Promise<Written> {
      const now = Date.now();
      const text = line({
        type: 'message',
        id: 'a0000002',
        parentId: 'a0000001',
        timestamp: new Date(now).toISOString(),
        message: {
          role: 'assistant',
          content: [],
          stopReason: 'error',
          errorMessage: '529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
          usage: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, totalTokens: 0 },
          provider: 'anthropic',
          model: 'claude-sonnet-4-5',
          timestamp: now,
        },
      });
      return new Promise((resolve, reject) => {
        pending = { resolve, reject };
        worker.postMessage({ file: join(sessionsDir, `${benchSessionId(i)}.jsonl`), text });
      });
    },
    stop: () => worker.terminate(),
  };
}

interface Arrival {
  at: number;
  firedAt?: number;
}

/**
 * The webhook receiver: checks each request as a real one would (POST, JSON, the HMAC over
 * "<timestamp>.<raw body>", a timestamp within 5 minutes) and answers 401 when it is not signed
 * right. Firing run-failed alerts are noted by session key at the moment their body was read.
 */
async function startReceiver(secret: string) {
  const alerts = new Map<string, Arrival[]>();
  const other: string[] = [];
  let bad = 0;
  let requests = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = clock();
      requests++;
      const body = Buffer.concat(chunks);
      const ts = String(req.headers['x-clawpulse-timestamp'] ?? '');
      const sig = Buffer.from(String(req.headers['x-clawpulse-signature'] ?? ''));
      const want = Buffer.from(
        `sha256=${createHmac('sha256', secret).update(`${ts}.`).update(body).digest('hex')}`,
      );
      const fresh = /^\d+$/.test(ts) && Math.abs(Date.now() - Number(ts)) < 300_000;
      if (
        req.method !== 'POST' ||
        !String(req.headers['content-type']).startsWith('application/json') ||
        !fresh ||
        sig.length !== want.length ||
        !timingSafeEqual(sig, want)
      ) {
        bad++;
        res.writeHead(401).end('bad signature');
        return;
      }
      const a = JSON.parse(body.toString('utf8')) as {
        rule?: string;
        state?: string;
        sessionKey?: string;
        firedAt?: number;
      };
      if (a.rule === 'run-failed' && a.state === 'firing' && a.sessionKey) {
        const list = alerts.get(a.sessionKey) ?? [];
        list.push({ at, firedAt: a.firedAt });
        alerts.set(a.sessionKey, list);
      } else other.push(`${a.rule}/${a.state}`);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/clawpulse`,
    alerts,
    other,
    bad: () => bad,
    requests: () => requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** the daemon's SSE stream: the first agent.finished per session key, noted when its frame was read */
function followStream(port: number) {
  const finished = new Map<string, number>();
  let snapshot = false;
  let req: ReturnType<typeof get> | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    req = get(`http://127.0.0.1:${port}/api/stream`, (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        reject(new Error(`/api/stream answered ${res.statusCode}`));
        return;
      }
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (chunk: string) => {
        const at = clock();
        buf += chunk;
        for (let end = buf.indexOf('\n\n'); end >= 0; end = buf.indexOf('\n\n')) {
          const frame = buf.slice(0, end);
          buf = buf.slice(end + 2);
          if (!snapshot && frame.includes('event: snapshot')) {
            snapshot = true;
            resolve();
          }
          if (!frame.includes('event: pulse')) continue;
          const data = frame.split('\n').find((l) => l.startsWith('data: '));
          if (!data) continue;
          const { event } = JSON.parse(data.slice(6)) as { event: { type: string; sessionKey?: string } };
          if (event.type === 'agent.finished' && event.sessionKey && !finished.has(event.sessionKey))
            finished.set(event.sessionKey, at);
        }
      });
    });
    req.on('error', (err) => {
      if (!snapshot) reject(err);
    });
  });
  return { finished, ready, close: () => req?.destroy() };
}

interface Running {
  port: number;
  stop(): Promise<void>;
}

async function json<T>(url: string): Promise<T | undefined> {
  try {
    const res = await fetch(url);
    return res.ok ? ((await res.json()) as T) : undefined;
  } catch {
    return undefined;
  }
}

/** `clawpulse start` from source; resolves once it lists all `n` sessions and its store is still */
async function startDaemon(dir: string, n: number, env: Record<string, string>): Promise<Running> {
  const port = await freePort();
  const proc: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'start'],
    {
      cwd: root,
      env: {
        ...process.env,
        HOME: dir,
        OPENCLAW_STATE_DIR: join(dir, 'openclaw'),
        CLAWPULSE_HOME: join(dir, 'clawpulse'),
        HEALTH_PORT: String(port),
        SOURCES: 'files',
        LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((r) =>
    proc.once('exit', (code) => {
      exitCode = code;
      r();
    }),
  );
  const running: Running = {
    port,
    async stop() {
      if (exitCode === undefined) proc.kill('SIGTERM');
      await exited;
    },
  };
  const t0 = performance.now();
  let last = -1;
  for (;;) {
    if (exitCode !== undefined) throw new Error(`the daemon exited (code ${exitCode}) before it was ready`);
    if (performance.now() - t0 > START_LIMIT_MS) {
      await running.stop();
      throw new Error('the daemon did not list the sessions in time');
    }
    const list = await json<{ total: number }>(`http://127.0.0.1:${port}/api/sessions?limit=1`);
    const health = await json<{ store?: { events?: number } }>(`http://127.0.0.1:${port}/health`);
    const events = health?.store?.events ?? -1;
    if (list && list.total >= n && events > 0 && events === last) return running;
    last = events;
    await sleep(250);
  }
}

async function waitUntil(cond: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) return false;
    await sleep(1);
  }
  return true;
}

export async function run(): Promise<Record<string, number | string>> {
  const arg = process.argv[4];
  const n = arg ? Number(arg) : DEFAULT_SAMPLES;
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw new Error(`samples: a count from 1 to 1000, not ${arg}`);

  const dir = mkdtempSync(join(tmpdir(), 'clawpulse-bench-alerts-'));
  const sessionsDir = join(dir, 'openclaw', 'agents', 'main', 'sessions');
  const secret = randomBytes(24).toString('hex');
  const hook = await startReceiver(secret);
  let daemon: Running | undefined;
  let stream: ReturnType<typeof followStream> | undefined;
  const writer = startWriter(sessionsDir);
  try {
    writeSessions(sessionsDir, n);
    daemon = await startDaemon(dir, n, {
      ALERT_WEBHOOK_URL: hook.url,
      ALERT_WEBHOOK_SECRET: secret,
      ALERT_ERROR_BURST_COUNT: '0',
    });
    const s = followStream(daemon.port);
    stream = s;
    await s.ready;

    const appendMs: number[] = [];
    const webhookMs: number[] = [];
    const sseMs: number[] = [];
    const firedMs: number[] = [];
    const deliverMs: number[] = [];
    const missed: string[] = [];
    const began = performance.now();
    let taken = 0;
    for (let i = 0; i < n && performance.now() - began < ALL_SAMPLES_MS; i++) {
      const key = keyOf(i);
      const startedAt = performance.now();
      const { at, wallAt, writeMs } = await writer.failRun(i);
      appendMs.push(writeMs);
      taken++;
      const complete = await waitUntil(() => hook.alerts.has(key) && s.finished.has(key), SAMPLE_TIMEOUT_MS);
      const alert = hook.alerts.get(key)?.[0];
      const seen = s.finished.get(key);
      if (seen !== undefined) sseMs.push(seen - at);
      if (alert) {
        webhookMs.push(alert.at - at);
        if (alert.firedAt !== undefined) {
          firedMs.push(alert.firedAt - wallAt);
          // the arrival on the wall clock, from the performance clock's interval
          deliverMs.push(wallAt + (alert.at - at) - alert.firedAt);
        }
      }
      if (!complete) {
        // the bench fails on it: no point waiting 10 s more for each of the rest
        missed.push(`${key}${alert ? '' : ' (no alert)'}${seen === undefined ? ' (not on SSE)' : ''}`);
        break;
      }
      await sleep(Math.max(0, SAMPLE_GAP_MS - (performance.now() - startedAt)));
    }
    // an alert sent twice would follow within the pace's wait: give it a moment
    await sleep(500);
    const twice = [...hook.alerts].filter(([, l]) => l.length > 1).map(([k]) => k);

    if (webhookMs.length === 0) throw new Error(`no alert reached the webhook (${hook.requests()} requests)`);
    if (missed.length)
      throw new Error(`${missed.length} of ${taken} samples incomplete: ${missed.slice(0, 5).join(', ')}`);
    if (hook.bad()) throw new Error(`${hook.bad()} webhook requests were not signed right`);
    if (twice.length) throw new Error(`alerts sent more than once for ${twice.slice(0, 5).join(', ')}`);

    return {
      samples: taken,
      'the append + fsync itself: p50 ms': pct(appendMs, 50),
      'write -> SSE agent.finished: p50 ms': pct(sseMs, 50),
      'write -> SSE: p99 ms': pct(sseMs, 99),
      'write -> SSE: max ms': Math.max(...sseMs),
      'write -> alert at the webhook: p50 ms': pct(webhookMs, 50),
      'write -> webhook: p99 ms': pct(webhookMs, 99),
      'write -> webhook: max ms': Math.max(...webhookMs),
      'webhook / SSE at p50 (x)': pct(webhookMs, 50) / pct(sseMs, 50),
      'webhook / SSE at p99 (x)': pct(webhookMs, 99) / pct(sseMs, 99),
      'write -> alert fired (daemon clock): p50 ms': pct(firedMs, 50),
      'fired -> received (queue, pace, POST): p50 ms': pct(deliverMs, 50),
      'fired -> received: p99 ms': pct(deliverMs, 99),
      'webhook requests (all signed, verified)': hook.requests(),
      'other alerts at the webhook': hook.other.length ? hook.other.join(' ') : 'none',
    };
  } finally {
    stream?.close();
    await writer.stop();
    await daemon?.stop();
    await hook.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

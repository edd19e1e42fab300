/**
 * SSE burst: a real daemon (startDaemon, in-process) ingests bursts of 78k events while 90
 * dashboard streams read and 10 stall (a socket that sends its GET and never reads). The
 * clients live in a child process, so their parsing does not take the daemon's thread.
 *
 * - every reading client gets every event id, in order, with no `gap` (a reader that lost its
 *   stream would come back with Last-Event-ID, as a browser does; none should)
 * - the stalled clients are closed once they have read nothing for the stall limit (60 s)
 * - ingest with the 100 clients runs within 20 % of ingest without: rounds of a burst without
 *   clients and one with them, in the same daemon; the best of each compared, on CPU time (the
 *   machine is shared: wall-clock rates move by more than 20 % from one burst to the next)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { type Daemon, startDaemon } from '../../src/daemon/daemon.js';
import { silentLogger } from '../../src/infra/logger.js';
import type { PulseEvent } from '../../src/model/events.js';
import { freePort, sleep } from '../support/reliability-kit.js';

const BURST = 78_000;
const WARMUP = 20_000;
const READERS = 90;
const STALLED = 10;
const BATCH = 200;
const SESSIONS = 40;
/** the hub's default stall limit plus its watchdog's period and slack */
const STALL_WAIT_MS = 80_000;
/** bursts without and with clients, alternating: the best of each is compared */
const ROUNDS = 4;

const fig = (name: string, value: string | number) =>
  console.log(`[reliability] sse-burst: ${name} ${value}`);

/**
 * a seeded generator of realistic events: each batch is one session's (one transcript read):
 * turns of text, tool calls and model calls
 */
function* events(tag: string, n: number): Generator<PulseEvent> {
  const ts0 = Date.now();
  const keys = Array.from({ length: SESSIONS }, (_, s) => `agent:main:burst-${tag}-${s}`);
  const count = new Array<number>(SESSIONS).fill(0);
  for (let i = 0; i < n; ) {
    const s = Math.floor(i / BATCH) % SESSIONS;
    const sessionKey = keys[s] as string;
    for (let j = 0; j < BATCH && i < n; j++, i++) {
      const k = count[s] as number;
      count[s] = k + 1;
      const base = { ts: ts0 + k, source: 'files' as const, agentId: 'main', sessionKey };
      if (k === 0) {
        yield { ...base, type: 'session.seen', dedupeKey: `${sessionKey}:seen`, label: `burst ${tag}` };
        continue;
      }
      if (k === 1) {
        yield { ...base, type: 'agent.started', dedupeKey: `${sessionKey}:start`, runId: 'run-1' };
        continue;
      }
      const run = { ...base, runId: 'run-1' };
      switch (k % 4) {
        case 0:
          yield {
            ...run,
            type: 'assistant.text',
            dedupeKey: `${sessionKey}:t${k}`,
            text: `Looking at the build output for step ${k}; the next thing to check is the config loader.`,
          };
          break;
        case 1:
          yield {
            ...run,
            type: 'tool.call',
            dedupeKey: `${sessionKey}:c${k}`,
            callId: `call-${k}`,
            name: 'exec',
            args: `rg -n "loadConfig" src --max-count ${k}`,
          };
          break;
        case 2:
          yield {
            ...run,
            type: 'tool.output',
            dedupeKey: `${sessionKey}:o${k}`,
            callId: `call-${k - 1}`,
            name: 'exec',
            durationMs: 120,
          };
          break;
        default:
          yield {
            ...run,
            type: 'llm.tokens',
            dedupeKey: `${sessionKey}:m${k}`,
            input: 1200,
            output: 180,
            cacheRead: 9000,
            cacheWrite: 0,
            reasoning: 0,
            costUsd: 0.0041,
          };
      }
    }
  }
}

interface Rate {
  /** events per wall-clock second */
  wall: number;
  /**
   * events per second of this process's CPU time (user + system): what the burst cost the
   * daemon, SSE work included, whatever else the machine runs (it is shared: load varies)
   */
  cpu: number;
}

/** ingests the events in batches (a file source's reads), yielding between them */
async function burst(d: Daemon, tag: string, n: number): Promise<Rate> {
  const all = [...events(tag, n)];
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < all.length; i += BATCH) {
    d.pipeline.ingest(all.slice(i, i + BATCH));
    await new Promise((r) => setImmediate(r));
  }
  d.store.flush();
  const cpu = process.cpuUsage(cpu0);
  return {
    wall: all.length / ((performance.now() - t0) / 1000),
    cpu: all.length / ((cpu.user + cpu.system) / 1e6),
  };
}

/**
 * The clients: plain http streams parsed as a browser would (a reader that loses its stream
 * comes back with Last-Event-ID after 50 ms), and raw sockets that send their GET and never
 * read. Commands come over IPC; each `connect` starts a round of fresh readers.
 */
const CLIENTS = String.raw`
import http from 'node:http';
import net from 'node:net';
const url = process.env.URL;
const u = new URL(url);
let target = Infinity;
let readers = [];
const stalled = [];
function report() {
  process.send({
    type: 'report',
    readers: readers.map(({ req, buf, ...r }) => r),
    stalled: stalled.map((s) => ({ closed: s.closed })),
  });
}
function connect(r) {
  const headers = { accept: 'text/event-stream' };
  if (r.lastId !== undefined) headers['last-event-id'] = String(r.lastId);
  r.buf = '';
  r.req = http.get(url, { headers, agent: false }, (res) => {
    if (res.statusCode !== 200) { r.refused++; res.resume(); setTimeout(() => connect(r), 500); return; }
    res.setEncoding('latin1');
    res.on('data', (chunk) => {
      const buf = r.buf + chunk;
      let from = 0;
      let i = buf.indexOf('\n\n');
      while (i >= 0) {
        frame(r, buf, from, i);
        from = i + 2;
        i = buf.indexOf('\n\n', from);
      }
      r.buf = buf.slice(from);
      if (!r.done && r.lastId >= target) r.done = true;
    });
    res.on('close', () => {
      if (r.closing) return;
      r.reconnects++;
      setTimeout(() => connect(r), 50);
    });
  });
  r.req.on('error', () => {});
}
function frame(r, buf, a, b) {
  if (buf.startsWith('retry: ', a)) {
    const nl = buf.indexOf('\n', a);
    if (nl < 0 || nl >= b) return;
    a = nl + 1;
  }
  if (buf.startsWith('id: ', a)) {
    const nl = buf.indexOf('\n', a);
    const id = Number(buf.slice(a + 4, nl));
    if (buf.startsWith('event: pulse', nl + 1)) {
      r.pulses++;
      if (id !== r.expect) {
        r.outOfOrder++;
        if (id > r.expect) r.missed += id - r.expect;
      }
      r.lastId = id;
      r.expect = id + 1;
    } else if (buf.startsWith('event: snapshot', nl + 1)) {
      r.snapshots++;
      r.lastId = id;
      r.expect = id + 1;
    }
  } else if (buf.startsWith('event: gap', a)) {
    const d = buf.indexOf('data: ', a);
    const g = JSON.parse(buf.slice(d + 6, b));
    r.gaps++;
    r.missed += g.to - g.from + 1;
    r.expect = g.to + 1;
  } else if (buf.startsWith('event: snapshot', a)) {
    r.snapshots++;
  }
}
process.on('message', (m) => {
  if (m.type === 'connect') {
    target = Infinity;
    readers = [];
    for (let i = 0; i < m.readers; i++) {
      const r = { i, lastId: undefined, expect: 0, pulses: 0, snapshots: 0, outOfOrder: 0, missed: 0, gaps: 0, reconnects: 0, refused: 0, done: false };
      readers.push(r);
      connect(r);
    }
  }
  if (m.type === 'stall') {
    for (let i = 0; i < m.stalled; i++) {
      const s = { closed: false };
      s.sock = net.connect(Number(u.port), u.hostname, () => {
        s.sock.write('GET ' + u.pathname + ' HTTP/1.1\r\nHost: ' + u.host + '\r\nAccept: text/event-stream\r\n\r\n');
        s.sock.pause();
      });
      s.sock.on('error', () => {});
      s.sock.on('close', () => { s.closed = true; });
      stalled.push(s);
    }
  }
  if (m.type === 'target') target = m.seq;
  if (m.type === 'report') report();
  if (m.type === 'disconnect') {
    for (const r of readers) { r.closing = true; r.req.destroy(); }
    report();
  }
  if (m.type === 'drain-stalled') {
    // a closed socket's end waits behind the data it never read: read it now
    for (const s of stalled) s.sock.resume();
    setTimeout(report, 3000);
  }
  if (m.type === 'exit') {
    for (const r of readers) { r.closing = true; r.req.destroy(); }
    for (const s of stalled) s.sock.destroy();
    process.exit(0);
  }
});
process.send({ type: 'started' });
`;

interface ReaderReport {
  i: number;
  lastId?: number;
  pulses: number;
  snapshots: number;
  outOfOrder: number;
  missed: number;
  gaps: number;
  reconnects: number;
  refused: number;
  done: boolean;
}
interface Report {
  type: 'report';
  readers: ReaderReport[];
  stalled: Array<{ closed: boolean }>;
}

let dir: string;
let daemon: Daemon | undefined;
let child: ChildProcess | undefined;

afterAll(async () => {
  child?.kill('SIGKILL');
  await daemon?.stop('test over');
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

async function until(
  pred: () => Promise<boolean> | boolean,
  timeoutMs: number,
  stepMs = 100,
): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await pred()) return true;
    await sleep(stepMs);
  }
  return pred();
}

it('serves 90 reading clients every event through a burst, closes the 10 stalled ones, and keeps ingest', async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawpulse-rel-sse-'));
  fs.mkdirSync(path.join(dir, 'openclaw', 'agents'), { recursive: true });
  const config = loadConfig({
    OPENCLAW_STATE_DIR: path.join(dir, 'openclaw'),
    CLAWPULSE_HOME: path.join(dir, 'home'),
    HEALTH_PORT: String(await freePort()),
    SOURCES: 'files',
    LOG_LEVEL: 'silent',
    SSE_MAX_CLIENTS: '200',
  });
  const d = await startDaemon(config, { logger: silentLogger });
  daemon = d;
  const port = d.port;
  const clients = () => metric(port, 'clawpulse_sse_clients');

  const proc = spawn(process.execPath, ['--input-type=module', '-e', CLIENTS], {
    env: { ...process.env, URL: `http://127.0.0.1:${port}/api/stream` },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  child = proc;
  let last: Report | undefined;
  proc.on('message', (m: Report | { type: string }) => {
    if (m.type === 'report') last = m as Report;
  });
  const report = async (cmd: 'report' | 'disconnect' = 'report'): Promise<Report> => {
    last = undefined;
    proc.send({ type: cmd });
    await until(() => last !== undefined, 10_000, 20);
    if (!last) throw new Error('the client process did not report');
    return last;
  };

  await burst(d, 'warm', WARMUP);
  const without: Rate[] = [];
  const withClients: Rate[] = [];
  const rounds: Array<{ readers: ReaderReport[]; target: number; first: number; caughtUpMs: number }> = [];
  let tStalled = 0;
  let tClosed = 0;
  let rssPeak = 0;
  let rssPeakWithout = 0;
  // rounds of a burst without clients, then one with 90 readers (and, from the first round on,
  // the 10 stalled sockets): the machine is shared, so the best of each is compared
  for (let round = 0; round < ROUNDS; round++) {
    const rssA = process.memoryUsage().rss;
    const samplerA = setInterval(() => {
      rssPeakWithout = Math.max(rssPeakWithout, process.memoryUsage().rss - rssA);
    }, 50);
    without.push(await burst(d, `a${round}`, BURST));
    clearInterval(samplerA);
    proc.send({ type: 'connect', readers: READERS });
    if (round === 0) {
      proc.send({ type: 'stall', stalled: STALLED });
      tStalled = Date.now();
      // when the server had closed ten clients for not reading
      const poll = setInterval(async () => {
        const n = await metric(port, 'clawpulse_sse_dropped_slow_total').catch(() => 0);
        if (n >= STALLED && !tClosed) tClosed = Date.now();
        if (tClosed) clearInterval(poll);
      }, 500);
    }
    // every reader has its snapshot (and the stalled ones are connected, unless closed since)
    const ready = () => until(async () => (await report()).readers.every((r) => r.snapshots >= 1), 20_000);
    expect(await ready()).toBe(true);
    if (round === 0)
      expect(await until(async () => (await clients()) === READERS + STALLED, 20_000)).toBe(true);
    const first = d.store.lastSeq() + 1;
    const rss0 = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss - rss0);
    }, 50);
    withClients.push(await burst(d, `b${round}`, BURST));
    const target = d.store.lastSeq();
    const burstEnd = Date.now();
    proc.send({ type: 'target', seq: target });
    // every reader caught up (bounded)
    await until(async () => (await report()).readers.every((r) => r.done), 40_000, 250);
    const caughtUpMs = Date.now() - burstEnd;
    clearInterval(sampler);
    rounds.push({ readers: (await report('disconnect')).readers, target, first, caughtUpMs });
    await until(async () => (await clients()) <= STALLED, 10_000);
  }

  // the stalled clients have read nothing since the first round: closed after the stall limit
  const stalledClosed = await until(
    async () =>
      (await clients()) === 0 && (await metric(port, 'clawpulse_sse_dropped_slow_total')) >= STALLED,
    STALL_WAIT_MS - (Date.now() - tStalled),
    500,
  );
  await until(() => tClosed > 0, 2000, 100);
  const stalledClosedAfterS = ((tClosed || Date.now()) - tStalled) / 1000;
  const droppedSlow = await metric(port, 'clawpulse_sse_dropped_slow_total');
  last = undefined;
  proc.send({ type: 'drain-stalled' });
  await until(() => last !== undefined, 10_000, 50);
  const stalled = (last as Report | undefined)?.stalled ?? [];
  proc.send({ type: 'exit' });

  const best = (rs: Rate[], k: keyof Rate) => Math.max(...rs.map((x) => x[k]));
  const ratio = {
    wall: best(withClients, 'wall') / best(without, 'wall'),
    cpu: best(withClients, 'cpu') / best(without, 'cpu'),
  };
  const all = rounds.flatMap((r) => r.readers.map((x) => ({ ...x, target: r.target })));
  const complete = all.filter(
    (r) => r.done && r.outOfOrder === 0 && r.missed === 0 && r.gaps === 0 && r.lastId === r.target,
  ).length;
  const sum = (f: (r: ReaderReport) => number) => all.reduce((a, r) => a + f(r), 0);
  const list = (rs: Rate[], k: keyof Rate) => rs.map((x) => Math.round(x[k])).join(' / ');
  fig('burst events', `${BURST} × ${ROUNDS} rounds, ${READERS} readers + ${STALLED} stalled`);
  fig('ingest without clients ev/s (wall, per round)', list(without, 'wall'));
  fig('ingest with 100 clients ev/s (wall, per round)', list(withClients, 'wall'));
  fig('ingest without clients ev/cpu-s (per round)', list(without, 'cpu'));
  fig('ingest with 100 clients ev/cpu-s (per round)', list(withClients, 'cpu'));
  fig('ingest ratio with/without, best of rounds (wall)', ratio.wall.toFixed(3));
  fig('ingest ratio with/without, best of rounds (cpu)', ratio.cpu.toFixed(3));
  fig('load average 1m', os.loadavg()[0]?.toFixed(2) ?? '?');
  fig('reader streams with every event in order', `${complete}/${all.length}`);
  fig(
    'events missed by readers (sum)',
    sum((r) => r.missed),
  );
  fig(
    'gap messages (sum)',
    sum((r) => r.gaps),
  );
  fig(
    'out-of-order ids (sum)',
    sum((r) => r.outOfOrder),
  );
  fig(
    'reader reconnects (sum)',
    sum((r) => r.reconnects),
  );
  fig('readers caught up after each burst ms', rounds.map((r) => r.caughtUpMs).join(' / '));
  fig('server closed as stalled', droppedSlow);
  fig(
    'stalled closed',
    `${stalled.filter((s) => s.closed).length}/${STALLED} (${stalledClosed ? `${stalledClosedAfterS.toFixed(1)} s after they stalled` : 'not within the wait'})`,
  );
  fig(
    'rss growth during a burst MB (max; without / with clients)',
    `${(rssPeakWithout / 1e6).toFixed(0)} / ${(rssPeak / 1e6).toFixed(0)}`,
  );

  for (const r of rounds) {
    expect(r.target - r.first + 1).toBe(BURST);
    for (const x of r.readers) {
      expect({
        reader: x.i,
        missed: x.missed,
        gaps: x.gaps,
        outOfOrder: x.outOfOrder,
        reconnects: x.reconnects,
      }).toEqual({
        reader: x.i,
        missed: 0,
        gaps: 0,
        outOfOrder: 0,
        reconnects: 0,
      });
      expect(x.lastId).toBe(r.target);
    }
  }
  expect(complete).toBe(ROUNDS * READERS);
  expect(stalledClosed).toBe(true);
  expect(droppedSlow).toBe(STALLED);
  expect(stalled.every((s) => s.closed)).toBe(true);
  // on the best of the rounds, and on CPU time: other processes on a shared machine move a
  // single wall-clock rate by more than 20 % (the wall-clock figures are printed beside it)
  expect(ratio.cpu).toBeGreaterThanOrEqual(0.8);
});

/**
 * kill -9 a PostgreSQL writer mid-batch: a writer process appends a known sequence of events
 * (event i has dedupe key `e<i>`) in seeded batches through `createPgStore`, each batch with the
 * source offset it reaches, committed in groups every few milliseconds. It is killed with SIGKILL
 * at seeded random moments, CYCLES times; each restart resumes from its committed offset and, as
 * a file source re-reading a partial line would, sends a few events before it again. At the end
 * the host's rows must be exactly the writer's truth: events 0..N-1 at seqs 1..N, each once,
 * and the offset at N: nothing lost, nothing doubled, no seq skipped.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSyncPg } from '../../src/store/pg/sync-pg.js';
import { type PgCluster, startPostgres } from '../support/postgres.js';
import { prng, sleep } from '../support/reliability-kit.js';

const CYCLES = Number(process.env.RELIABILITY_KILL_CYCLES) || 10;
const EVENTS = 30_000;
const HOST = 'crash-host';
const STORE = new URL('../../src/store/pg/pg-store.ts', import.meta.url).href;

/** the writer: argv url, total events, seed; prints `ready <pos>`, `at <pos>` per batch, `dup <n>`, `done` */
const WRITER = `
import { createPgStore } from ${JSON.stringify(STORE)};
const [url, total, seed] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
let a = (seed >>> 0) || 1;
const rand = () => { a = (a + 0x6d2b79f5) >>> 0; let t = Math.imul(a ^ (a >>> 15), a | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
const store = createPgStore(url, { host: ${JSON.stringify(HOST)}, writer: true, commitDelayMs: 5, leaseWaitMs: 15000 });
const committed = store.getOffset('truth')?.pos ?? 0;
const ev = (i) => ({ type: 'assistant.text', ts: 1_700_000_000_000 + i, source: 'files', sessionKey: 'agent:main:s' + (i % 5),
  agentId: 'main', dedupeKey: 'e' + i, text: 'line ' + i + ' ' + 'x'.repeat(100 + (i % 200)) });
// a source re-reads a little before its offset after a crash: those must come back as duplicates
let i = Math.max(0, committed - Math.floor(rand() * 30));
console.log('ready ' + committed);
let dup = 0;
while (i < total) {
  const n = Math.min(total - i, 1 + Math.floor(rand() * 60));
  const batch = Array.from({ length: n }, (_, k) => ev(i + k));
  i += n;
  dup += store.append(batch, [{ key: 'truth', value: { pos: i } }]).duplicates;
  console.log('at ' + i);
  if (rand() < 0.05) store.flush();
  await new Promise((r) => setTimeout(r, rand() < 0.5 ? 0 : 2));
}
store.flush();
store.close();
console.log('dup ' + dup);
console.log('done');
`;

let cluster: PgCluster;
beforeAll(async () => {
  cluster = await startPostgres();
});
afterAll(() => cluster?.stop());

interface Writer {
  proc: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
}

function startWriter(url: string, seed: number): Writer {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', WRITER, url, String(EVENTS), String(seed)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines: string[] = [];
  let buf = '';
  proc.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    for (const p of parts) lines.push(p);
  });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((resolve) =>
    proc.on('exit', (code) => {
      if (code !== 0 && code !== null) lines.push(`stderr ${err}`);
      resolve(code);
    }),
  );
  return { proc, lines, exited };
}

async function waitFor(w: Writer, prefix: string, ms: number): Promise<string> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    const line = w.lines.find((l) => l.startsWith(prefix));
    if (line) return line;
    if (w.proc.exitCode !== null)
      throw new Error(`writer exited ${w.proc.exitCode}: ${w.lines.slice(-3).join(' | ')}`);
    await sleep(20);
  }
  throw new Error(`writer printed no "${prefix}" within ${ms} ms: ${w.lines.slice(-3).join(' | ')}`);
}

describe('kill -9 a PostgreSQL writer mid-batch', () => {
  it(`loses, doubles and skips nothing over ${CYCLES} SIGKILLs`, async () => {
    const seed = Number(process.env.RELIABILITY_SEED) || 0x5eed;
    const rand = prng(seed);
    const url = await cluster.createDatabase('pg_crash');
    const check = openSyncPg(url);
    const cycles: Array<{ resumedAt: number; appendedTo: number; committedAfter: number }> = [];
    const rollbacks = (): number => {
      check.query('SELECT pg_stat_clear_snapshot()');
      return (
        check.query<{ n: number }>(
          'SELECT xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()',
        )[0]?.n ?? 0
      );
    };
    const rollbacksBefore = rollbacks();
    try {
      for (let c = 0; c < CYCLES; c++) {
        const w = startWriter(url, seed + c);
        const resumedAt = Number((await waitFor(w, 'ready ', 30_000)).slice(6));
        await sleep(150 + rand() * 700);
        w.proc.kill('SIGKILL');
        await w.exited;
        const appended = w.lines.filter((l) => l.startsWith('at ')).map((l) => Number(l.slice(3)));
        const [o] = check.query<{ value: string }>(
          'SELECT value FROM clawpulse_offsets WHERE host = $1 AND key = $2',
          [HOST, 'truth'],
        );
        const committedAfter = o ? (JSON.parse(o.value) as { pos: number }).pos : 0;
        cycles.push({ resumedAt, appendedTo: appended[appended.length - 1] ?? resumedAt, committedAfter });
        if (committedAfter >= EVENTS) break;
      }
      // a backend whose client died inside BEGIN … COMMIT rolls the transaction back on exit
      const killedInTx = rollbacks() - rollbacksBefore;
      // the last run goes to the end
      const last = startWriter(url, seed + CYCLES);
      await waitFor(last, 'done', 120_000);
      expect(await last.exited).toBe(0);

      const rows = check.query<{ seq: number; dedupe_key: string }>(
        'SELECT seq, dedupe_key FROM clawpulse_events WHERE host = $1 ORDER BY seq',
        [HOST],
      );
      const lost = rows.length < EVENTS ? EVENTS - rows.length : 0;
      expect(rows.length).toBe(EVENTS);
      // seq j+1 holds event j: in order, each once, no gap
      const wrong = rows.filter((r, j) => r.seq !== j + 1 || r.dedupe_key !== `e${j}`);
      expect(wrong.slice(0, 3)).toEqual([]);
      const [offset] = check.query<{ value: string }>(
        'SELECT value FROM clawpulse_offsets WHERE host = $1 AND key = $2',
        [HOST, 'truth'],
      );
      expect(offset?.value).toBe(JSON.stringify({ pos: EVENTS }));
      const [host] = check.query<{ last_seq: number; stopped: boolean }>(
        'SELECT last_seq, stopped_at IS NOT NULL AS stopped FROM clawpulse_hosts WHERE host = $1',
        [HOST],
      );
      expect(host).toEqual({ last_seq: EVENTS, stopped: true });

      // a kill lost appended-but-uncommitted events (and their offsets) when the committed
      // offset stayed behind what the writer had appended: they were read and written again
      const midGroup = cycles.filter((x) => x.committedAfter < x.appendedTo).length;
      const redone = cycles.reduce((n, x) => n + Math.max(0, x.appendedTo - x.committedAfter), 0);
      const dup = Number(last.lines.find((l) => l.startsWith('dup '))?.slice(4) ?? 0);
      process.stdout.write(
        `[reliability] pg-crash: ${cycles.length} SIGKILLs, ${killedInTx} inside an open transaction (xact_rollback), ${midGroup} with appended events not yet committed (${redone} events re-sent), ` +
          `last run dropped ${dup} re-read duplicates; ${rows.length} events, lost ${lost}, seqs 1..${rows.length} gap-free\n`,
      );
      expect(cycles.length).toBeGreaterThanOrEqual(Math.min(CYCLES, 3));
      // the test did what it says: some kills fell inside a commit (about 8 in 10 do)
      expect(killedInTx).toBeGreaterThanOrEqual(1);
    } finally {
      check.close();
    }
  }, 300_000);
});

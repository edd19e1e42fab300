import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PgCluster, startPostgres } from '../../../test/support/postgres.js';
import type { PulseEvent } from '../../model/events.js';
import { describeEventStoreContract } from '../event-store.contract.js';
import { HOLD_FULL } from '../sqlite-store.js';
import { HOST_TAKEN } from './pg-host-lease.js';
import { createPgStore, type PgStore } from './pg-store.js';
import { openSyncPg, type SyncPg } from './sync-pg.js';

let cluster: PgCluster;
/** the cluster's maintenance database, for CREATE DATABASE from the synchronous `open` */
let admin: SyncPg;
beforeAll(async () => {
  cluster = await startPostgres();
  admin = openSyncPg(cluster.url);
});
const opened: PgStore[] = [];
afterAll(() => {
  for (const s of opened) s.close();
  admin?.close();
  cluster?.stop();
});

/** a fresh database per name (made on first use) */
const made = new Set<string>();
function database(name: string): string {
  const db = `t_${name.replace(/[^a-z0-9_]/gi, '_')}`.toLowerCase();
  if (!made.has(db)) {
    admin.query(`CREATE DATABASE ${db}`);
    made.add(db);
  }
  return cluster.urlFor(db);
}

function store(name: string, host = 'h1', more: Partial<Parameters<typeof createPgStore>[1]> = {}): PgStore {
  const s = createPgStore(database(name), { host, writer: true, leaseWaitMs: 200, ...more });
  opened.push(s);
  return s;
}

describeEventStoreContract('postgres', (id) => store(`contract_${id}`));

const ev = (n: number, key = 'agent:main:main'): PulseEvent => ({
  type: 'assistant.text',
  ts: 1000 + n,
  source: 'files',
  sessionKey: key,
  agentId: 'main',
  dedupeKey: `k${n}`,
  text: `line ${n}`,
});
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);
const sleep = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

describe('PostgreSQL store', () => {
  it('refuses a second writer for the same host, naming the first (pid, hostname, since)', () => {
    const first = store('lease');
    first.append([ev(1)]);
    let err: unknown;
    try {
      store('lease');
    } catch (e) {
      err = e;
    }
    expect((err as { code?: string }).code).toBe(HOST_TAKEN);
    expect(String(err)).toContain(`host "h1" is already written by another clawpulse`);
    expect(String(err)).toContain(`pid ${process.pid} on ${hostname()} since 20`);
    expect(String(err)).toContain('CLAWPULSE_HOST');
    // a reader takes no lease; another host id is another writer
    const reader = createPgStore(database('lease'), { host: 'h1', writer: false });
    expect(reader.lastSeq()).toBe(0); // not committed yet
    first.flush();
    expect(reader.lastSeq()).toBe(1);
    expect(() => reader.append([ev(2)])).toThrow(/opened to read/);
    reader.close();
    store('lease', 'h2').close();
    // the lease goes with the writer: a new one may start
    first.close();
    const next = store('lease');
    expect(next.append([ev(2)]).stored[0]?.seq).toBe(2);
    next.close();
  });

  it('a writer that lost its connection takes its lease again before writing, or writes nothing', () => {
    const a = store('retake');
    a.append([ev(1)]);
    a.flush();
    const pid = a.pg().query<{ pid: number }>('SELECT pg_backend_pid() AS pid')[0]?.pid;
    const killer = openSyncPg(database('retake'));
    killer.query('SELECT pg_terminate_backend($1)', [pid]);
    // the lease went with the connection: another writer for h1 may start now
    const b = store('retake', 'h1', { leaseWaitMs: 3000 });
    expect(a.append([ev(2)]).stored[0]?.seq).toBe(2);
    let err = '';
    for (let i = 0; i < 60 && !/already written/.test(err); i++) {
      try {
        a.flush();
        err = 'written';
      } catch (e) {
        err = String(e);
        sleep(100);
      }
    }
    expect(err).toMatch(/host "h1" is already written by another clawpulse/);
    expect(a.heldEvents()).toBe(1);
    expect(killer.query('SELECT count(*) AS n FROM clawpulse_events')).toEqual([{ n: 1 }]);
    b.close();
    // once the other is gone, the first takes its lease again and writes what it held
    let written = false;
    for (let i = 0; i < 60 && !written; i++) {
      try {
        a.flush();
        written = true;
      } catch {
        sleep(100);
      }
    }
    expect(written).toBe(true);
    expect(killer.query('SELECT seq FROM clawpulse_events ORDER BY seq')).toEqual([{ seq: 1 }, { seq: 2 }]);

    // had the other written meanwhile, the first must not go on numbering over its rows
    const apid = a.pg().query<{ pid: number }>('SELECT pg_backend_pid() AS pid')[0]?.pid;
    killer.query('SELECT pg_terminate_backend($1)', [apid]);
    const c = store('retake', 'h1', { leaseWaitMs: 3000 });
    c.append([ev(3)]);
    c.close();
    expect(a.append([ev(4)]).stored[0]?.seq).toBe(3);
    err = '';
    for (let i = 0; i < 60 && !/another writer wrote/.test(err); i++) {
      try {
        a.flush();
        err = 'written';
      } catch (e) {
        err = String(e);
        sleep(100);
      }
    }
    expect(err).toMatch(
      /another writer wrote its events \(up to seq 3\) while this clawpulse was disconnected \(at seq 2\)/,
    );
    expect(killer.query('SELECT dedupe_key FROM clawpulse_events WHERE seq = 3')).toEqual([
      { dedupe_key: 'k3' },
    ]);
    // it let the lease go: the host can be started again
    store('retake', 'h1', { leaseWaitMs: 3000 }).close();
    killer.close();
  });

  it('keeps two hosts in one database apart: seqs, dedupe, offsets, kv, snapshots', () => {
    const a = store('two_hosts', 'alpha');
    const b = store('two_hosts', 'bravo');
    expect(
      a.append([ev(1), ev(2)], [{ key: 'files:/x', value: { pos: 2 } }]).stored.map((e) => e.seq),
    ).toEqual([1, 2]);
    // the same facts on another host are other facts, numbered from 1
    expect(b.append([ev(1)], [{ key: 'files:/x', value: { pos: 1 } }]).stored.map((e) => e.seq)).toEqual([1]);
    a.kvSet('ns', 'k', 'from-a');
    b.kvSet('ns', 'k', 'from-b');
    a.flush();
    b.flush();
    a.close();
    b.close();
    const a2 = store('two_hosts', 'alpha');
    const b2 = store('two_hosts', 'bravo');
    expect([a2.lastSeq(), b2.lastSeq()]).toEqual([2, 1]);
    expect(b2.append([ev(2)]).stored[0]?.seq).toBe(2);
    expect(a2.append([ev(2)]).duplicates).toBe(1);
    expect([a2.getOffset('files:/x'), b2.getOffset('files:/x')]).toEqual([{ pos: 2 }, { pos: 1 }]);
    expect([a2.kvGet('ns', 'k'), b2.kvGet('ns', 'k')]).toEqual(['from-a', 'from-b']);
    expect(a2.readSession('agent:main:main').map((e) => e.seq)).toEqual([1, 2]);
    b2.flush();
    const rows = a2
      .pg()
      .query<{ host: string; n: number; last: number }>(
        'SELECT e.host, count(*) AS n, h.last_seq AS last FROM clawpulse_events e JOIN clawpulse_hosts h USING (host) GROUP BY e.host, h.last_seq ORDER BY e.host',
      );
    expect(rows).toEqual([
      { host: 'alpha', n: 2, last: 2 },
      { host: 'bravo', n: 2, last: 2 },
    ]);
  });

  it('notifies clawpulse_events with <host>:<last seq> in each commit', async () => {
    const url = database('notify');
    const s = store('notify', 'gw-1');
    const listener = new pg.Client({ connectionString: url });
    await listener.connect();
    try {
      const got: string[] = [];
      listener.on('notification', (n) => got.push(`${n.channel} ${n.payload}`));
      await listener.query('LISTEN clawpulse_events');
      s.append([ev(1), ev(2)]);
      expect(got).toEqual([]);
      s.flush();
      s.append([ev(3)]);
      s.flush();
      for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      expect(got).toEqual(['clawpulse_events gw-1:2', 'clawpulse_events gw-1:3']);
    } finally {
      await listener.end();
    }
  });

  it('holds appends while the database is down, then writes them as they were: nothing lost or doubled', () => {
    const s = store('outage', 'h1', { commitDelayMs: 60_000, maxHeldEvents: 6, timeoutMs: 2000 });
    s.append(
      range(1, 3).map((n) => ev(n)),
      [{ key: 'files:/a', value: { pos: 3 } }],
    );
    s.flush();
    cluster.stopServer('fast');
    try {
      // accepted with their seqs while the database is gone
      expect(
        s
          .append(
            range(4, 6).map((n) => ev(n)),
            [{ key: 'files:/a', value: { pos: 6 } }],
          )
          .stored.map((e) => e.seq),
      ).toEqual([4, 5, 6]);
      expect(() => s.flush()).toThrow(/PostgreSQL at 127\.0\.0\.1:\d+ is unavailable/);
      expect(s.heldEvents()).toBe(3);
      expect(s.stats().error).toMatch(/unavailable/);
      // a second sighting while held is still a duplicate
      const r = s.append([ev(5), ev(7), ev(8), ev(9)], [{ key: 'files:/a', value: { pos: 9 } }]);
      expect(r.duplicates).toBe(1);
      expect(r.stored.map((e) => e.seq)).toEqual([7, 8, 9]);
      expect(s.heldEvents()).toBe(6);
      let full: unknown;
      try {
        s.append([ev(10)]);
      } catch (e) {
        full = e;
      }
      expect((full as { code?: string }).code).toBe(HOLD_FULL);
      expect(s.readAfter(5, 10).map((e) => e.seq)).toEqual([6, 7, 8, 9]);
      expect(s.getOffset('files:/a')).toEqual({ pos: 9 });
    } finally {
      cluster.startServer();
    }
    let written = false;
    for (let i = 0; i < 100 && !written; i++) {
      try {
        s.flush();
        written = true;
      } catch {
        sleep(100);
      }
    }
    expect(written).toBe(true);
    expect(s.heldEvents()).toBe(0);
    expect(s.stats().error).toBeUndefined();
    expect(s.append([ev(10)]).stored[0]?.seq).toBe(10);
    s.flush();
    const rows = s
      .pg()
      .query<{ seq: number; dedupe_key: string }>(
        'SELECT seq, dedupe_key FROM clawpulse_events ORDER BY seq',
      );
    expect(rows.map((r) => r.seq)).toEqual(range(1, 10));
    expect(rows.map((r) => r.dedupe_key)).toEqual(range(1, 10).map((n) => `k${n}`));
    expect(s.pg().query('SELECT value FROM clawpulse_offsets')).toEqual([{ value: '{"pos":9}' }]);
    // the lease was taken again on the new connection: a second writer is still refused
    expect(() => store('outage')).toThrow(/already written/);
  });

  it('takes keys PostgreSQL text cannot hold, and fails an unserializable append alone', () => {
    const s = store('bad_input');
    const nul = { ...ev(1, 'agent:main:a\u0000b'), dedupeKey: 'k\u00001' };
    expect(s.append([nul]).stored.map((e) => e.seq)).toEqual([1]);
    s.flush();
    expect(s.readSession('agent:main:a\u0000b').map((e) => e.seq)).toEqual([1]);
    expect(s.append([nul]).duplicates).toBe(1);
    const bad = { ...ev(2), extra: 10n } as unknown as PulseEvent;
    expect(() => s.append([ev(3), bad])).toThrow(/append failed.*BigInt/);
    // nothing of the failed append stays: its good event is new again, at the next seq
    expect(s.append([ev(3)]).stored.map((e) => e.seq)).toEqual([2]);
    s.flush();
    expect(s.readAfter(0, 10).map((e) => e.event.dedupeKey)).toEqual(['k\u00001', 'k3']);
  });

  it('applies the migrations once when two processes start together', async () => {
    const url = database('migrate_race');
    const script = `
      import { applyMigrations, migrations, registerMigrations } from './src/store/pg/migrations.ts';
      import { openSyncPg } from './src/store/pg/sync-pg.ts';
      registerMigrations({ id: '9999-slow', sql: 'SELECT pg_sleep(0.8)' });
      const pg = openSyncPg(process.argv[1]);
      const at = Date.parse(process.argv[2]);
      while (Date.now() < at) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
      console.log(JSON.stringify({ applied: applyMigrations(pg), all: migrations().map((m) => m.id) }));
      pg.close();`;
    const startAt = new Date(Date.now() + 3000).toISOString();
    const run = () =>
      new Promise<{ applied: string[]; all: string[] }>((resolve, reject) => {
        const p = spawn(
          process.execPath,
          ['--import', 'tsx', '--input-type=module', '-e', script, url, startAt],
          {
            cwd: process.cwd(),
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        let out = '';
        let err = '';
        p.stdout.on('data', (d) => {
          out += d;
        });
        p.stderr.on('data', (d) => {
          err += d;
        });
        p.on('exit', (code) =>
          code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`exit ${code}: ${err}`)),
        );
      });
    const [one, two] = await Promise.all([run(), run()]);
    const applied = [one.applied, two.applied].sort((x, y) => y.length - x.length);
    expect(applied[0]).toEqual(one.all);
    expect(applied[1]).toEqual([]);
    const check = openSyncPg(url);
    const recorded = check
      .query<{ id: string }>('SELECT id FROM clawpulse_migrations ORDER BY id')
      .map((r) => r.id);
    check.close();
    expect(recorded).toEqual(one.all);
  }, 60_000);
});

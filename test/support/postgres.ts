/**
 * A throwaway PostgreSQL cluster for tests: `initdb` into a temporary folder, `pg_ctl start` on
 * a free port on 127.0.0.1 (and a socket in the folder), trust auth. Run as the `postgres` user
 * when the tests run as root (PostgreSQL refuses to run as root). `stop()` ends only the server
 * it started (pg_ctl stop on its own data folder) and removes the folder.
 *
 * Debian's `postgresql` package puts the binaries in /usr/lib/postgresql/<major>/bin; `.ci/run`
 * installs it when missing.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface PgCluster {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  /** creates a fresh database and returns its URL */
  createDatabase(name: string): Promise<string>;
  /** a URL for a database (made or not) on this cluster */
  urlFor(database: string): string;
  /** pg_ctl stop -m immediate|fast; `restart()` starts it again on the same port */
  stopServer(mode?: 'fast' | 'immediate'): void;
  startServer(): void;
  /** stops the server and removes its folder */
  stop(): void;
}

/** the folder of Debian's PostgreSQL binaries (the newest major installed), or undefined */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root)
    .filter((d) => existsSync(join(root, d, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] ? join(root, majors[0], 'bin') : undefined;
}

/** true when PostgreSQL's server binaries are installed */
export const postgresAvailable = (): boolean => postgresBinDir() !== undefined;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

const asRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/** runs a PostgreSQL binary, as the postgres user when we are root */
function run(bin: string, args: string[]): string {
  if (!asRoot()) return execFileSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const quoted = [bin, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  return execFileSync('su', ['postgres', '-s', '/bin/sh', '-c', quoted], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function owner(): { uid: number; gid: number } | undefined {
  if (!asRoot()) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/**
 * Starts a cluster; throws with the install hint when PostgreSQL is not installed.
 * `settings` are extra `-c name=value` server settings.
 */
export async function startPostgres(settings: Record<string, string> = {}): Promise<PgCluster> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL is not installed: apt-get install -y postgresql (.ci/run does)');
  const dir = mkdtempSync(join(tmpdir(), 'clawpulse-pg-'));
  const data = join(dir, 'data');
  const who = owner();
  chmodSync(dir, 0o755);
  if (who) chownSync(dir, who.uid, who.gid);
  run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  const opts = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses='127.0.0.1'",
    '-c fsync=off',
    '-c max_connections=200',
    ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`),
  ].join(' ');
  const startServer = (): void => {
    run(join(bin, 'pg_ctl'), [
      '-D',
      data,
      '-o',
      opts,
      '-l',
      join(dir, 'server.log'),
      '-w',
      '-t',
      '60',
      'start',
    ]);
  };
  const stopServer = (mode: 'fast' | 'immediate' = 'fast'): void => {
    try {
      run(join(bin, 'pg_ctl'), ['-D', data, '-m', mode, '-w', 'stop']);
    } catch {
      // already stopped
    }
  };
  startServer();
  const urlFor = (database: string): string => `postgres://postgres@127.0.0.1:${port}/${database}`;
  let stopped = false;
  return {
    url: urlFor('postgres'),
    port,
    urlFor,
    async createDatabase(name: string): Promise<string> {
      const client = new pg.Client({ connectionString: urlFor('postgres') });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name.replaceAll('"', '')}"`);
      } finally {
        await client.end();
      }
      return urlFor(name);
    },
    stopServer,
    startServer,
    stop(): void {
      if (stopped) return;
      stopped = true;
      stopServer('immediate');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

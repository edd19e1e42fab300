/** Doctor checks on this machine: Node, the OpenClaw state dir, the HTTP port, the store. */
import fs from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import JSON5 from 'json5';
import type { Config } from '../../config/config.js';
import { readLivePid } from '../../infra/pidfile.js';
import { agentSqlitePath, agentsDir, configPath, sessionsJsonPath } from '../../openclaw/paths.js';
import { hostForUrl } from '../start.js';
import { type CheckResult, fail, ok, skip, warn } from './report.js';

export const MIN_NODE = { major: 20, minor: 19 };

export function checkNode(version = process.versions.node): CheckResult {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const name = 'Node';
  if (major < MIN_NODE.major || (major === MIN_NODE.major && minor < MIN_NODE.minor))
    return fail(
      name,
      `${version} is too old: clawpulse needs ${MIN_NODE.major}.${MIN_NODE.minor} or later`,
      'install Node 24 (what OpenClaw itself needs) or 22 LTS, then reinstall clawpulse (npm install -g clawpulse)',
    );
  return ok(name, `${version}${major < 24 ? ' (OpenClaw itself needs Node 24 or later)' : ''}`);
}

interface StateLayout {
  agents: string[];
  sqlite: string[];
  files: string[];
  schema?: number;
  touchedVersion?: string;
  hasConfig: boolean;
  imported: boolean;
}

function readLayout(stateDir: string): StateLayout {
  let agents: string[] = [];
  try {
    agents = fs
      .readdirSync(agentsDir(stateDir), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    // no agents/ yet
  }
  const sqlite = agents.filter((a) => fs.existsSync(agentSqlitePath(stateDir, a)));
  const files = agents.filter((a) => fs.existsSync(sessionsJsonPath(stateDir, a)));
  const layout: StateLayout = {
    agents,
    sqlite,
    files,
    hasConfig: fs.existsSync(configPath(stateDir)),
    imported: agents.some((a) =>
      fs.existsSync(path.join(agentsDir(stateDir), a, 'sessions', 'session-sqlite-import-archive')),
    ),
  };
  if (sqlite[0]) {
    try {
      const db = new Database(agentSqlitePath(stateDir, sqlite[0]), { readonly: true, fileMustExist: true });
      try {
        layout.schema = Number(db.pragma('user_version', { simple: true }));
      } finally {
        db.close();
      }
    } catch {
      // locked or unreadable: the layout still says enough
    }
  }
  if (layout.hasConfig) {
    try {
      const cfg = JSON5.parse(fs.readFileSync(configPath(stateDir), 'utf8')) as {
        meta?: { lastTouchedVersion?: unknown };
      };
      if (typeof cfg?.meta?.lastTouchedVersion === 'string')
        layout.touchedVersion = cfg.meta.lastTouchedVersion;
    } catch {
      // the gateway check says when openclaw.json is unreadable
    }
  }
  return layout;
}

export function checkStateDir(config: Readonly<Config>): CheckResult {
  const dir = config.sources.stateDir;
  const name = 'OpenClaw state';
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (err) {
    return fail(
      name,
      `no OpenClaw state dir at ${dir} (${(err as NodeJS.ErrnoException).code})`,
      'set OPENCLAW_STATE_DIR (or --state-dir) to the folder OpenClaw keeps its state in (openclaw.json, agents/); the default is ~/.openclaw of the user running OpenClaw',
    );
  }
  if (!st.isDirectory())
    return fail(name, `${dir} is not a folder`, 'point OPENCLAW_STATE_DIR at the state folder');
  try {
    fs.accessSync(dir, fs.constants.R_OK | fs.constants.X_OK);
  } catch {
    return fail(
      name,
      `${dir} is not readable by this user`,
      'run clawpulse as the user that runs OpenClaw, or give this user read access (e.g. its group)',
    );
  }
  const l = readLayout(dir);
  const release = l.touchedVersion ? `, last written by OpenClaw ${l.touchedVersion}` : '';
  if (l.agents.length === 0)
    return warn(
      name,
      `${dir}: no agents yet (agents/ is empty${l.hasConfig ? '' : ', no openclaw.json'})${release}`,
      'run an agent once (openclaw agent …), or check OPENCLAW_STATE_DIR',
    );
  const parts: string[] = [];
  if (l.sqlite.length)
    parts.push(
      `SQLite session store in ${l.sqlite.length} of ${l.agents.length} agent${l.agents.length === 1 ? '' : 's'}${l.schema !== undefined ? ` (agent schema ${l.schema})` : ''}: OpenClaw 2026.7.2 or later`,
    );
  if (l.files.length)
    parts.push(
      `JSONL transcripts in ${l.files.length} agent${l.files.length === 1 ? '' : 's'}${l.sqlite.length ? ' (older sessions)' : ': OpenClaw 2026.7.1 or earlier'}`,
    );
  if (!parts.length) parts.push(`${l.agents.length} agents, no sessions yet`);
  if (l.imported) parts.push('JSONL already imported into SQLite');
  return ok(name, `${dir}: ${parts.join('; ')}${release}`);
}

function listenOnce(host: string, port: number): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => resolve(err));
    srv.listen(port, host, () => srv.close(() => resolve(undefined)));
  });
}

export async function checkPort(config: Readonly<Config>): Promise<CheckResult> {
  const { host, port } = config.http;
  const name = 'HTTP port';
  const where = `${host}:${port}`;
  if (config.http.disabled) return skip(name, 'HEALTH_PORT=0: no HTTP server (no dashboard, API, /health)');
  if (port === 0) return ok(name, `${host}, any free port (HEALTH_PORT=any)`);
  const pid = readLivePid(config.pidFile);
  if (pid) {
    try {
      const res = await fetch(`http://${hostForUrl(host)}:${port}/health`, {
        headers: config.http.dashboardToken ? { authorization: `Bearer ${config.http.dashboardToken}` } : {},
        signal: AbortSignal.timeout(3000),
      });
      if (res.status === 200 || res.status === 503)
        return ok(name, `${where}: the running clawpulse (pid ${pid}) answers /health (${res.status})`);
      return warn(
        name,
        `${where}: clawpulse (pid ${pid}) runs, /health answered ${res.status}`,
        res.status === 401 ? 'set DASHBOARD_TOKEN here to the daemon’s token' : 'see clawpulse logs',
      );
    } catch (err) {
      return fail(
        name,
        `clawpulse (pid ${pid}) runs but ${where} does not answer (${(err as Error).message})`,
        'it may use other settings (HEALTH_PORT, HTTP_HOST) than this shell: compare with its env, or restart it (clawpulse stop; clawpulse start --fork)',
      );
    }
  }
  const err = await listenOnce(host, port);
  if (!err) return ok(name, `${where} is free for the dashboard, API and /health`);
  if (err.code === 'EADDRINUSE')
    return fail(
      name,
      `${where} is in use by another program`,
      'stop that program, or set HEALTH_PORT (or --port) to a free port',
    );
  if (err.code === 'EACCES')
    return fail(name, `${where}: not allowed to listen (${err.code})`, 'use a port above 1023 (HEALTH_PORT)');
  if (err.code === 'EADDRNOTAVAIL')
    return fail(
      name,
      `${host} is not an address of this machine`,
      'set HTTP_HOST to 127.0.0.1, or an address of this machine',
    );
  return fail(name, `${where}: ${err.code ?? err.message}`, 'set HEALTH_PORT / HTTP_HOST');
}

const MB = 1024 * 1024;

/** the folder itself or its nearest existing parent */
function existingParent(dir: string): string {
  let d = dir;
  while (!fs.existsSync(d) && path.dirname(d) !== d) d = path.dirname(d);
  return d;
}

export function checkStore(config: Readonly<Config>, minFreeMb = 200, warnFreeMb = 1024): CheckResult {
  const name = 'store';
  const dir = path.dirname(config.dbPath);
  const base = existingParent(dir);
  try {
    if (base === dir) {
      const probe = path.join(dir, `.clawpulse-doctor-${process.pid}`);
      fs.writeFileSync(probe, 'ok');
      fs.rmSync(probe);
    } else fs.accessSync(base, fs.constants.W_OK);
  } catch (err) {
    return fail(
      name,
      `${dir} is not writable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      'set CLAWPULSE_HOME (or CLAWPULSE_DB) to a folder this user can write',
    );
  }
  let free: number | undefined;
  try {
    const s = fs.statfsSync(base);
    free = s.bavail * s.bsize;
  } catch {
    // statfs unsupported here: report without it
  }
  let size = '';
  try {
    size = `, ${(fs.statSync(config.dbPath).size / MB).toFixed(1)} MB`;
  } catch {
    size = base === dir ? ' (created on first start)' : ` (${dir} is created on first start)`;
  }
  const freeText = free === undefined ? '' : `; ${(free / MB / 1024).toFixed(1)} GB free`;
  if (free !== undefined && free < minFreeMb * MB)
    return fail(
      name,
      `${config.dbPath}${size}${freeText}`,
      `free disk space on that filesystem (clawpulse needs at least ${minFreeMb} MB), or move CLAWPULSE_HOME`,
    );
  if (free !== undefined && free < warnFreeMb * MB)
    return warn(
      name,
      `${config.dbPath}${size}${freeText}`,
      'less than 1 GB free: the store grows with history',
    );
  return ok(name, `${config.dbPath}${size}, writable${freeText}`);
}

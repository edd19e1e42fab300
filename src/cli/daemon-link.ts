/**
 * How CLI commands find and talk to the running daemon (`start`, `up` or `demo`): the PID file
 * says whether one runs, and a run file next to it (`clawpulse.run.json`: pid, URL, kind) says
 * where its HTTP API is, so `status`, `sessions`, `tail` and `stop` reach a daemon on a port
 * picked at start (`--port 0`, the demo on a taken port) or the demo in its temp folder. One
 * source of truth: while a daemon runs, commands ask it instead of reading OpenClaw themselves.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Config } from '../config/config.js';
import { displayStore } from '../config/store-env.js';
import { readLivePid } from '../infra/pidfile.js';

export type DaemonKind = 'daemon' | 'demo';

export interface RunInfo {
  pid: number;
  /** base URL of its HTTP API (no trailing slash); null when HEALTH_PORT=0 turned HTTP off */
  url: string | null;
  kind: DaemonKind;
  /** its store (the demo's lives in a temp folder) */
  db?: string;
  startedAt: number;
}

export interface DaemonLink {
  pid: number;
  kind: DaemonKind;
  /** undefined: it runs without HTTP, or where is not known */
  url?: string;
  db?: string;
}

export function runInfoFile(pidFile: string): string {
  return `${pidFile.replace(/\.pid$/, '')}.run.json`;
}

export function hostForUrl(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::' || host === '::1') return '[::1]';
  return host;
}

/** written once the HTTP server is bound; the returned function removes it (only if still ours) */
export function writeRunInfo(pidFile: string, info: Omit<RunInfo, 'startedAt'>): () => void {
  const file = runInfoFile(pidFile);
  try {
    writeFileSync(file, `${JSON.stringify({ ...info, startedAt: Date.now() })}\n`, { mode: 0o644 });
  } catch {
    // discovery falls back to the configured port
  }
  return () => {
    const now = readRunInfo(pidFile);
    if (!now || now.pid === info.pid) rmSync(file, { force: true });
  };
}

export function readRunInfo(pidFile: string): RunInfo | undefined {
  try {
    const o = JSON.parse(readFileSync(runInfoFile(pidFile), 'utf8')) as Partial<RunInfo>;
    if (typeof o.pid !== 'number') return undefined;
    return {
      pid: o.pid,
      url: typeof o.url === 'string' ? o.url : null,
      kind: o.kind === 'demo' ? 'demo' : 'daemon',
      ...(typeof o.db === 'string' ? { db: o.db } : {}),
      startedAt: typeof o.startedAt === 'number' ? o.startedAt : 0,
    };
  } catch {
    return undefined;
  }
}

/** the running daemon, if any, and where its API is */
export function findDaemon(config: Readonly<Config>): DaemonLink | undefined {
  const pid = readLivePid(config.pidFile);
  if (!pid) return undefined;
  const info = readRunInfo(config.pidFile);
  if (info && info.pid === pid) {
    return {
      pid,
      kind: info.kind,
      ...(info.url ? { url: info.url } : {}),
      ...(info.db ? { db: info.db } : {}),
    };
  }
  // started by an older clawpulse, or the run file is gone: the configured port
  const url =
    config.http.disabled || config.http.port === 0
      ? undefined
      : `http://${hostForUrl(config.http.host)}:${config.http.port}`;
  return { pid, kind: 'daemon', ...(url ? { url } : {}), db: displayStore(config.store) };
}

export function authHeaders(config: Readonly<Config>): Record<string, string> {
  return config.http.dashboardToken ? { authorization: `Bearer ${config.http.dashboardToken}` } : {};
}

export class DaemonHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'DaemonHttpError';
  }
}

/** GET `path` from the daemon as JSON (404 and 5xx included: the caller decides) */
export async function getJson<T>(
  link: DaemonLink,
  config: Readonly<Config>,
  path: string,
  timeoutMs = 5000,
): Promise<{ status: number; body: T }> {
  if (!link.url) throw new DaemonHttpError(0, 'the daemon runs without HTTP (HEALTH_PORT=0)');
  const res = await fetch(`${link.url}${path}`, {
    headers: authHeaders(config),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (res.status === 401)
    throw new DaemonHttpError(401, 'the daemon wants the dashboard token: set DASHBOARD_TOKEN as it has it');
  return { status: res.status, body: (await res.json()) as T };
}

export interface SseMessage {
  event: string;
  data: string;
  id?: string;
}

/**
 * Reads a Server-Sent Events stream (one connection; resolves when it ends). `onMessage` gets
 * every message; `signal` ends it.
 */
export async function readSse(
  link: DaemonLink,
  config: Readonly<Config>,
  path: string,
  onMessage: (m: SseMessage) => void,
  signal: AbortSignal,
): Promise<void> {
  if (!link.url) throw new DaemonHttpError(0, 'the daemon runs without HTTP (HEALTH_PORT=0)');
  const res = await fetch(`${link.url}${path}`, {
    headers: { ...authHeaders(config), accept: 'text/event-stream' },
    signal,
  });
  if (!res.ok || !res.body)
    throw new DaemonHttpError(res.status, `the daemon's stream answered ${res.status}`);
  const decoder = new TextDecoder();
  let buf = '';
  let event = 'message';
  let data: string[] = [];
  let id: string | undefined;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      if (line === '') {
        if (data.length) onMessage({ event, data: data.join('\n'), ...(id !== undefined ? { id } : {}) });
        event = 'message';
        data = [];
        id = undefined;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id') id = value;
    }
  }
}

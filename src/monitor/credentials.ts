/**
 * The credentials file of the openclaw-status-monitor skill,
 * `<state>/credentials/openclaw-status-monitor.json`:
 * `{agentToken, createdAt, monitorUrl, syncIntervalMinutes}` (fields we do not know are kept).
 *
 * Writes are atomic (temp file + rename) and leave the file at mode 0600 in a 0700 folder: it
 * holds a token. The original wrote it with the default umask (often 0644); our first write
 * tightens it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_INTERVAL_MINUTES, DEFAULT_MONITOR_URL } from './paths.js';

export interface MonitorCredentials {
  agentToken?: string;
  createdAt?: string;
  monitorUrl?: string;
  syncIntervalMinutes?: number;
  [other: string]: unknown;
}

export class CredentialsError extends Error {
  constructor(
    public readonly file: string,
    why: string,
  ) {
    super(`${file}: ${why}`);
    this.name = 'CredentialsError';
  }
}

/** the file's content; undefined when it does not exist; CredentialsError when unreadable or not a JSON object */
export function readCredentials(file: string): MonitorCredentials | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new CredentialsError(file, `cannot read it (${code ?? (err as Error).message})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new CredentialsError(file, `not valid JSON (${(err as Error).message})`);
  }
  if (!data || typeof data !== 'object' || Array.isArray(data))
    throw new CredentialsError(file, 'not a JSON object');
  return data as MonitorCredentials;
}

/** writes the whole file atomically, mode 0600 (its folder 0700 when we create it) */
export function writeCredentials(file: string, data: MonitorCredentials): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    fs.writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
    fs.chmodSync(tmp, 0o600);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/** read-modify-write: the fields given replace theirs, the others stay */
export function updateCredentials(file: string, patch: MonitorCredentials): MonitorCredentials {
  const next = { ...(readCredentials(file) ?? {}), ...patch };
  for (const [k, v] of Object.entries(next)) if (v === undefined) delete next[k];
  writeCredentials(file, next);
  return next;
}

export interface MonitorSettings {
  token?: string;
  /** where the token came from, for messages (never the token itself) */
  tokenOrigin?: string;
  /** without a trailing slash */
  url: string;
  intervalMinutes: number;
}

/**
 * What an upload uses: the token from MONITOR_PLATFORM_TOKEN, else the file's `agentToken`;
 * the URL from OPENCLAW_MONITOR_URL (the original's variable), else the file's `monitorUrl`,
 * else the platform's default; the interval from the file's `syncIntervalMinutes`, else 5.
 */
export function resolveSettings(o: {
  file: string;
  credentials?: MonitorCredentials;
  envToken?: string;
  envUrl?: string;
}): MonitorSettings {
  const c = o.credentials ?? {};
  const fileToken = typeof c.agentToken === 'string' && c.agentToken.trim() ? c.agentToken.trim() : undefined;
  const token = o.envToken?.trim() || fileToken;
  const tokenOrigin = o.envToken?.trim() ? 'MONITOR_PLATFORM_TOKEN' : fileToken ? o.file : undefined;
  const url = normalizeUrl(o.envUrl) ?? normalizeUrl(c.monitorUrl) ?? DEFAULT_MONITOR_URL;
  return { token, tokenOrigin, url, intervalMinutes: intervalOf(c) };
}

export function intervalOf(c: MonitorCredentials | undefined): number {
  const v = c?.syncIntervalMinutes;
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : DEFAULT_INTERVAL_MINUTES;
}

/** an http(s) URL without its trailing slashes, else undefined */
export function normalizeUrl(v: unknown): string | undefined {
  if (typeof v !== 'string' || !v.trim()) return undefined;
  try {
    const u = new URL(v.trim());
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    return v.trim().replace(/\/+$/, '');
  } catch {
    return undefined;
  }
}

/** "5 minutes", "1 minute", "0.5 minutes" */
export function minutesText(m: number): string {
  return `${Number(m.toFixed(3))} minute${m === 1 ? '' : 's'}`;
}

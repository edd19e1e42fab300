/**
 * One upload to the agent-monitor platform, as the original did it: `POST <url>/api/upload`,
 * header `x-agent-token`, body `[{"id": "<agentId>"}, …]`, 30 s timeout. On top of the
 * original: a failure that may pass (no answer, 408, 429, 5xx) is tried again with backoff,
 * as long as the retry can finish before `deadline` (the next scheduled upload) and within
 * `maxAttempts`; 401/403 (a bad token) and other 4xx are final at once. An upload asked for
 * while one is under way gets that one's result: never two at once.
 *
 * Each outcome is logged with the original's texts: `Upload success: ['main', 'coding']`,
 * `HTTP error: 401 - Unauthorized` (error log: `HTTP 401: Unauthorized`),
 * `Network error: …` (error log: `Network: …`).
 */
import { STATUS_CODES } from 'node:http';
import type { Clock } from '../infra/clock.js';
import { backoffDelay } from '../sinks/delivery-queue.js';
import { createHttpPoster, DeliveryError, type HttpPoster } from '../sinks/http-post.js';
import { VERSION } from '../version.js';
import type { UploaderLog } from './log-file.js';

export type UploadFailure =
  /** 401 / 403: the platform does not know the token */
  | { kind: 'auth'; status: number; detail: string }
  /** any other answer than 2xx */
  | { kind: 'http'; status: number; detail: string }
  /** no answer: refused, reset, DNS, timeout */
  | { kind: 'network'; detail: string }
  /** stop() while it was under way */
  | { kind: 'aborted'; detail: string };

export type UploadOutcome =
  | { ok: true; status: number; attempts: number; agentIds: string[] }
  | { ok: false; failure: UploadFailure; attempts: number; agentIds: string[] };

export interface UploadRequest {
  /** the platform's base URL (no trailing slash) */
  url: string;
  token: string;
  agentIds: string[];
}

export interface UploadOptions {
  /** clock ms after which no retry starts (the retry must also fit its timeout before it) */
  deadline?: number;
  /** tries in all (default 5) */
  maxAttempts?: number;
}

export interface UploaderOptions {
  clock: Clock;
  log: UploaderLog;
  /** per request (default 30 s, the original's) */
  timeoutMs?: number;
  /** first retry wait (default 5 s), doubled per retry up to maxDelayMs (default 60 s) */
  baseDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
}

export interface Uploader {
  upload(req: UploadRequest, opts?: UploadOptions): Promise<UploadOutcome>;
  /** whether an upload is under way */
  busy(): boolean;
  /** aborts the upload under way (its result is `aborted`) and closes connections */
  close(): Promise<void>;
}

export function createUploader(o: UploaderOptions): Uploader {
  const timeoutMs = o.timeoutMs ?? 30_000;
  const baseDelayMs = o.baseDelayMs ?? 5_000;
  const maxDelayMs = o.maxDelayMs ?? 60_000;
  const random = o.random ?? Math.random;
  let poster: HttpPoster | undefined;
  let posterUrl = '';
  let inflight: Promise<UploadOutcome> | undefined;
  let stop = new AbortController();

  const posterFor = (base: string): HttpPoster => {
    const url = `${base}/api/upload`;
    if (!poster || posterUrl !== url) {
      void poster?.close();
      poster = createHttpPoster({
        url,
        clock: o.clock,
        timeoutMs,
        headers: { 'content-type': 'application/json', 'user-agent': `clawpulse/${VERSION}` },
      });
      posterUrl = url;
    }
    return poster;
  };

  const sleep = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const t = o.clock.setTimeout(done, ms);
      function done() {
        o.clock.clearTimeout(t);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });

  async function run(req: UploadRequest, opts: UploadOptions): Promise<UploadOutcome> {
    const maxAttempts = opts.maxAttempts ?? 5;
    const signal = stop.signal;
    const body = JSON.stringify(req.agentIds.map((id) => ({ id })));
    const target = `${req.url}/api/upload`;
    for (let attempt = 1; ; attempt++) {
      const failure = await once(posterFor(req.url), body, req.token, target, signal);
      if (!failure) {
        o.log.info(`Upload success: ${pyList(req.agentIds)}`);
        return { ok: true, status: 200, attempts: attempt, agentIds: req.agentIds };
      }
      if (failure.kind === 'aborted')
        return { ok: false, failure, attempts: attempt, agentIds: req.agentIds };
      logFailure(o.log, failure);
      const delay = backoffDelay(attempt, baseDelayMs, maxDelayMs, random);
      const fits = opts.deadline === undefined || o.clock.now() + delay + timeoutMs <= opts.deadline;
      if (!retryable(failure) || attempt >= maxAttempts || !fits)
        return { ok: false, failure, attempts: attempt, agentIds: req.agentIds };
      o.log.warn(
        `Retrying the upload in ${Math.round(delay / 100) / 10} s (attempt ${attempt + 1} of ${maxAttempts})`,
      );
      await sleep(delay, signal);
      if (signal.aborted)
        return {
          ok: false,
          failure: { kind: 'aborted', detail: 'stopped' },
          attempts: attempt,
          agentIds: req.agentIds,
        };
    }
  }

  return {
    upload(req, opts = {}) {
      inflight ??= run(req, opts).finally(() => {
        inflight = undefined;
      });
      return inflight;
    },
    busy: () => inflight !== undefined,
    async close() {
      stop.abort(new Error('stopped'));
      await inflight?.catch(() => undefined);
      stop = new AbortController();
      await poster?.close();
      poster = undefined;
    },
  };
}

async function once(
  poster: HttpPoster,
  body: string,
  token: string,
  target: string,
  signal: AbortSignal,
): Promise<UploadFailure | undefined> {
  try {
    await poster.post(body, { 'x-agent-token': token }, signal);
    return undefined;
  } catch (err) {
    if (signal.aborted) return { kind: 'aborted', detail: 'stopped' };
    if (err instanceof DeliveryError && err.status > 0) {
      const detail = answerText(err.responseText);
      if (err.status === 401 || err.status === 403) return { kind: 'auth', status: err.status, detail };
      return { kind: 'http', status: err.status, detail };
    }
    const msg = (err as Error).message ?? String(err);
    // DeliveryError messages start with "POST <url>: "; the target is said once, by us
    // "ECONNREFUSED connect ECONNREFUSED 127.0.0.1:1": the code once is enough
    const why = msg.replace(/^POST \S+: /, '').replace(/^([A-Z_]+) (.*\b\1\b)/, '$2');
    return { kind: 'network', detail: `${why} (${target})` };
  }
}

function retryable(f: UploadFailure): boolean {
  if (f.kind === 'network') return true;
  if (f.kind === 'http') return f.status === 408 || f.status === 429 || f.status >= 500;
  return false;
}

/** the original's log lines for a failed attempt */
export function logFailure(log: UploaderLog, f: UploadFailure): void {
  if (f.kind === 'auth' || f.kind === 'http') {
    const reason = STATUS_CODES[f.status] ?? 'Unknown';
    log.error(
      `HTTP error: ${f.status} - ${reason}${f.detail ? ` (${f.detail})` : ''}`,
      `HTTP ${f.status}: ${reason}`,
    );
  } else if (f.kind === 'network') {
    log.error(`Network error: ${f.detail}`, `Network: ${f.detail}`);
  }
}

/** the platform's `{"error": "..."}`, else the first line of the answer, clipped */
function answerText(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: unknown };
    if (j && typeof j.error === 'string') return j.error.slice(0, 200);
  } catch {
    // not JSON
  }
  return (text.split('\n')[0] ?? '').trim().slice(0, 200);
}

/** Python's repr of a list of strings, as the original logged it: `['main', 'coding']` */
export function pyList(ids: readonly string[]): string {
  const repr = (s: string) =>
    s.includes("'") && !s.includes('"')
      ? `"${s.replace(/\\/g, '\\\\')}"`
      : `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return `[${ids.map(repr).join(', ')}]`;
}

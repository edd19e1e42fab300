/**
 * The legacy file source (OpenClaw ≤ 2026.7): follows `agents/<id>/sessions/*.jsonl` and
 * `sessions.json` under the state dir (plus an extra TRANSCRIPT_DIR / SESSIONS_JSON).
 *
 * Changes are seen through fs.watch (inotify, milliseconds) and, because watch events can be
 * dropped or unsupported (network mounts, some containers), through a scan that stats every
 * followed file: every `pollIntervalMs` while a folder has no working watch, and every
 * `SAFETY_SCAN_MS` at most while all have one (the scan is then only a net for a lost event).
 * Every batch goes to the sink with the file's new offset, so the store saves both together and
 * a restart resumes exactly where it stopped.
 *
 * `pause()` (the pipeline's store does not take events: disk full, read-only) stops reading: a
 * transcript being read stops after the chunk it emitted, no new read starts; `resume()` scans
 * every followed file, and each is read on from its offset.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { type Clock, systemClock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import type { PulseEvent } from '../../model/events.js';
import { agentIdFromPath, agentsDir, isSessionsJsonName, parseTranscriptName } from '../../openclaw/paths.js';
import { fallbackSessionKey } from '../../openclaw/session-key.js';
import { parseSessionsJsonText, sessionEntryToEvents } from '../../openclaw/sessions-json.js';
import type { SourceOffset } from '../../store/event-store.js';
import { createSanitizer, logAnomalies } from '../sanitize.js';
import type { IngestSink, OffsetReader, Source, SourceHealth, SourceState } from '../source.js';
import { createFollower, type FileOffsetValue, type TranscriptFollower } from './follower.js';
import { createSessionIndex } from './session-index.js';
import { createTranscriptListing } from './transcript-listing.js';

export interface FileSourceDeps {
  stateDir: string;
  transcriptDir?: string;
  sessionsJson?: string;
  sink: IngestSink;
  offsets: OffsetReader;
  logger: Logger;
  clock?: Clock;
  pollIntervalMs?: number;
  /** poll only, no fs.watch */
  usePolling?: boolean;
  /** how long a transcript read nothing new before only its offset is kept (default 60 s) */
  restAfterMs?: number;
  /** how long a transcript waits for its session to appear in sessions.json (default 2000 ms) */
  sessionWaitMs?: number;
}

/**
 * A follower (its reader, normalizer and their closures) is ~4 KB of heap: 10,000 finished
 * transcripts in the window held ~40 MB for files that will never grow again. One quiet this
 * long is let go, keeping only its offset (what a restart resumes from); a change brings it back.
 */
export const REST_AFTER_MS = 60_000;

/**
 * How often at most a scan runs while every folder is watched. A scan of 1,000 transcripts took
 * 50 ms of CPU: once a second it cost an idle daemon 5% of a core, and V8 never found the
 * process idle, so it never gave back the memory a burst had grown (`npm run bench -- daemon`,
 * 1,000 transcripts: 371 MB RSS for the 40 s watched; scanned every 15 s, 271 MB after 35 s).
 */
export const SAFETY_SCAN_MS = 15_000;

/**
 * Transcripts read at once (by a scan or on watch events). All of them at once (the first scan
 * of a state dir holding 1,000, or 1,000 files written together) had every file's new lines in
 * memory together, 100 MB of read buffers: the daemon ended that scan at 371 MB RSS, against
 * 168 MB (127 MB once idle) reading 8 at a time (`npm run bench -- daemon`).
 */
const READ_CONCURRENCY = 8;

/**
 * While every folder is watched, a change to a resting transcript arrives as a watch event; the
 * safety scan is there for events the kernel dropped. It checks a quarter of the resting
 * transcripts each time (each once a minute): a stat of all 10,000 every 15 s was ~10 MB of
 * garbage a scan, and kept an idle daemon's young generation grown.
 */
const RESTING_CHECK_SPREAD = 4;

interface StoreStamp {
  mtimeMs: number;
  size: number;
  ino: number;
}

export interface FileSource extends Source {
  /** one full scan (sessions.json, new files, every followed file), awaited: tests, benches, replay tools */
  scanNow(): Promise<void>;
  /** stops reading until `resume` (the store does not take events) */
  pause(): void;
  /** reads on from where each transcript stopped */
  resume(): void;
}

export function createFileSource(deps: FileSourceDeps): FileSource {
  const { sink } = deps;
  const logger = deps.logger.child({ source: 'files' });
  const clock = deps.clock ?? systemClock;
  const pollMs = deps.pollIntervalMs ?? 1000;
  const waitMs = deps.sessionWaitMs ?? 2000;
  const stateDir = path.resolve(deps.stateDir);
  const extraDir = deps.transcriptDir ? path.resolve(deps.transcriptDir) : undefined;
  const extraStore = deps.sessionsJson ? path.resolve(deps.sessionsJson) : undefined;

  const followers = new Map<string, TranscriptFollower>();
  const stores = new Map<string, StoreStamp>();
  const index = createSessionIndex();
  const waiting = new Map<string, unknown>();
  const fallbackKeyed = new Set<string>();
  const watchers = new Map<string, fs.FSWatcher>();
  const inflight = new Set<Promise<unknown>>();
  const saved = new Map<string, unknown>();
  /** transcripts at rest: only their offset kept, woken when the file changes */
  const resting = new Map<string, FileOffsetValue>();
  const listing = createTranscriptListing();
  /** scans so far: which share of the resting transcripts a watched scan checks */
  let scans = 0;
  const restAfterMs = deps.restAfterMs ?? REST_AFTER_MS;
  let state: SourceState = 'stopped';
  let stopped = false;
  /** the pipeline does not take events: no read starts, and a read stops after its chunk */
  let paused = false;
  const isPaused = (): boolean => paused;
  let pollTimer: unknown;
  /** every folder the last scan looked at had a working watch */
  let allWatched = false;
  let malformed = 0;
  let lagMs = 0;
  let lastEventAt: number | undefined;
  /** out-of-bounds numbers and oversized text of every event (src/ingest/sanitize.ts) */
  const sane = createSanitizer({ now: () => clock.now(), onAnomaly: logAnomalies(logger) });

  /** transcripts being read, and the reads waiting for one of them to end */
  let reading = 0;
  const waitingReads: Array<() => void> = [];

  /** runs `read` once fewer than READ_CONCURRENCY transcripts are being read */
  async function limited(read: () => Promise<void>): Promise<void> {
    if (reading >= READ_CONCURRENCY) await new Promise<void>((r) => waitingReads.push(r));
    reading++;
    try {
      await read();
    } finally {
      reading--;
      waitingReads.shift()?.();
    }
  }

  /** reads what a transcript gained, within the read limit (tracked until it ends) */
  function read(f: TranscriptFollower, changed = false): Promise<void> {
    if (paused) return Promise.resolve();
    return track(limited(() => (paused ? Promise.resolve() : f.poll(changed))));
  }

  function track<T>(p: Promise<T>): Promise<T> {
    inflight.add(p);
    p.finally(() => inflight.delete(p)).catch(() => undefined);
    return p;
  }

  function ingest(events: PulseEvent[], offsets: SourceOffset[], lag = 0): void {
    if (stopped && !events.length) return;
    sane.events(events);
    try {
      sink.ingest(events, offsets);
    } catch (err) {
      logger.error({ err, count: events.length }, 'sink rejected a batch from the file source');
      return;
    }
    lagMs = lag;
    for (const e of events) if (lastEventAt === undefined || e.ts > lastEventAt) lastEventAt = e.ts;
  }

  function sessionDirs(): string[] {
    const dirs: string[] = [];
    const root = agentsDir(stateDir);
    try {
      for (const d of fs.readdirSync(root, { withFileTypes: true })) {
        if (d.isDirectory()) dirs.push(path.join(root, d.name, 'sessions'));
      }
    } catch {
      // no agents yet: the state dir watcher / poll finds them when they appear
    }
    if (extraDir) dirs.push(extraDir);
    return dirs;
  }

  async function loadStore(file: string): Promise<void> {
    // read again by the scan that follows a resume
    if (paused) return;
    let st: fs.Stats;
    try {
      st = await fsp.stat(file);
    } catch {
      return;
    }
    const prev = stores.get(file);
    if (prev && prev.mtimeMs === st.mtimeMs && prev.size === st.size && prev.ino === st.ino) return;
    let text: string;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch (err) {
      logger.warn({ err, file }, 'could not read sessions.json');
      return;
    }
    const stamp = { mtimeMs: st.mtimeMs, size: st.size, ino: st.ino };
    const parsed = parseSessionsJsonText(text, agentIdFromPath(file) ?? 'main');
    if ('error' in parsed) {
      malformed++;
      logger.warn(
        { file, error: parsed.error },
        'skipping unreadable sessions.json (retried on its next change)',
      );
      stores.set(file, stamp);
      return;
    }
    stores.set(file, stamp);
    const events: PulseEvent[] = [];
    for (const e of index.update(file, parsed.entries))
      events.push(...sessionEntryToEvents(e, 'files', clock.now()));
    ingest(events, [{ key: `files:${file}`, value: stamp }]);
    // transcripts waiting for their session, or keyed by a fallback, may resolve now
    for (const f of followers.values()) {
      if ((waiting.has(f.path) || fallbackKeyed.has(f.path)) && resolve(f)) void read(f);
    }
  }

  /** gives the follower its session key; false while it waits for sessions.json */
  function resolve(f: TranscriptFollower): boolean {
    const entry = index.lookup(f.path, f.sessionId);
    if (entry) {
      if (f.sessionKey() !== entry.sessionKey) f.resolve(entry.sessionKey, entry.agentId);
      fallbackKeyed.delete(f.path);
      const t = waiting.get(f.path);
      if (t !== undefined) clock.clearTimeout(t);
      waiting.delete(f.path);
      return true;
    }
    const current = f.sessionKey();
    if (current) {
      if (current === fallbackSessionKey(f.agentId(), f.sessionId)) fallbackKeyed.add(f.path);
      return true;
    }
    if (!waiting.has(f.path)) {
      const timer = clock.setTimeout(() => {
        waiting.delete(f.path);
        if (stopped || f.sessionKey()) return;
        const key = fallbackSessionKey(f.agentId(), f.sessionId);
        logger.info(
          { file: f.path, sessionKey: key },
          'transcript not in any sessions.json; using a fallback key',
        );
        f.resolve(key, f.agentId());
        fallbackKeyed.add(f.path);
        ingest(
          [
            {
              type: 'session.seen',
              ts: clock.now(),
              source: 'files',
              sessionKey: key,
              agentId: f.agentId(),
              dedupeKey: `seen/${key}/${f.sessionId}/fallback`,
              sessionId: f.sessionId,
            },
          ],
          [],
        );
        void read(f);
      }, waitMs);
      waiting.set(f.path, timer);
    }
    return false;
  }

  function follower(file: string): TranscriptFollower | undefined {
    const existing = followers.get(file);
    if (existing) return existing;
    const name = parseTranscriptName(file);
    if (!name) return undefined;
    const savedValue = saved.get(`files:${file}`) as FileOffsetValue | undefined;
    // the follower holds it from now on (and gives it back when it rests)
    saved.delete(`files:${file}`);
    const f = createFollower({
      path: file,
      sessionId: name.sessionId,
      agentId: agentIdFromPath(file) ?? 'main',
      ...(savedValue && typeof savedValue === 'object' ? { saved: savedValue } : {}),
      logger,
      clock,
      emit: (events, offset, lag) => ingest(events, [offset], lag),
      onMalformed: () => {
        malformed++;
      },
      paused: isPaused,
    });
    followers.set(file, f);
    return f;
  }

  function checkTranscript(file: string, changed = false): Promise<void> {
    if (resting.has(file)) return track(wakeIfChanged(file));
    const f = follower(file);
    if (!f || !resolve(f)) return Promise.resolve();
    return read(f, changed);
  }

  /**
   * a resting transcript the scan need not wake: one synchronous stat, no promise. 10,000 resting
   * files checked through promises made ~30 MB of garbage a scan, and the heap of an idle daemon
   * swung with it
   */
  function restsUnchanged(file: string): boolean {
    const v = resting.get(file);
    if (!v) return false;
    const st = fs.statSync(file, { throwIfNoEntry: false });
    // gone: its data stays in the store, as a followed file's does
    return !st || (st.ino === v.ino && st.size === v.size && v.pos === v.size);
  }

  /** a resting transcript: a stat, as a follower's idle poll does; changed, it is followed again */
  async function wakeIfChanged(file: string): Promise<void> {
    const v = resting.get(file);
    if (!v) return checkTranscript(file);
    let st: fs.Stats;
    try {
      st = await fsp.stat(file);
    } catch {
      return; // gone: its data stays in the store, as a followed file's does
    }
    if (st.ino === v.ino && st.size === v.size && v.pos === v.size) return;
    if (resting.get(file) !== v) return checkTranscript(file, true);
    resting.delete(file);
    saved.set(`files:${file}`, v);
    return checkTranscript(file, true);
  }

  /** lets go of followers quiet for `restAfterMs`, keeping their offsets */
  function restQuiet(): void {
    const now = clock.now();
    for (const f of followers.values()) {
      if (waiting.has(f.path) || fallbackKeyed.has(f.path) || !f.restable(now, restAfterMs)) continue;
      resting.set(f.path, f.offset().value as FileOffsetValue);
      followers.delete(f.path);
    }
  }

  function onDirEvent(dir: string, filename: string | Buffer | null): void {
    if (stopped) return;
    if (!filename) {
      void track(scan());
      return;
    }
    const full = path.join(dir, filename.toString());
    if (isSessionsJsonName(full)) void track(loadStore(full));
    else if (parseTranscriptName(full)) void checkTranscript(full, true);
  }

  function watch(dir: string, onEvent: (filename: string | Buffer | null) => void): void {
    if (deps.usePolling || stopped || watchers.has(dir)) return;
    try {
      const w = fs.watch(dir, { persistent: false }, (_ev, filename) => onEvent(filename));
      w.on('error', (err) => {
        logger.debug({ err, dir }, 'watch failed; the poll keeps covering this folder');
        w.close();
        watchers.delete(dir);
        // the poll covers the folder from now on, at its own pace
        if (allWatched) {
          allWatched = false;
          schedulePoll();
        }
      });
      watchers.set(dir, w);
    } catch {
      // missing folder: the poll picks it up once it exists
    }
  }

  async function scan(): Promise<void> {
    watch(stateDir, (name) => {
      if (!name || name.toString() === 'agents') void track(scan());
    });
    watch(agentsDir(stateDir), () => void track(scan()));
    const dirs = sessionDirs();
    const storeFiles = dirs.map((d) => path.join(d, 'sessions.json'));
    if (extraStore && !storeFiles.includes(extraStore)) {
      storeFiles.push(extraStore);
      watch(path.dirname(extraStore), (name) => {
        if (!name || path.join(path.dirname(extraStore), name.toString()) === extraStore)
          void track(loadStore(extraStore));
      });
    }
    // watches first, so nothing created while we read is missed; then sessions, so transcripts find their keys
    for (const dir of dirs) {
      // an agent folder may exist before its sessions/ folder: watch it to see sessions/ appear
      if (dir !== extraDir) {
        watch(path.dirname(dir), (name) => {
          if (!name || name.toString() === 'sessions') void track(scan());
        });
      }
      watch(dir, (name) => onDirEvent(dir, name));
    }
    const watched = [
      stateDir,
      agentsDir(stateDir),
      ...dirs,
      ...(extraStore ? [path.dirname(extraStore)] : []),
    ];
    allWatched = !deps.usePolling && dirs.length > 0 && watched.every((d) => watchers.has(d));
    await Promise.all(storeFiles.map((f) => loadStore(f)));
    const lists = await Promise.all(dirs.map((d) => listing.list(d)));
    const followed = new Set<string>();
    for (const f of followers.values()) if (!f.isGone()) followed.add(f.path);
    const spread = allWatched ? RESTING_CHECK_SPREAD : 1;
    const share = scans++ % spread;
    const checks: Array<Promise<void>> = [];
    let nth = 0;
    for (const files of lists) {
      for (const f of files) {
        followed.delete(f);
        if (resting.has(f) && (nth++ % spread !== share || restsUnchanged(f))) continue;
        checks.push(checkTranscript(f));
      }
    }
    // files followed but not listed (deleted) are polled too, so they are marked gone
    for (const f of followed) checks.push(checkTranscript(f));
    await Promise.all(checks);
    if (inflight.size === 0) lagMs = 0;
    restQuiet();
  }

  /** (re)arms the scan timer: `pollMs`, or `SAFETY_SCAN_MS` while every folder is watched */
  function schedulePoll(): void {
    if (pollTimer !== undefined) clock.clearTimeout(pollTimer);
    pollTimer = undefined;
    if (stopped) return;
    pollTimer = clock.setTimeout(
      () => {
        pollTimer = undefined;
        void track(scan())
          .catch((err) => logger.error({ err }, 'file source scan failed'))
          .finally(() => {
            if (pollTimer === undefined) schedulePoll();
          });
      },
      allWatched ? Math.max(pollMs, SAFETY_SCAN_MS) : pollMs,
    );
  }

  return {
    id: 'files',
    kind: 'files',
    async start() {
      stopped = false;
      state = 'starting';
      for (const o of deps.offsets.listOffsets('files:')) saved.set(o.key, o.value);
      try {
        await scan();
      } catch (err) {
        logger.error({ err }, 'initial scan of the state dir failed; polling continues');
      }
      state = 'live';
      schedulePoll();
    },
    async stop() {
      stopped = true;
      if (pollTimer !== undefined) clock.clearTimeout(pollTimer);
      for (const t of waiting.values()) clock.clearTimeout(t);
      waiting.clear();
      for (const w of watchers.values()) w.close();
      watchers.clear();
      while (inflight.size) await Promise.allSettled([...inflight]);
      state = 'stopped';
    },
    async scanNow() {
      await track(scan());
      while (inflight.size) await Promise.allSettled([...inflight]);
    },
    pause() {
      if (paused) return;
      paused = true;
      logger.info('pausing: the store does not take events; each transcript waits at its offset');
    },
    resume() {
      if (!paused) return;
      paused = false;
      logger.info('resuming: reading every transcript on from its offset');
      if (!stopped && state !== 'stopped') {
        void track(scan()).catch((err) => logger.error({ err }, 'file source scan failed'));
      }
    },
    health(): SourceHealth {
      let inputs = resting.size;
      for (const f of followers.values()) if (!f.isGone()) inputs++;
      const h: SourceHealth = {
        id: 'files',
        kind: 'files',
        state,
        lagMs: inflight.size ? lagMs : 0,
        malformed,
        anomalies: sane.anomalies,
        inputs,
        detail: `${paused ? 'paused (the store does not take events; reading resumes at each offset): ' : ''}${
          fs.existsSync(agentsDir(stateDir))
            ? `following ${inputs} transcript${inputs === 1 ? '' : 's'}${resting.size ? ` (${resting.size} quiet, kept as offsets)` : ''} and ${stores.size} sessions.json under ${stateDir}`
            : `waiting for ${agentsDir(stateDir)} to appear`
        }`,
      };
      if (lastEventAt !== undefined) h.lastEventAt = lastEventAt;
      if (!fs.existsSync(stateDir)) h.problem = `state dir ${stateDir} does not exist`;
      else if (!fs.existsSync(agentsDir(stateDir)))
        h.problem = `no agents/ folder in ${stateDir}: not an OpenClaw state dir, or no agent has run yet`;
      return h;
    },
  };
}

/**
 * Follows one transcript file: reads complete lines past the saved offset, turns them into
 * events, and hands them to `emit` with the offset they bring the file to.
 *
 * - A partial last line stays in memory (`carry`) until its newline arrives; the saved `pos`
 *   is always the end of the last complete line, so a restart re-reads the partial line.
 * - A rewrite (file shrank, new inode, or its first bytes changed: `sessions.compact` keeps the
 *   last N lines and may drop the header) emits `session.compacted {mode:'rewrite'}` and reads
 *   the new content from the start, skipping up to the last entry id already seen (lines before
 *   it were ingested; their dedupe keys would be dropped by the store anyway).
 * - A file that vanishes is marked gone; its state is kept in case the path comes back.
 */
import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import type { Clock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import type { PulseEvent } from '../../model/events.js';
import {
  createTranscriptNormalizer,
  type NormalizerState,
  type TranscriptNormalizer,
} from '../../openclaw/normalize.js';
import type { SourceOffset } from '../../store/event-store.js';
import { decodeLine, idOf, processLine, processLines } from './line-processor.js';

export interface FileOffsetValue {
  pos: number;
  ino: number;
  size: number;
  lineNo: number;
  /** sha1 of the first `headLen` bytes (≤ 128): a rewrite changes them */
  headId: string;
  headLen: number;
  lastId?: string;
  sessionKey?: string;
  agentId?: string;
  norm?: NormalizerState;
}

export interface FollowerDeps {
  path: string;
  sessionId: string;
  agentId: string;
  saved?: FileOffsetValue;
  logger: Logger;
  clock: Clock;
  emit(events: PulseEvent[], offset: SourceOffset, lagMs: number): void;
  onMalformed(): void;
  /**
   * true while the pipeline does not take events (its store refuses writes): a read stops after
   * the chunk it emitted; the next poll goes on from there
   */
  paused?: () => boolean;
  chunkSize?: number;
}

export interface TranscriptFollower {
  readonly path: string;
  readonly sessionId: string;
  sessionKey(): string | undefined;
  agentId(): string;
  /** sets (or changes, for a fallback key) the session this file belongs to */
  resolve(sessionKey: string, agentId: string): void;
  /**
   * stat and read what is new; calls are serialized; never throws. `changed`: a watch event said
   * this file changed, so the cheap pre-stat (there for idle polling) is skipped.
   */
  poll(changed?: boolean): Promise<void>;
  isGone(): boolean;
  offset(): SourceOffset;
  /**
   * nothing in flight or held between reads (a partial line, a rewrite being resynced, a long
   * line being skipped), its session known, and nothing new read for `quietMs`: its offset alone
   * can bring it back (the file source lets such a follower go and keeps only the offset)
   */
  restable(now: number, quietMs: number): boolean;
}

const HEAD = 128;
const MAX_LINE = 64 * 1024 * 1024;
const MAX_LOGGED = 50;
const NL = 0x0a;

export function createFollower(deps: FollowerDeps): TranscriptFollower {
  const { path: file, sessionId, logger, clock } = deps;
  const chunkSize = deps.chunkSize ?? 1024 * 1024;
  const s = deps.saved;
  let pos = s?.pos ?? 0;
  let ino = s?.ino ?? 0;
  let size = s?.size ?? 0;
  let lineNo = s?.lineNo ?? 0;
  let headId = s?.headId ?? '';
  let headLen = s?.headLen ?? 0;
  let lastId = s?.lastId;
  let key = s?.sessionKey;
  let agent = s?.agentId ?? deps.agentId;
  let normalizer: TranscriptNormalizer | undefined;
  let normInit = s?.norm;
  let carry: Buffer[] = [];
  let carryLen = 0;
  let skippingLongLine = false;
  let gone = false;
  let logged = 0;
  let running: Promise<void> | undefined;
  let again = false;
  /** after a rewrite: the last entry id seen before it, until found in the new content */
  let resync: string | undefined;
  /** the head was compared once in this process; later growth is checked at the line boundary */
  let headVerified = false;
  /** the byte before `pos` was not the newline that ended the last line: the file was rewritten */
  let boundaryBroken = false;
  let hinted = false;
  /** when a read last found something to read (or the follower was made) */
  let activeAt = clock.now();

  function norm(): TranscriptNormalizer {
    if (!normalizer) {
      normalizer = createTranscriptNormalizer({
        sessionKey: key as string,
        agentId: agent,
        sessionId,
        source: 'files',
        ...(normInit ? { initial: normInit } : {}),
      });
      normInit = undefined;
    }
    return normalizer;
  }

  function offsetValue(): FileOffsetValue {
    const v: FileOffsetValue = { pos, ino, size, lineNo, headId, headLen };
    if (lastId) v.lastId = lastId;
    if (key) v.sessionKey = key;
    v.agentId = agent;
    const st = normalizer ? normalizer.state() : normInit;
    if (st) v.norm = st;
    return v;
  }
  const offset = (): SourceOffset => ({ key: `files:${file}`, value: offsetValue() });

  function malformed(n: number, error: string): void {
    deps.onMalformed();
    if (logged++ < MAX_LOGGED) logger.warn({ file, line: n, error }, 'skipping malformed transcript line');
  }

  async function headHash(fh: fsp.FileHandle, len: number): Promise<string> {
    const buf = Buffer.alloc(len);
    const { bytesRead } = await fh.read(buf, 0, len, 0);
    return createHash('sha1').update(buf.subarray(0, bytesRead)).digest('hex');
  }

  function vanished(err: unknown): boolean {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return false;
    if (!gone) logger.info({ file }, 'transcript went away; keeping its data');
    gone = true;
    return true;
  }

  async function readOnce(): Promise<void> {
    // a stat alone settles the common case (nothing new): thousands of idle files stay cheap
    if (!hinted) {
      try {
        const pre = await fsp.stat(file);
        if (!gone && pre.ino === ino && pre.size === size && pre.size === pos + carryLen) return;
      } catch (err) {
        if (vanished(err)) return;
        throw err;
      }
    }
    hinted = false;
    activeAt = clock.now();
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(file, 'r');
    } catch (err) {
      if (vanished(err)) return;
      throw err;
    }
    try {
      const st = await fh.stat();
      const wasGone = gone;
      gone = false;
      const readPos = pos + carryLen;
      const known = ino !== 0 || pos > 0;
      let rewritten = known && (st.ino !== ino || st.size < readPos || wasGone || boundaryBroken);
      boundaryBroken = false;
      const checkHead = !headVerified || carryLen > 0;
      if (!rewritten && known && checkHead && headLen > 0 && st.size !== size && st.size >= headLen) {
        rewritten = (await headHash(fh, headLen)) !== headId;
      }
      headVerified = true;
      const events: PulseEvent[] = [];
      if (rewritten) {
        logger.info({ file, oldSize: size, newSize: st.size }, 'transcript was rewritten; reading it again');
        events.push({
          type: 'session.compacted',
          ts: clock.now(),
          source: 'files',
          sessionKey: key as string,
          agentId: agent,
          dedupeKey: `${sessionId}/rewrite/${st.ino}/${Math.round(st.mtimeMs)}`,
          mode: 'rewrite',
        });
        resync = lastId;
        pos = 0;
        lineNo = 0;
        headId = '';
        headLen = 0;
        carry = [];
        carryLen = 0;
        skippingLongLine = false;
      }
      ino = st.ino;
      const lag = () => Math.max(0, clock.now() - st.mtimeMs);
      if (st.size === pos + carryLen) {
        size = st.size;
        if (events.length) deps.emit(events, offset(), 0);
        return;
      }

      // lines held back while looking for the last entry seen before a rewrite
      let held: Array<{ value: unknown; n: number }> = [];
      let at = pos + carryLen;
      // the first read also takes the byte before the offset: it must be the last line's newline
      let boundary = !rewritten && pos > 0 && carryLen === 0 && !skippingLongLine;
      if (boundary) at--;
      // sized to what is there: a 1 MB buffer per small append would keep the GC busy
      const buf = Buffer.allocUnsafe(Math.min(chunkSize, st.size - at));
      while (at < st.size) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, st.size - at), at);
        if (bytesRead <= 0) break;
        at += bytesRead;
        let chunk = buf.subarray(0, bytesRead);
        if (boundary) {
          boundary = false;
          if (chunk[0] !== NL) {
            boundaryBroken = true;
            again = true;
            return;
          }
          chunk = chunk.subarray(1);
        }
        let start = 0;
        for (;;) {
          if (!carryLen && !skippingLongLine && resync === undefined) {
            // the common case: the chunk's whole lines, read in one go
            const last = chunk.lastIndexOf(NL);
            if (last >= start) {
              const before = lineNo;
              const r = processLines(chunk.subarray(start, last + 1), norm(), events, (i, error) =>
                malformed(before + 1 + i, error),
              );
              lineNo += r.lines;
              if (r.lastId) lastId = r.lastId;
              pos += last + 1 - start;
              start = last + 1;
            }
            break;
          }
          // a line completing what earlier reads carried or skipped, or one read while resyncing
          const nl = chunk.indexOf(NL, start);
          if (nl < 0) break;
          const piece = chunk.subarray(start, nl);
          const line = carryLen ? Buffer.concat([...carry, piece]) : piece;
          const lineEnd = pos + carryLen + piece.length + 1;
          carry = [];
          carryLen = 0;
          start = nl + 1;
          pos = lineEnd;
          lineNo++;
          if (skippingLongLine) {
            skippingLongLine = false;
            continue;
          }
          if (resync !== undefined) {
            const d = decodeLine(line);
            if (d.error) malformed(lineNo, d.error);
            else if (!d.empty) {
              if (idOf(d.value) === resync) {
                held = [];
                resync = undefined;
                lastId = idOf(d.value);
              } else held.push({ value: d.value, n: lineNo });
            }
            continue;
          }
          const r = processLine(line, norm());
          if (r.error) malformed(lineNo, r.error);
          if (r.id) lastId = r.id;
          for (const e of r.events) events.push(e);
        }
        chunk = chunk.subarray(start);
        if (chunk.length) {
          if (skippingLongLine || carryLen + chunk.length > MAX_LINE) {
            if (!skippingLongLine) malformed(lineNo + 1, `line longer than ${MAX_LINE} bytes`);
            skippingLongLine = true;
            pos += carryLen + chunk.length;
            carry = [];
            carryLen = 0;
          } else {
            carry.push(Buffer.from(chunk));
            carryLen += chunk.length;
          }
        }
        if (resync === undefined && events.length) {
          size = st.size;
          await refreshHead(fh, st.size);
          deps.emit(events.splice(0), offset(), lag());
        }
        // told to pause: stop at this line boundary (what was read is emitted; the rest waits)
        if (resync === undefined && at < st.size && deps.paused?.()) return;
      }
      // the last seen entry is not in the new content: everything in it is new
      if (held.length) resync = undefined;
      for (const h of held) {
        const r = norm().push(h.value);
        if (r.error) malformed(h.n, r.error);
        const id = idOf(h.value);
        if (id) lastId = id;
        for (const e of r.events) events.push(e);
      }
      size = st.size;
      await refreshHead(fh, st.size);
      deps.emit(events, offset(), lag());
    } finally {
      await fh.close().catch(() => undefined);
    }
  }

  async function refreshHead(fh: fsp.FileHandle, fileSize: number): Promise<void> {
    if (headLen >= HEAD || fileSize <= headLen) return;
    headLen = Math.min(HEAD, fileSize);
    headId = await headHash(fh, headLen);
  }

  async function loop(): Promise<void> {
    do {
      again = false;
      if (!key) return;
      try {
        await readOnce();
      } catch (err) {
        logger.error({ err, file }, 'reading transcript failed; will retry on the next change');
        return;
      }
    } while (again);
  }

  return {
    path: file,
    sessionId,
    sessionKey: () => key,
    agentId: () => agent,
    resolve(k, a) {
      key = k;
      agent = a;
      normalizer?.setSessionKey(k, a);
    },
    poll(changed) {
      if (changed) hinted = true;
      if (running) {
        again = true;
        return running;
      }
      running = loop().finally(() => {
        running = undefined;
      });
      return running;
    },
    isGone: () => gone,
    offset,
    restable: (now, quietMs) =>
      running === undefined &&
      !again &&
      !hinted &&
      carryLen === 0 &&
      !skippingLongLine &&
      !boundaryBroken &&
      resync === undefined &&
      !gone &&
      key !== undefined &&
      pos === size &&
      now - activeAt >= quietMs,
  };
}

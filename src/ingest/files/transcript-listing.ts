/**
 * The transcripts of a sessions folder, listed again only when the folder changed.
 *
 * A scan of a folder of 10,000 transcripts listed it and joined every name to its folder: ~5 MB
 * of garbage every 15 s in an idle daemon, which kept V8's young generation grown (and the RSS
 * with it). A folder's mtime moves when a file is created, deleted or renamed in it, so an
 * unchanged mtime means an unchanged listing. A listing read less than `RACY_MS` after the
 * folder's last change is not trusted on a later scan (a file system with coarse timestamps may
 * give a file created just after the read the same mtime): the next scan reads it again.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { parseTranscriptName } from '../../openclaw/paths.js';

/** a listing taken this close to the folder's last change is read again */
export const RACY_MS = 2000;

interface Listing {
  ino: number;
  mtimeMs: number;
  /** wall-clock ms when the folder was read (compared with the file system's mtimes) */
  readAt: number;
  files: readonly string[];
}

export interface TranscriptListing {
  /** the transcript paths in `dir` ([] when it cannot be read) */
  list(dir: string): Promise<readonly string[]>;
}

/** `now`: the wall clock (mtimes are the file system's wall-clock times, not an injected clock's) */
export function createTranscriptListing(now: () => number = Date.now): TranscriptListing {
  const known = new Map<string, Listing>();
  return {
    async list(dir) {
      let st: { ino: number; mtimeMs: number };
      try {
        st = await fsp.stat(dir);
      } catch {
        known.delete(dir);
        return [];
      }
      const k = known.get(dir);
      if (k && k.ino === st.ino && k.mtimeMs === st.mtimeMs && st.mtimeMs < k.readAt - RACY_MS)
        return k.files;
      const readAt = now();
      let names: string[];
      try {
        names = await fsp.readdir(dir);
      } catch {
        known.delete(dir);
        return [];
      }
      const files: string[] = [];
      for (const n of names) if (parseTranscriptName(n)) files.push(path.join(dir, n));
      known.set(dir, { ino: st.ino, mtimeMs: st.mtimeMs, readAt, files });
      return files;
    },
  };
}

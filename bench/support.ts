/** What several benchmarks share: process CPU time, and the recorded transcript they replay. */
import type { TranscriptNormalizer } from '../src/openclaw/normalize.js';

/** process CPU time (user + system, every thread) in ms: the stable figure on a shared machine */
export const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** a recorded real transcript (OpenClaw 2026.7.35): one agent turn with tools and a sub-agent */
export const TRANSCRIPT_FIXTURE = new URL(
  '../test/fixtures/openclaw/v2026.7.35/daa6b28a-5388-4104-8e50-89a5a783e4c6.jsonl',
  import.meta.url,
);

/**
 * Line `line` of the recorded transcript as the `n`-th line of a made-up one: its entry id
 * replaced by a fresh random-looking 8-hex one (OpenClaw's ids are random 8-hex strings; these
 * are a bijection of n, so none repeats and none dedupes away).
 */
export const withEntryId = (line: string, n: number): string =>
  line.replace(
    /"id":"[0-9a-f]{8}"/,
    `"id":"${(Math.imul(n ^ 0x5bd1e995, 2654435761) >>> 0).toString(16).padStart(8, '0')}"`,
  );

/** the transcript's header line (a made-up transcript of several turns has it once, first) */
export const isSessionHeader = (line: string): boolean => line.includes('"type":"session"');

/** a UUID-shaped session id for bench session `s` (OpenClaw's ids start every dedupe key) */
export const benchSessionId = (s: number): string =>
  `${(0x9e3779b9 * (s + 1)).toString(16).slice(0, 8).padStart(8, '0')}-5388-4104-8e50-${s.toString(16).padStart(12, '0')}`;

/** a normalizer that makes no events: `processLines` with it is the decoding alone */
export const decodeOnly: TranscriptNormalizer = {
  push: () => ({ events: [] }),
  pushEntry: () => [],
  state: () => ({ runOpen: false, step: 0, pending: [] }),
  setSessionKey: () => {},
};

export const ignoreMalformed = (): void => {};

/**
 * The RSS (MB) of a daemon between bursts, after `seconds` idle. V8's memory reducer collects a
 * few times while a process idles and gives freed pages back some seconds later; a GC in each
 * idle second does that here, so the figure does not depend on when the reducer happens to run
 * (one wait and one GC left up to 80 MB more, depending on the run).
 */
export async function rssAfterIdle(gc: () => void, seconds = 10): Promise<number> {
  for (let s = 0; s < seconds; s++) {
    await new Promise((r) => setTimeout(r, 1000));
    gc();
  }
  return process.memoryUsage().rss / 1024 / 1024;
}

/**
 * `clawpulse replay <path>`: reads OpenClaw output once, runs it through the model and prints
 * the final status box of each session (sub-agents nested in their parent's box), or the JSON
 * view with --json. The path may be
 *
 *   - a transcript (`<sessionId>.jsonl`; a sibling sessions.json names its session),
 *   - a flat transcript folder (sessions.json and *.jsonl side by side: the original
 *     TRANSCRIPT_DIR layout, one agent's sessions folder, a demo recording),
 *   - a folder of such folders (demo/recordings: each replayed on its own),
 *   - a state dir (agents/<id>/sessions/…).
 *
 * Anything else (package.json, an empty file, /tmp) is not OpenClaw output: it says so and
 * exits 1. The files are streamed into the model (nothing holds the whole input), so memory is
 * the model's: a state dir of a million lines replays in a few hundred MB at most.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Config } from '../config/config.js';
import {
  type OnceSink,
  type OnceStats,
  streamStateDir,
  streamTranscript,
  streamTranscriptFolder,
} from '../ingest/files/once.js';
import type { PulseEvent } from '../model/events.js';
import type { SessionState } from '../model/session.js';
import { createSessionTracker, type SessionTracker } from '../model/tracker.js';
import { agentsDir, parseTranscriptName } from '../openclaw/paths.js';
import { toReplayJson } from '../render/json-view.js';
import { renderStatusBox } from '../render/status-box.js';
import { separatorRow } from '../render/terminal.js';
import { loadToolLabels } from '../render/tool-labels.js';
import { hashKey } from '../store/dedupe-hash.js';
import { HashSet96 } from '../store/hash-set96.js';
import { fail } from './config-from-cli.js';

/**
 * The model fed as the daemon's store would feed it: an event whose dedupe key its session
 * already had is dropped. Keys are kept per file (a transcript's facts carry its session id, so
 * no other file repeats them) as 96-bit hashes, so memory does not grow with the input.
 */
export interface Replayer extends OnceSink {
  readonly tracker: SessionTracker;
  /** lets the clock run past the idle timeout so finished runs read DONE; returns that time */
  finish(): number;
}

export function createReplayer(config: Readonly<Config>): Replayer {
  const tracker = createSessionTracker(config.model);
  const lanes = new Uint32Array(3);
  let seen = new HashSet96(1024);
  let last = 0;
  return {
    tracker,
    file() {
      seen = new HashSet96(1024);
    },
    events(batch: readonly PulseEvent[]) {
      for (const e of batch) {
        hashKey(e.dedupeKey, lanes);
        if (!seen.add(lanes[0] as number, lanes[1] as number, lanes[2] as number)) continue;
        tracker.apply(e);
        if (e.ts > last) last = e.ts;
      }
    },
    finish() {
      const end = last + config.model.idleTimeoutMs + 1;
      tracker.tick(end);
      return end;
    },
  };
}

/** events in hand (tests): the same model a replay builds */
export function replayEvents(
  events: readonly PulseEvent[],
  config: Readonly<Config>,
): { tracker: SessionTracker; end: number } {
  const r = createReplayer(config);
  r.events(events);
  return { tracker: r.tracker, end: r.finish() };
}

export function rootsOf(tracker: SessionTracker): SessionState[] {
  return tracker
    .all()
    .filter((s) => !s.parentKey || !tracker.get(s.parentKey))
    .sort((a, b) => a.startedAt - b.startedAt || a.key.localeCompare(b.key));
}

type Reader = (sink: OnceSink) => OnceStats;

const SEPARATOR_WIDTH = 60;

const WHAT =
  'expected a transcript (<sessionId>.jsonl), a folder with sessions.json and *.jsonl, or an OpenClaw state dir (~/.openclaw)';

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** a flat transcript folder: a sessions.json or a <sessionId>.jsonl directly in it */
function isTranscriptFolder(dir: string, names: readonly string[]): boolean {
  return names.some((n) => (n === 'sessions.json' || parseTranscriptName(n)) && isFile(join(dir, n)));
}

/** what to read at `path`: one reader per group (a folder of recordings has several), or why not */
export function readersFor(
  path: string,
): { groups: Array<{ name: string; read: Reader }> } | { error: string } {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch {
    return { error: `cannot read ${path}: no such file or folder` };
  }
  if (st.isFile()) {
    if (basename(path) === 'sessions.json')
      return { groups: [{ name: path, read: (sink) => streamTranscriptFolder(dirname(path), sink) }] };
    if (st.size === 0) return { error: `${path} is empty: not an OpenClaw transcript (${WHAT})` };
    return { groups: [{ name: path, read: (sink) => streamTranscript(path, sink) }] };
  }
  if (!st.isDirectory()) return { error: `${path} is not OpenClaw output (${WHAT})` };
  if (isDir(agentsDir(path))) return { groups: [{ name: path, read: (sink) => streamStateDir(path, sink) }] };
  let names: string[];
  try {
    names = readdirSync(path).sort();
  } catch (err) {
    return { error: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
  if (isTranscriptFolder(path, names))
    return { groups: [{ name: path, read: (sink) => streamTranscriptFolder(path, sink) }] };
  // a folder of recordings: only folders (and a README), each a flat transcript folder
  const dirs = names.filter((n) => isDir(join(path, n)));
  const others = names.filter((n) => !dirs.includes(n) && !/^readme/i.test(n));
  const groups = others.length
    ? []
    : dirs
        .map((n) => join(path, n))
        .filter((d) => {
          try {
            return isTranscriptFolder(d, readdirSync(d));
          } catch {
            return false;
          }
        })
        .map((d) => ({ name: d, read: ((sink) => streamTranscriptFolder(d, sink)) as Reader }));
  if (groups.length) return { groups };
  return {
    error: `${path} is not OpenClaw output: no agents/ (a state dir), sessions.json or <sessionId>.jsonl in it (${WHAT})`,
  };
}

/**
 * stdout in pieces of 64 KiB that wait for the pipe to drain: a reader slower than the replay
 * (a pipe into a script) must not make the output pile up in memory. A reader that went away
 * (`replay … | head`) ends the replay quietly.
 */
function stdoutWriter() {
  let pending = '';
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const flush = async () => {
    if (!pending) return;
    const ok = process.stdout.write(pending);
    pending = '';
    if (!ok) await new Promise((r) => process.stdout.once('drain', r));
  };
  return {
    async write(text: string) {
      pending += text;
      if (pending.length >= 1 << 16) await flush();
    },
    flush,
  };
}

const byStart = (a: SessionState, b: SessionState) =>
  a.startedAt - b.startedAt || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** JSON.stringify(toReplayJson(all), null, 2), written one session at a time */
function jsonWriter(write: (s: string) => Promise<void>) {
  let count = 0;
  return {
    async sessions(list: SessionState[]) {
      for (const state of list.sort(byStart)) {
        const s = toReplayJson([state]).sessions[0];
        const body = JSON.stringify(s, null, 2).replace(/^/gm, '    ');
        await write(`${count++ === 0 ? '{\n  "sessions": [\n' : ',\n'}${body}`);
      }
    },
    async end() {
      await write(count ? '\n  ]\n}\n' : '{\n  "sessions": []\n}\n');
    },
  };
}

export async function runReplay(path: string, config: Readonly<Config>, json: boolean): Promise<void> {
  const target = readersFor(path);
  if ('error' in target) fail(target.error);
  const toolLabels = json ? undefined : loadToolLabels(config.model.toolLabelsFile);
  const stdout = stdoutWriter();
  const out = stdout.write;
  const writer = json ? jsonWriter(out) : undefined;
  let boxes = 0;
  let events = 0;
  let lines = 0;
  let malformed = 0;
  for (const g of target.groups) {
    const r = createReplayer(config);
    const stats = g.read(r);
    events += stats.events;
    lines += stats.lines;
    malformed += stats.malformed;
    const end = r.finish();
    if (writer) {
      await writer.sessions(r.tracker.all());
      continue;
    }
    for (const root of rootsOf(r.tracker)) {
      const box = renderStatusBox(root, (k) => r.tracker.get(k), { now: end, toolLabels: toolLabels ?? {} });
      // each box under the line naming its session, as `tail` draws them
      await out(`${boxes++ ? '\n\n' : ''}${separatorRow(root.key, SEPARATOR_WIDTH)}\n${box}`);
    }
  }
  // a path that held files but not one OpenClaw fact: not OpenClaw output
  if (events === 0 && (lines > 0 || malformed > 0 || isFile(path)))
    fail(
      lines
        ? `${path} is not OpenClaw output: none of its ${lines} lines is a transcript line (${WHAT})`
        : `${path} is not OpenClaw output (${WHAT})`,
    );
  if (writer) await writer.end();
  else if (boxes) await out('\n');
  else await out(`no sessions found in ${path}\n`);
  await stdout.flush();
  if (malformed && !json)
    process.stderr.write(`clawpulse: ${malformed} line(s) of ${path} were not transcript lines (skipped)\n`);
}

/**
 * `clawpulse replay <transcript.jsonl | state-dir>`: reads everything once, runs it through the
 * model and prints the final status box of each session (sub-agents nested in their parent's
 * box), or the JSON view with --json.
 */
import { statSync } from 'node:fs';
import type { Config } from '../config/config.js';
import { readStateDirOnce, readTranscriptOnce } from '../ingest/files/once.js';
import type { PulseEvent } from '../model/events.js';
import type { SessionState } from '../model/session.js';
import { createSessionTracker, type SessionTracker } from '../model/tracker.js';
import { toReplayJson } from '../render/json-view.js';
import { renderStatusBox } from '../render/status-box.js';
import { loadToolLabels } from '../render/tool-labels.js';
import { fail } from './config-from-cli.js';

export function replayEvents(
  events: readonly PulseEvent[],
  config: Readonly<Config>,
): { tracker: SessionTracker; end: number } {
  const tracker = createSessionTracker(config.model);
  const seen = new Set<string>();
  let last = 0;
  for (const e of events) {
    if (seen.has(e.dedupeKey)) continue;
    seen.add(e.dedupeKey);
    tracker.apply(e);
    if (e.ts > last) last = e.ts;
  }
  // the recording is over: let the clock run past the idle timeout so finished runs read DONE
  const end = last + config.model.idleTimeoutMs + 1;
  tracker.tick(end);
  return { tracker, end };
}

export function rootsOf(tracker: SessionTracker): SessionState[] {
  return tracker
    .all()
    .filter((s) => !s.parentKey || !tracker.get(s.parentKey))
    .sort((a, b) => a.startedAt - b.startedAt || a.key.localeCompare(b.key));
}

export function runReplay(path: string, config: Readonly<Config>, json: boolean): void {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    fail(`cannot read ${path}: no such file or folder`);
  }
  const events = isDir ? readStateDirOnce(path) : readTranscriptOnce(path);
  const { tracker, end } = replayEvents(events, config);
  if (json) {
    process.stdout.write(`${JSON.stringify(toReplayJson(tracker.all()), null, 2)}\n`);
    return;
  }
  const roots = rootsOf(tracker);
  if (!roots.length) {
    process.stdout.write(`no sessions found in ${path}\n`);
    return;
  }
  const toolLabels = loadToolLabels(config.model.toolLabelsFile);
  const boxes = roots.map((r) => renderStatusBox(r, (k) => tracker.get(k), { now: end, toolLabels }));
  process.stdout.write(`${boxes.join('\n\n')}\n`);
}

/**
 * Live status boxes in the terminal, redrawn in place: used by `clawpulse tail` and by the
 * demo. It listens to a pipeline and redraws at most every `frameMs` (a burst of events costs
 * one frame), showing the active sessions and those that ended in the last `recentMs`.
 */
import type { SessionState } from '../model/session.js';
import type { Pipeline } from '../pipeline.js';
import { redrawInPlace, renderTerminalFrame, restoreTerminal, startScreen } from '../render/terminal.js';
import type { ToolLabels } from '../render/tool-labels.js';

const LIVE = new Set(['active', 'idle', 'stuck']);

export interface TerminalView {
  stop(): void;
}

export function visibleRoots(
  all: readonly SessionState[],
  has: (k: string) => boolean,
  now: number,
  recentMs: number,
): SessionState[] {
  return all
    .filter((s) => !s.parentKey || !has(s.parentKey))
    .filter((s) => LIVE.has(s.status) || now - (s.endedAt ?? s.lastEventAt) <= recentMs)
    .sort((a, b) => a.startedAt - b.startedAt || a.key.localeCompare(b.key));
}

export function startTerminalView(
  pipeline: Pipeline,
  opts: {
    out: NodeJS.WriteStream;
    toolLabels: ToolLabels;
    frameMs?: number;
    recentMs?: number;
    header?: string;
  },
): TerminalView {
  const { out } = opts;
  const frameMs = opts.frameMs ?? 100;
  const recentMs = opts.recentMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  let dirty = true;
  out.write(startScreen());

  const draw = () => {
    if (!dirty) return;
    dirty = false;
    const now = Date.now();
    const tracker = pipeline.tracker;
    const roots = visibleRoots(tracker.all(), (k) => tracker.get(k) !== undefined, now, recentMs);
    const width = out.columns ?? 100;
    const height = out.rows ? out.rows - 2 : undefined;
    const body = roots.length
      ? renderTerminalFrame(roots, (k) => tracker.get(k), {
          now,
          toolLabels: opts.toolLabels,
          width,
          height,
          color: Boolean(out.isTTY),
        })
      : tracker.all().length
        ? `no active session right now (${tracker.all().length} finished earlier: \`clawpulse sessions\` lists them); waiting…`
        : 'waiting for OpenClaw sessions…';
    out.write(redrawInPlace(`${opts.header ? `${opts.header}\n\n` : ''}${body}`));
  };
  const unsubscribe = pipeline.subscribe(() => {
    dirty = true;
  });
  // elapsed times tick even without events
  const clockTimer = setInterval(() => {
    dirty = true;
  }, 1000);
  timer = setInterval(draw, frameMs);
  draw();
  return {
    stop() {
      unsubscribe();
      clearInterval(clockTimer);
      if (timer) clearInterval(timer);
      timer = undefined;
      out.write(restoreTerminal());
    },
  };
}

/**
 * Live status boxes in the terminal, redrawn in place: used by `clawpulse tail` and by the
 * demo. It follows a model (the daemon's, through its API, or a pipeline in this process) and
 * redraws at most every `frameMs` (a burst of events costs one frame), showing the active
 * sessions and those that ended in the last `recentMs`: stuck and failed boxes first, each
 * under a line naming its session.
 */
import type { SessionState } from '../model/session.js';
import type { Pipeline } from '../pipeline.js';
import { redrawInPlace, renderTerminalFrame, restoreTerminal, startScreen } from '../render/terminal.js';
import type { ToolLabels } from '../render/tool-labels.js';

const LIVE = new Set(['active', 'idle', 'stuck']);

/** what the view reads: sessions, and a signal when they changed */
export interface ViewModel {
  all(): SessionState[];
  get(key: string): SessionState | undefined;
  subscribe(listener: () => void): () => void;
}

export function pipelineModel(pipeline: Pipeline): ViewModel {
  return {
    all: () => pipeline.tracker.all(),
    get: (k) => pipeline.tracker.get(k),
    subscribe: (l) => pipeline.subscribe(() => l()),
  };
}

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

export interface FrameOptions {
  now: number;
  toolLabels: ToolLabels;
  width: number;
  height?: number;
  color: boolean;
  recentMs?: number;
  header?: string;
  /** what to say while there is nothing to show */
  waiting?: string;
}

/** one frame's text: the header, then the boxes (or why there are none) */
export function renderView(model: Pick<ViewModel, 'all' | 'get'>, o: FrameOptions): string {
  const all = model.all();
  const roots = visibleRoots(all, (k) => model.get(k) !== undefined, o.now, o.recentMs ?? 60_000);
  const headerRows = o.header ? o.header.split('\n').length + 1 : 0;
  const body = roots.length
    ? renderTerminalFrame(roots, (k) => model.get(k), {
        now: o.now,
        toolLabels: o.toolLabels,
        width: o.width,
        height: o.height !== undefined ? Math.max(1, o.height - headerRows) : undefined,
        color: o.color,
      })
    : all.length
      ? `no active session right now (${all.length} finished earlier: \`clawpulse sessions\` lists them); waiting…`
      : (o.waiting ?? 'waiting for OpenClaw sessions…');
  return `${o.header ? `${o.header}\n\n` : ''}${body}`;
}

export function startTerminalView(
  model: ViewModel,
  opts: {
    out: NodeJS.WriteStream;
    toolLabels: ToolLabels;
    frameMs?: number;
    recentMs?: number;
    /** the header; a function is asked on every frame (it may change: "reconnecting…") */
    header?: string | (() => string);
    waiting?: string;
  },
): TerminalView {
  const { out } = opts;
  const frameMs = opts.frameMs ?? 100;
  let timer: NodeJS.Timeout | undefined;
  let dirty = true;
  // a terminal that went away must not stop the process (nor be written to in a loop)
  let gone = false;
  const write = (s: string) => {
    if (gone) return;
    try {
      out.write(s);
    } catch {
      gone = true;
    }
  };
  if (out.listenerCount('error') === 0)
    out.on('error', () => {
      gone = true;
    });
  write(startScreen());

  const draw = () => {
    if (!dirty) return;
    dirty = false;
    const header = typeof opts.header === 'function' ? opts.header() : opts.header;
    const frame = renderView(model, {
      now: Date.now(),
      toolLabels: opts.toolLabels,
      // a pseudo-terminal may report 0 columns
      width: out.columns || 100,
      height: out.rows ? out.rows - 1 : undefined,
      color: Boolean(out.isTTY),
      recentMs: opts.recentMs,
      header,
      waiting: opts.waiting,
    });
    write(redrawInPlace(frame));
  };
  const unsubscribe = model.subscribe(() => {
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
      write(restoreTerminal());
    },
  };
}

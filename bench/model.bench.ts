/**
 * Model benchmark: reducer throughput over a generated realistic stream (many sessions
 * interleaved: runs, steps, tokens, narration, tool call/output pairs with repeating call ids,
 * sub-agent spawns) and memory with 1,000 active sessions. Bounded; returns numbers.
 *
 *   npx tsx -e "import('./bench/model.bench.ts').then(m => m.run()).then(r => console.log(r))"
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import type { PulseEvent } from '../src/model/events.js';
import type { TrackerLimits } from '../src/model/session.js';
import { createSessionTracker } from '../src/model/tracker.js';
import { rssAfterIdle } from './support.js';

const LIMITS: TrackerLimits = {
  maxStatusLines: 15,
  idleTimeoutMs: 60_000,
  maxSessionDurationMs: 1_800_000,
  stuckAfterMs: 300_000,
};

const NARRATION = [
  'Reading the configuration files to understand the layout...',
  'Running the test suite to see what fails.',
  '[[reply_to_current]] Found it: the parser drops the last line when the file has no trailing newline.',
  '## Plan\n1. fix the parser\n2. add a test',
  'Done. All 214 tests pass.',
];
const TOOLS = [
  ['exec', 'npm test -- --run src/parser'],
  ['read', '/home/oc/workspace/src/parser.ts'],
  ['edit', '/home/oc/workspace/src/parser.ts'],
  ['web_search', '{"query":"node readline trailing newline"}'],
] as const;

type EventBody = PulseEvent extends infer T
  ? T extends PulseEvent
    ? Omit<T, 'source' | 'agentId' | 'dedupeKey' | 'sessionKey'>
    : never
  : never;

/**
 * `sessions` sessions × `runsPerSession` runs, interleaved round-robin like a busy gateway; the
 * sessions are numbered from `firstSession`
 */
export function generateStream(
  sessions: number,
  runsPerSession: number,
  toolsPerRun = 6,
  firstSession = 0,
): PulseEvent[] {
  const perSession: PulseEvent[][] = [];
  let n = 0;
  const base = { source: 'demo' as const, agentId: 'main' };
  for (let i = firstSession; i < firstSession + sessions; i++) {
    const key = `agent:main:bench:${i}`;
    const list: PulseEvent[] = [];
    let ts = 1_000_000 + i * 7;
    const at = (dt: number): number => {
      ts += dt;
      return ts;
    };
    const push = (e: EventBody) =>
      list.push({ ...base, sessionKey: key, dedupeKey: `b${n++}`, ...e } as PulseEvent);
    push({ type: 'session.seen', ts, sessionId: `sid-${i}`, label: `bench-${i}`, updatedAt: ts });
    for (let r = 0; r < runsPerSession; r++) {
      const runId = `run-${i}-${r}`;
      push({ type: 'agent.started', ts: at(5), runId });
      for (let k = 0; k < toolsPerRun; k++) {
        push({ type: 'agent.step_started', ts: at(3), runId, step: k + 1, model: 'claude-x' });
        push({
          type: 'llm.tokens',
          ts: at(2),
          runId,
          input: 8000 + k,
          output: 120,
          cacheRead: 4000,
          cacheWrite: 10,
          reasoning: 0,
          costUsd: 0.0123,
        });
        push({ type: 'assistant.text', ts: at(1), runId, text: NARRATION[(r + k) % NARRATION.length] ?? '' });
        const [name, args] = TOOLS[k % TOOLS.length] ?? TOOLS[0];
        // call ids repeat across runs, as in real transcripts
        push({ type: 'tool.call', ts: at(1), runId, callId: `call_${k}`, name, args });
        if (k === 2 && r % 4 === 0) {
          const childKey = `agent:main:subagent:${i}-${r}`;
          push({
            type: 'subagent.spawned',
            ts: at(1),
            parentKey: key,
            childKey,
            label: `helper-${r}`,
            runId,
          });
        }
        push({
          type: 'tool.output',
          ts: at(40),
          runId,
          callId: `call_${k}`,
          name,
          output: 'ok',
          durationMs: 40,
        });
      }
      push({
        type: 'agent.finished',
        ts: at(5),
        runId,
        outcome: r % 10 === 9 ? 'error' : 'ok',
        error: r % 10 === 9 ? 'overloaded' : undefined,
      });
    }
    perSession.push(list);
  }
  const out: PulseEvent[] = [];
  for (let j = 0; ; j++) {
    let any = false;
    for (const list of perSession) {
      const e = list[j];
      if (e) {
        out.push(e);
        any = true;
      }
    }
    if (!any) break;
  }
  return out;
}

export interface ModelBenchResult {
  events: number;
  ms: number;
  /** wall clock: noisy on a shared machine */
  eventsPerSec: number;
  /** by this process's CPU time: what the reducer costs when it gets a core */
  eventsPerCpuSec: number;
  /** 1,000 sessions left active with full status boxes */
  activeSessions: number;
  /** heap held by the model for them (events excluded) */
  heapMbFor1000Active: number;
  /**
   * whole process RSS with them loaded, after idle seconds (before the throughput passes): V8
   * gives the pages the generated input took back to the system only then
   */
  rssMbFor1000Active: number;
  /** the same right after loading (input garbage collected, its pages not yet given back) */
  rssMbRightAfterLoading: number;
  tickMsFor1000Active: number;
}

/** sessions generated and applied at a time in the memory phase */
const MEMORY_SLICE = 50;

const mb = (b: number): number => Math.round((b / 1048576) * 10) / 10;

/** a real gc() even without --expose-gc, so heap figures are not noise */
function getGc(): () => void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  try {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  } catch {
    return () => {};
  }
}

/** best of `passes` over one generated stream (kept local so it is collectable afterwards) */
function throughput(passes: number): { events: number; ms: number; cpuMs: number } {
  const stream = generateStream(1000, 10);
  let best = Number.POSITIVE_INFINITY;
  let bestCpu = Number.POSITIVE_INFINITY;
  for (let pass = 0; pass < passes; pass++) {
    const tracker = createSessionTracker(LIMITS);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (const e of stream) tracker.apply(e);
    best = Math.min(best, performance.now() - t0);
    const c = process.cpuUsage(c0);
    bestCpu = Math.min(bestCpu, (c.user + c.system) / 1000);
  }
  return { events: stream.length, ms: best, cpuMs: bestCpu };
}

export async function run(): Promise<ModelBenchResult> {
  // memory: 1,000 sessions mid-run (their last run has no agent.finished), full boxes. They are
  // generated and applied a slice at a time: all their events at once (200 MB of objects) left
  // V8 holding the pages they took, and the RSS measured that input, not the model
  const gc = getGc();
  // one slice into a model thrown away first: the code compiled for it is not the model's state
  const warmUp = createSessionTracker(LIMITS);
  for (const e of generateStream(MEMORY_SLICE, 3, 15)) warmUp.apply(e);
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const tracker = createSessionTracker(LIMITS);
  for (let first = 0; first < 1000; first += MEMORY_SLICE) {
    for (const e of generateStream(MEMORY_SLICE, 3, 15, first))
      if (!(e.type === 'agent.finished' && e.runId.endsWith('-2'))) tracker.apply(e);
  }
  gc();
  // the slices are garbage by now: the difference is the model's own state
  const heap1 = process.memoryUsage().heapUsed;
  const rss0 = process.memoryUsage().rss;
  // a daemon between bursts (it fell from ~200 to ~80 MB after 5-8 idle seconds)
  const rss1 = (await rssAfterIdle(gc)) * 1048576;
  const roots = tracker.all().filter((s) => !s.parentKey && s.status === 'active').length;
  const t1 = performance.now();
  tracker.tick(1_000_000 + 30_000);
  const tickMs = performance.now() - t1;

  // throughput: 1,000 sessions x 10 runs (~323k events), best of 3 passes
  const { events, ms, cpuMs } = throughput(3);

  return {
    events,
    ms: Math.round(ms),
    eventsPerSec: Math.round(events / (ms / 1000)),
    eventsPerCpuSec: Math.round(events / (Math.max(cpuMs, 1) / 1000)),
    activeSessions: roots,
    heapMbFor1000Active: mb(heap1 - heap0),
    rssMbFor1000Active: mb(rss1),
    rssMbRightAfterLoading: mb(rss0),
    tickMsFor1000Active: Math.round(tickMs * 100) / 100,
  };
}

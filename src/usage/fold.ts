/**
 * How stored events become usage rows: one folder per write, shared by every store
 * implementation (SQLite, PostgreSQL), so the rules live in one place.
 *
 * - Day: the UTC day of the event's `ts` (the fact's time, not when it was read).
 * - Tokens and cost: from `llm.tokens`, on the row of that event's model (else the session's
 *   current model); `estimated` sums the cost of events flagged `costEstimated`.
 * - Runs: `agent.started`. Tool calls: `tool.call`. Failed tools: `tool.error`.
 * - Errors: `llm.error`, plus a failed run (`agent.finished` outcome error) unless its run
 *   already counted an error (one failure told twice, as the model keeps one).
 * - Active time: the gaps between a session's consecutive activity events (runs, steps, text,
 *   tools, tokens, model errors, sub-agents) that are at most ACTIVE_GAP_MS, each counted on
 *   the later event's day; a longer gap is idle time. Rows, notes and stuck verdicts are not
 *   activity.
 * - Counters other than tokens go on the row of the session's current model ('' while none is
 *   known).
 * - Attributes: agent (first known), label (session.seen, session.note, a spawn's label for its
 *   child), channel (provider), repo (session.seen `cwd`), host, gateway, model: last known.
 */
import type { PulseEvent, StoredEvent } from '../model/events.js';

/** a pause longer than this between two events of a session is idle, not active time */
export const ACTIVE_GAP_MS = 5 * 60_000;

export interface SessionAttrs {
  agent: string;
  label: string;
  channel: string;
  repo: string;
  host: string;
  gateway: string;
  model: string;
  /** the last activity time (active time's previous event) */
  lastTs: number;
  /** the run whose failure was counted, and by which event ('llm' | 'run') */
  errRun: string;
  errKind: string;
}

export interface DayRow {
  sessionKey: string;
  day: string;
  model: string;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  reasoning: number;
  cost: number;
  costEst: number;
  runs: number;
  toolCalls: number;
  failedTools: number;
  errors: number;
  activeMs: number;
}

export const emptyAttrs = (): SessionAttrs => ({
  agent: '',
  label: '',
  channel: '',
  repo: '',
  host: '',
  gateway: '',
  model: '',
  lastTs: 0,
  errRun: '',
  errKind: '',
});

/**
 * Session attributes a store keeps in memory at most between writes (all are in its table). The
 * cache is emptied past this: 10,000 finished sessions held ~3 MB of attributes in an idle daemon,
 * and a session that writes again reads its row back with one indexed SELECT.
 */
export const CACHED_ATTRS = 1000;

const DAY_MS = 86_400_000;
/** the UTC day of an epoch ms as YYYY-MM-DD (cached per day: most events share a few days) */
let cachedDay = Number.NaN;
let cachedKey = '';
export function dayOf(ts: number): string {
  const d = Math.floor(ts / DAY_MS);
  if (d !== cachedDay) {
    cachedDay = d;
    cachedKey = new Date(d * DAY_MS).toISOString().slice(0, 10);
  }
  return cachedKey;
}

const ACTIVITY = new Set<PulseEvent['type']>([
  'agent.started',
  'agent.finished',
  'agent.step_started',
  'assistant.text',
  'tool.call',
  'tool.output',
  'tool.error',
  'llm.tokens',
  'llm.error',
  'subagent.spawned',
  'subagent.finished',
]);

const n = (x: unknown): number => (typeof x === 'number' && Number.isFinite(x) ? x : 0);

export interface UsageFolder {
  fold(e: PulseEvent): void;
  /** the rows touched since the last take, as deltas to add */
  takeRows(): DayRow[];
  /** the sessions whose attributes changed since the last take */
  takeAttrs(): Array<[string, SessionAttrs]>;
}

/**
 * `load` reads a session's attributes as stored (undefined: none yet); `cache` keeps them
 * between writes (the caller clears it when another writer may have changed them).
 */
export function createUsageFolder(
  load: (sessionKey: string) => SessionAttrs | undefined,
  cache: Map<string, SessionAttrs>,
): UsageFolder {
  let rows = new Map<string, DayRow>();
  let dirty = new Set<string>();

  const attrsOf = (key: string): SessionAttrs => {
    let a = cache.get(key);
    if (!a) {
      a = load(key) ?? emptyAttrs();
      cache.set(key, a);
    }
    return a;
  };

  const rowOf = (key: string, day: string, model: string): DayRow => {
    const k = `${day}\u0000${model}\u0000${key}`;
    let r = rows.get(k);
    if (!r) {
      r = {
        sessionKey: key,
        day,
        model,
        input: 0,
        output: 0,
        cacheRead: 0,
        cacheWrite: 0,
        reasoning: 0,
        cost: 0,
        costEst: 0,
        runs: 0,
        toolCalls: 0,
        failedTools: 0,
        errors: 0,
        activeMs: 0,
      };
      rows.set(k, r);
    }
    return r;
  };

  const set = (key: string, a: SessionAttrs, field: 'label' | 'channel' | 'repo' | 'model', v: unknown) => {
    if (typeof v === 'string' && v && a[field] !== v) {
      a[field] = v;
      dirty.add(key);
    }
  };

  function fold(e: PulseEvent): void {
    const key = e.sessionKey;
    const a = attrsOf(key);
    if (!a.agent && e.agentId && e.agentId !== 'unknown') {
      a.agent = e.agentId;
      dirty.add(key);
    }
    if (e.host && a.host !== e.host) {
      a.host = e.host;
      dirty.add(key);
    }
    if (e.gateway && a.gateway !== e.gateway) {
      a.gateway = e.gateway;
      dirty.add(key);
    }
    const ts = n(e.ts);
    const day = dayOf(ts);
    if (ACTIVITY.has(e.type)) {
      const gap = ts - a.lastTs;
      if (a.lastTs > 0 && gap > 0 && gap <= ACTIVE_GAP_MS) rowOf(key, day, a.model).activeMs += gap;
      if (ts > a.lastTs) {
        a.lastTs = ts;
        dirty.add(key);
      }
    }
    switch (e.type) {
      case 'session.seen':
        set(key, a, 'label', e.label);
        set(key, a, 'channel', e.channel?.provider);
        set(key, a, 'repo', e.cwd);
        set(key, a, 'model', e.model);
        return;
      case 'session.note':
        set(key, a, 'label', e.label);
        return;
      case 'agent.step_started':
        set(key, a, 'model', e.model);
        return;
      case 'agent.started':
        rowOf(key, day, a.model).runs++;
        return;
      case 'tool.call':
        rowOf(key, day, a.model).toolCalls++;
        return;
      case 'tool.error':
        rowOf(key, day, a.model).failedTools++;
        return;
      case 'llm.tokens': {
        set(key, a, 'model', e.model);
        const r = rowOf(key, day, e.model || a.model);
        r.input += n(e.input);
        r.output += n(e.output);
        r.cacheRead += n(e.cacheRead);
        r.cacheWrite += n(e.cacheWrite);
        r.reasoning += n(e.reasoning);
        r.cost += n(e.costUsd);
        if (e.costEstimated) r.costEst += n(e.costUsd);
        return;
      }
      case 'llm.error': {
        const run = e.runId ?? '';
        if (run && a.errRun === run && a.errKind === 'run') return;
        rowOf(key, day, a.model).errors++;
        a.errRun = run;
        a.errKind = 'llm';
        dirty.add(key);
        return;
      }
      case 'agent.finished': {
        if (e.outcome !== 'error') return;
        if (a.errRun === e.runId) return;
        rowOf(key, day, a.model).errors++;
        a.errRun = e.runId;
        a.errKind = 'run';
        dirty.add(key);
        return;
      }
      case 'subagent.spawned':
        if (e.label && e.childKey) {
          const c = attrsOf(e.childKey);
          if (!c.label) {
            c.label = e.label;
            dirty.add(e.childKey);
          }
        }
        return;
      default:
        return;
    }
  }

  return {
    fold,
    takeRows() {
      const out = [...rows.values()];
      rows = new Map();
      return out;
    },
    takeAttrs() {
      const out: Array<[string, SessionAttrs]> = [];
      for (const k of dirty) out.push([k, cache.get(k) ?? emptyAttrs()]);
      dirty = new Set();
      return out;
    },
  };
}

/** stored events are read back this many at a time to fold a gap or a backfill */
export const FOLD_PAGE = 5000;

/**
 * Folds the stored events in (from, to] into `folder`, read from the store a page at a time;
 * returns the last seq folded. Seqs may have gaps (an upgraded or re-seeded store): never past `to`.
 */
export function foldStoredRange(
  readAfter: (after: number, limit: number) => StoredEvent[],
  folder: Pick<UsageFolder, 'fold'>,
  from: number,
  to: number,
): number {
  let after = from;
  while (after < to) {
    const page = readAfter(after, Math.min(FOLD_PAGE, to - after));
    if (!page.length) break;
    for (const s of page) {
      if (s.seq > to) return after;
      folder.fold(s.event);
      after = s.seq;
    }
  }
  return after;
}

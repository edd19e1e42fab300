/**
 * `npm run bench -- usage`: a usage report over a store of 1,000,000 events, from the usage
 * aggregate (rows per session per UTC day, `src/store/usage-store.ts`) against a naive scan of
 * every stored event, in the same run (their ratio is the figure; machines here are shared).
 *
 * The store: 2,000 sessions over 60 days, each a run of real-shaped events (agent.started, model
 * steps, assistant text, tool calls with outputs and some errors, llm.tokens with cost), of 8
 * agents and 5 models, appended in batches of 500 as the pipeline does, each batch folded into
 * the aggregate (`record`, the same group commit as the events). Also measured: what folding
 * adds to appending (appends with and without `record`, on stores of 200,000 events).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PulseEvent } from '../src/model/events.js';
import { createSqliteStore } from '../src/store/sqlite-store.js';
import type { UsageStore } from '../src/store/usage-store.js';
import { cpuMs } from './support.js';

const EVENTS = 1_000_000;
const SESSIONS = 2000;
const DAYS = 60;
const BATCH = 500;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 9, 1);
const MODELS = ['claude-sonnet-4-5', 'claude-opus-4-1', 'gpt-5', 'gpt-4.1-mini', 'gemini-2.5-pro'];

/** event `i` of the synthetic history: sessions take turns, each a repeating run of 10 events */
function* history(n: number): Generator<PulseEvent> {
  const perSession = Math.ceil(n / SESSIONS);
  for (let i = 0; i < n; i++) {
    const s = i % SESSIONS;
    const k = Math.floor(i / SESSIONS);
    const sessionKey = `agent:a${s % 8}:s${s}`;
    const agentId = `a${s % 8}`;
    // a session's events are spread over its days, in order
    const ts =
      T0 + Math.floor(((s * 7919) % DAYS) * DAY * 0.5) + Math.floor((k / perSession) * DAYS * 0.5 * DAY) + s;
    const base = { ts, source: 'files' as const, sessionKey, agentId, dedupeKey: `${s}/${k}` };
    const run = `r${Math.floor(k / 10)}`;
    const model = MODELS[(s + Math.floor(k / 200)) % MODELS.length] as string;
    switch (k % 10) {
      case 0:
        yield { ...base, type: 'agent.started', runId: run };
        break;
      case 1:
        yield { ...base, type: 'agent.step_started', runId: run, model, provider: 'p' };
        break;
      case 2:
      case 6:
        yield {
          ...base,
          type: 'llm.tokens',
          runId: run,
          input: 1000 + (k % 97) * 31,
          output: 50 + (k % 13) * 7,
          cacheRead: 4000 + (k % 11) * 100,
          cacheWrite: k % 3 ? 0 : 800,
          reasoning: 0,
          costUsd: 0.0123 + (k % 17) * 0.0007,
          model,
        };
        break;
      case 3:
        yield { ...base, type: 'tool.call', runId: run, callId: `c${k}`, name: 'exec', args: 'ls -la /tmp' };
        break;
      case 4:
        if (k % 30 === 4)
          yield {
            ...base,
            type: 'tool.error',
            runId: run,
            callId: `c${k - 1}`,
            name: 'exec',
            error: 'exit 1',
          };
        else
          yield { ...base, type: 'tool.output', runId: run, callId: `c${k - 1}`, name: 'exec', output: 'ok' };
        break;
      case 9:
        yield { ...base, type: 'agent.finished', runId: run, outcome: k % 50 === 9 ? 'error' : 'ok' };
        break;
      default:
        yield {
          ...base,
          type: 'assistant.text',
          runId: run,
          text: 'Looking at the failing step of the build now.',
        };
    }
  }
}

function fill(
  path: string,
  n: number,
  fold: boolean,
): { ms: number; store: ReturnType<typeof createSqliteStore> } {
  const store = createSqliteStore(path);
  const usage = fold ? store.usage() : undefined;
  const t0 = cpuMs();
  let batch: PulseEvent[] = [];
  for (const e of history(n)) {
    batch.push(e);
    if (batch.length === BATCH) {
      const { stored } = store.append(batch);
      usage?.record(stored);
      batch = [];
    }
  }
  if (batch.length) usage?.record(store.append(batch).stored);
  store.flush();
  return { ms: cpuMs() - t0, store };
}

/** the report from every stored event, as a tool without the aggregate would compute it */
function naiveScan(store: ReturnType<typeof createSqliteStore>, keyOf: (e: PulseEvent) => string) {
  const out = new Map<string, { tokens: number; cost: number; runs: number }>();
  let after = 0;
  const model = new Map<string, string>();
  for (;;) {
    const page = store.readAfter(after, 10_000);
    if (!page.length) break;
    for (const { event: e } of page) {
      if (e.type === 'llm.tokens' && e.model) model.set(e.sessionKey, e.model);
      const k = keyOf(e.type === 'llm.tokens' ? e : ({ ...e, model: model.get(e.sessionKey) } as PulseEvent));
      let r = out.get(k);
      if (!r) {
        r = { tokens: 0, cost: 0, runs: 0 };
        out.set(k, r);
      }
      if (e.type === 'llm.tokens') {
        r.tokens += e.input + e.output + e.cacheRead + e.cacheWrite + e.reasoning;
        r.cost += e.costUsd;
      } else if (e.type === 'agent.started') r.runs++;
    }
    after = (page[page.length - 1] as { seq: number }).seq;
  }
  return out;
}

/** median wall ms of `times` calls */
function timed(fn: () => unknown, times = 5): number {
  const ms: number[] = [];
  for (let i = 0; i < times; i++) {
    const t = performance.now();
    fn();
    ms.push(performance.now() - t);
  }
  return ms.sort((a, b) => a - b)[Math.floor(times / 2)] as number;
}

export async function run(): Promise<Record<string, number | string>> {
  const dir = mkdtempSync(join(tmpdir(), 'clawpulse-bench-usage-'));
  try {
    // what folding costs at append time (200,000 events each way)
    const plain = fill(join(dir, 'plain.sqlite'), 200_000, false);
    plain.store.close();
    const folded = fill(join(dir, 'folded.sqlite'), 200_000, true);
    folded.store.close();

    const t = performance.now();
    const { store } = fill(join(dir, 'big.sqlite'), EVENTS, true);
    const buildS = (performance.now() - t) / 1000;
    const usage: UsageStore = store.usage();
    const all = { since: T0, until: T0 + (DAYS + 1) * DAY };
    const byDay = timed(() => usage.report({ by: 'day', ...all }));
    const byModel = timed(() => usage.report({ by: 'model', ...all }));
    const last7 = timed(() =>
      usage.report({ by: 'day', since: T0 + (DAYS - 7) * DAY, until: T0 + DAYS * DAY }),
    );
    const dayOf = (e: PulseEvent) => new Date(e.ts).toISOString().slice(0, 10);
    const scanDay = timed(() => naiveScan(store, dayOf), 1);
    const scanModel = timed(() => naiveScan(store, (e) => (e as { model?: string }).model ?? ''), 1);
    // the two agree (the aggregate is exact): total cost to the cent
    const aggCost = usage.report({ by: 'day', ...all }).reduce((a, r) => a + r.costUsd, 0);
    const scanCost = [...naiveScan(store, dayOf).values()].reduce((a, r) => a + r.cost, 0);
    const rows = (store.database().prepare('SELECT COUNT(*) FROM usage_days').pluck().get() as number) ?? 0;
    store.close();
    return {
      'events in the store': EVENTS,
      'usage rows (session x day x model)': rows,
      'store built in s (append + fold)': buildS,
      'usage --by day, aggregate ms (median of 5)': byDay,
      'usage --by model, aggregate ms (median of 5)': byModel,
      'usage --by day --since 7d, aggregate ms': last7,
      'usage --by day, naive scan of events ms': scanDay,
      'usage --by model, naive scan of events ms': scanModel,
      'scan / aggregate, by day (x)': scanDay / byDay,
      'scan / aggregate, by model (x)': scanModel / byModel,
      'total cost aggregate - scan (USD)': Math.abs(aggCost - scanCost),
      'append 200k events CPU ms, without folding': plain.ms,
      'append 200k events CPU ms, with folding': folded.ms,
      'folding overhead on append (x)': folded.ms / plain.ms,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

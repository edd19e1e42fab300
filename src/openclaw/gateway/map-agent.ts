/**
 * The `agent` event: `{runId, seq (per run), stream, ts, data, sessionKey?, sessionId?, agentId?, spawnedBy?}`.
 *
 *   lifecycle  start → agent.started; model (one model call) → agent.step_started;
 *              end → agent.finished ok/aborted; error → agent.finished error + llm.error.
 *              "finishing" and the trailing `model` phase with provider/model null are bookkeeping.
 *   item       tool items → tool.call / tool.output / tool.error (see map-tools.ts)
 *   assistant  cumulative text + delta: buffered, and emitted whole only when the run ends and no
 *              persisted assistant message (session.message) already gave us the text.
 *   usage      `{outputTokens}` only (2026.9): partial, so never counted; the persisted assistant
 *              message's `usage` is the one authoritative count per model call.
 *   command_output  repeats the exec tool's result; not needed.
 */
import { isObj, num, type Obj, str } from './frames.js';
import { type ParsedLlmError, parseLlmError } from './llm-error.js';
import { agentIdOf, emit, getRun, keys, type MapperState, type RunState } from './map-state.js';
import { mapToolItem } from './map-tools.js';

/** assistant text a run buffers at most: what the sources store of it (src/ingest/sanitize.ts) */
const MAX_BUFFERED_TEXT = 16 * 1024;

export function mapAgentEvent(st: MapperState, p: Obj, now: number): void {
  const runId = str(p.runId);
  const stream = str(p.stream);
  const data = isObj(p.data) ? p.data : undefined;
  if (!runId || !stream || !data) {
    st.counters.unmapped++;
    return;
  }
  const known = st.runs.get(runId);
  const sessionKey = str(p.sessionKey) ?? known?.sessionKey;
  if (!sessionKey) {
    st.counters.unmapped++;
    return;
  }
  const run = known ?? getRun(st, runId, sessionKey, agentIdOf(st, sessionKey, p.agentId));
  const ts = num(p.ts) ?? now;
  const seq = num(p.seq);
  switch (stream) {
    case 'lifecycle':
      lifecycle(st, run, data, ts, seq);
      return;
    case 'item':
      mapToolItem({ st, run, ts }, data);
      return;
    case 'assistant': {
      const item = str(data.itemId) ?? 'main';
      const prev = run.assistant.get(item) ?? '';
      // deltas stop being added past the text cap (the emitted text is cut there anyway)
      const text =
        typeof data.text === 'string'
          ? data.text
          : prev.length > MAX_BUFFERED_TEXT
            ? prev
            : `${prev}${typeof data.delta === 'string' ? data.delta : ''}`;
      run.assistant.set(item, text);
      return;
    }
    case 'run_status':
      if (data.phase === 'retrying') retrying(st, run, data, ts, seq);
      return;
    default:
      return;
  }
}

/**
 * 2026.9 tells when it retries a model call ("Provider temporarily unavailable. Retrying in 1s
 * (1/8)", reason "overloaded"). Nothing else records those attempts — not even the transcript —
 * so a 529 that a retry then cured is visible only here.
 */
function retrying(st: MapperState, run: RunState, data: Obj, ts: number, seq: number | undefined): void {
  const message = str(data.message) ?? 'model call failed; retrying';
  const reason = str(data.reason);
  const parsed = parseLlmError(`${message} ${reason ?? ''}`, reason);
  const attempt = num(data.retryAttempt) ?? num(data.attempt) ?? seq ?? ts;
  const text = reason ? `${message} (${reason})` : message;
  emitRunLlmError(st, run, ts, `retry-${attempt}`, { ...parsed, message: text, retryable: true });
}

/** the llm.error of a run, keyed so a replayed frame dedupes */
function emitRunLlmError(st: MapperState, run: RunState, ts: number, what: string, e: ParsedLlmError): void {
  emit(st, {
    type: 'llm.error',
    ts,
    source: 'gateway',
    sessionKey: run.sessionKey,
    agentId: run.agentId,
    dedupeKey: keys.run(run.runId, what),
    runId: run.runId,
    message: e.message,
    retryable: e.retryable,
    ...(e.status !== undefined ? { status: e.status } : {}),
  });
}

function lifecycle(st: MapperState, run: RunState, data: Obj, ts: number, seq: number | undefined): void {
  const base = {
    ts,
    source: 'gateway' as const,
    sessionKey: run.sessionKey,
    agentId: run.agentId,
    runId: run.runId,
  };
  switch (data.phase) {
    case 'start':
      st.currentRun.set(run.sessionKey, run.runId);
      emit(st, {
        ...base,
        ts: num(data.startedAt) ?? ts,
        type: 'agent.started',
        dedupeKey: keys.run(run.runId, 'start'),
      });
      return;
    case 'model': {
      const model = str(data.model);
      const provider = str(data.provider);
      // 2026.7+ sends a last `model` phase with both null while settling: not a model call
      if (!model && !provider) return;
      run.steps++;
      emit(st, {
        ...base,
        type: 'agent.step_started',
        dedupeKey: keys.run(run.runId, `step/${seq ?? run.steps}`),
        step: run.steps,
        ...(model ? { model } : {}),
        ...(provider ? { provider } : {}),
      });
      return;
    }
    case 'end': {
      flushAssistant(st, run, ts);
      const aborted = data.aborted === true;
      emit(st, {
        ...base,
        ts: num(data.endedAt) ?? ts,
        type: 'agent.finished',
        dedupeKey: keys.run(run.runId, 'end'),
        outcome: aborted ? 'aborted' : 'ok',
        ...(aborted && str(data.stopReason) ? { error: str(data.stopReason) } : {}),
      });
      return;
    }
    case 'error': {
      flushAssistant(st, run, ts);
      const error = errorText(data.error) ?? 'agent run failed';
      emit(st, {
        ...base,
        ts: num(data.endedAt) ?? ts,
        type: 'agent.finished',
        dedupeKey: keys.run(run.runId, 'end'),
        outcome: 'error',
        error,
      });
      emitLlmError(st, run, ts, error, str(data.errorKind));
      return;
    }
    default:
      return;
  }
}

/** one llm.error per run: lifecycle error, chat error and an errored assistant message all report it */
export function emitLlmError(
  st: MapperState,
  run: RunState,
  ts: number,
  message: string,
  kind?: string,
): void {
  if (run.llmErrorEmitted) return;
  run.llmErrorEmitted = true;
  emitRunLlmError(st, run, ts, 'llm-error', parseLlmError(message, kind));
}

/** Emits the buffered assistant text of a run, unless a persisted message already carried it. */
export function flushAssistant(st: MapperState, run: RunState, ts: number): void {
  if (!run.textFromMessages && !run.textEmitted) {
    for (const [item, text] of run.assistant) {
      const t = text.trim();
      if (!t) continue;
      run.textEmitted = true;
      emit(st, {
        type: 'assistant.text',
        ts,
        source: 'gateway',
        sessionKey: run.sessionKey,
        agentId: run.agentId,
        dedupeKey: keys.run(run.runId, `text/${item}`),
        runId: run.runId,
        text: t,
      });
    }
  }
  run.assistant.clear();
}

function errorText(e: unknown): string | undefined {
  if (typeof e === 'string') return e || undefined;
  if (isObj(e)) return str(e.message) ?? str(e.error) ?? JSON.stringify(e).slice(0, 500);
  return undefined;
}

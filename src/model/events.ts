/**
 * The event catalog: the one contract between ingest (every source) and the model.
 * Nothing past ingest sees an OpenClaw shape; every source emits these.
 *
 * Every event carries `ts` (epoch ms of the fact, not of when we saw it), `source`,
 * `sessionKey`, `agentId` and a `dedupeKey` that identifies the fact so the store and
 * pipeline drop a second sighting of it (a restart, a reconnect backfill, two sources).
 */

export type SourceKind = 'files' | 'sqlite' | 'gateway' | 'otlp' | 'demo' | 'dispatch';

/** Where a session talks: used for routing Mattermost boxes and shown in the dashboard. */
export interface SessionChannel {
  /** e.g. 'mattermost', 'webchat', 'telegram', 'signal' */
  provider?: string;
  /** provider-native channel id, e.g. a 26-char Mattermost channel id */
  channelId?: string;
  /** thread root (Mattermost root post id, Telegram topic, ...) */
  threadId?: string;
  chatType?: 'direct' | 'group' | 'channel' | string;
  accountId?: string;
}

interface EventBase {
  ts: number;
  source: SourceKind;
  sessionKey: string;
  agentId: string;
  dedupeKey: string;
  /** the gateway (a name in OPENCLAW_GATEWAYS) the event came from; its sessionKey is scoped by it (`session-scope.ts`) */
  gateway?: string;
  /** the host (CLAWPULSE_HOST) that stored the event, set when a fleet view reads a shared store; sessionKey scoped by it */
  host?: string;
}

export interface SessionSeenEvent extends EventBase {
  type: 'session.seen';
  sessionId?: string;
  label?: string;
  displayName?: string;
  /** spawnedBy: the parent session key of a sub-agent */
  parentKey?: string;
  spawnDepth?: number;
  channel?: SessionChannel;
  /** sessions.json / session row updatedAt (epoch ms): moving past a finished session's end = new turn */
  updatedAt?: number;
  model?: string;
  provider?: string;
  /** OpenClaw's own run status of the row when it has one (2026.7+): running|done|failed|killed|timeout */
  rowStatus?: string;
  /** the session's working directory (transcript header `cwd`): usage reports group by it as `repo` */
  cwd?: string;
}

export interface AgentStartedEvent extends EventBase {
  type: 'agent.started';
  runId: string;
}

export type RunOutcome = 'ok' | 'error' | 'aborted';

export interface AgentFinishedEvent extends EventBase {
  type: 'agent.finished';
  runId: string;
  outcome: RunOutcome;
  error?: string;
}

export interface AgentStepStartedEvent extends EventBase {
  type: 'agent.step_started';
  runId: string;
  /** 1-based model call number within the run, when known */
  step?: number;
  model?: string;
  provider?: string;
}

export interface AssistantTextEvent extends EventBase {
  type: 'assistant.text';
  runId?: string;
  text: string;
}

export interface ToolCallEvent extends EventBase {
  type: 'tool.call';
  runId: string;
  callId: string;
  name: string;
  /** short human summary of the arguments (e.g. the exec command), never the full payload */
  args?: string;
}

export interface ToolOutputEvent extends EventBase {
  type: 'tool.output';
  runId: string;
  callId: string;
  name: string;
  output?: string;
  durationMs?: number;
}

export interface ToolErrorEvent extends EventBase {
  type: 'tool.error';
  runId: string;
  callId: string;
  name: string;
  error: string;
  durationMs?: number;
}

export interface SubagentSpawnedEvent extends EventBase {
  type: 'subagent.spawned';
  parentKey: string;
  childKey: string;
  label?: string;
  runId?: string;
}

export interface SubagentFinishedEvent extends EventBase {
  type: 'subagent.finished';
  parentKey: string;
  childKey: string;
  outcome?: RunOutcome;
}

export interface LlmTokensEvent extends EventBase {
  type: 'llm.tokens';
  runId?: string;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  /** OpenClaw transcripts fold reasoning into output; only diagnostics/OTLP report it apart */
  reasoning: number;
  costUsd: number;
  /** costUsd was priced by clawpulse from its price table: the source gave none (`src/usage/estimate.ts`) */
  costEstimated?: boolean;
  model?: string;
  provider?: string;
}

export interface LlmErrorEvent extends EventBase {
  type: 'llm.error';
  runId?: string;
  /** HTTP-ish status when one can be read from the error (529 overloaded, 429, 500 ...) */
  status?: number;
  message: string;
  retryable: boolean;
}

export interface SessionCompactedEvent extends EventBase {
  type: 'session.compacted';
  /** 'append' = a compaction entry (file kept); 'rewrite' = the file was truncated/rewritten */
  mode?: 'append' | 'rewrite';
}

export interface SessionResetEvent extends EventBase {
  type: 'session.reset';
  sessionId?: string;
}

/** Reported by telemetry (OTLP openclaw.session.stuck) or by our own classifier. */
export interface SessionStuckEvent extends EventBase {
  type: 'session.stuck';
  ageMs?: number;
  reason?: string;
}

/**
 * clawpulse's own word about a session (dispatch: its label, "retry 2/3 after 529"): shown as a
 * system line of its box. Not activity: it never moves the silence clock.
 */
export interface SessionNoteEvent extends EventBase {
  type: 'session.note';
  text?: string;
  /** the dispatch label the session runs under */
  label?: string;
}

export type PulseEvent =
  | SessionSeenEvent
  | AgentStartedEvent
  | AgentFinishedEvent
  | AgentStepStartedEvent
  | AssistantTextEvent
  | ToolCallEvent
  | ToolOutputEvent
  | ToolErrorEvent
  | SubagentSpawnedEvent
  | SubagentFinishedEvent
  | LlmTokensEvent
  | LlmErrorEvent
  | SessionCompactedEvent
  | SessionResetEvent
  | SessionStuckEvent
  | SessionNoteEvent;

export type PulseEventType = PulseEvent['type'];

/** An event as the store keeps it: `seq` is the store's append order, 1-based, gap-free per store. */
export interface StoredEvent {
  seq: number;
  event: PulseEvent;
}

/**
 * Attribute names. Stable ones come from @opentelemetry/semantic-conventions; the GenAI ones
 * are still "incubating" there, and OpenTelemetry asks users of that entry point to copy the
 * names they need rather than import it (it changes in minor versions). Loading it also cost
 * 52 ms (16,000 lines) against 20 ms for the stable entry point on this machine, so the few
 * names are copied here (semantic-conventions 1.45.0).
 */
export {
  ATTR_ERROR_TYPE,
  ATTR_EXCEPTION_MESSAGE,
  ATTR_EXCEPTION_TYPE,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
} from '@opentelemetry/semantic-conventions';

export const ATTR_HOST_NAME = 'host.name';
export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
export const ATTR_GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name';
export const ATTR_GEN_AI_REQUEST_MODEL = 'gen_ai.request.model';
export const ATTR_GEN_AI_CONVERSATION_ID = 'gen_ai.conversation.id';
export const ATTR_GEN_AI_AGENT_ID = 'gen_ai.agent.id';
export const ATTR_GEN_AI_AGENT_NAME = 'gen_ai.agent.name';
export const ATTR_GEN_AI_TOOL_NAME = 'gen_ai.tool.name';
export const ATTR_GEN_AI_TOOL_CALL_ID = 'gen_ai.tool.call.id';
export const ATTR_GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens';
export const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens';
export const ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = 'gen_ai.usage.cache_read.input_tokens';
export const ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS = 'gen_ai.usage.cache_creation.input_tokens';
export const ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = 'gen_ai.usage.reasoning.output_tokens';
export const ATTR_GEN_AI_TOKEN_TYPE = 'gen_ai.token.type';

/** gen_ai.operation.name values */
export const OP_INVOKE_AGENT = 'invoke_agent';
export const OP_CHAT = 'chat';
export const OP_EXECUTE_TOOL = 'execute_tool';

/**
 * clawpulse's own (what GenAI lacks). Those marked (rx) are read by clawpulse's OTLP receiver
 * (src/ingest/otlp/map-traces.ts), so one clawpulse can rebuild another's model.
 */
export const OC = {
  sessionKey: 'openclaw.session.key', // (rx)
  agent: 'openclaw.agent', // (rx)
  runId: 'openclaw.run.id', // (rx)
  channel: 'openclaw.channel',
  label: 'openclaw.session.label', // (rx)
  parentKey: 'openclaw.session.parent_key', // (rx)
  childKey: 'openclaw.subagent.child_key', // (rx)
  childLabel: 'openclaw.subagent.label', // (rx)
  outcome: 'openclaw.outcome', // (rx)
  step: 'openclaw.step', // (rx)
  costUsd: 'openclaw.cost.usd', // (rx)
  cacheRead: 'openclaw.usage.cache_read_tokens', // (rx)
  cacheWrite: 'openclaw.usage.cache_write_tokens', // (rx)
  reasoning: 'openclaw.usage.reasoning_tokens', // (rx)
  retryable: 'openclaw.error.retryable', // (rx)
  toolArgs: 'openclaw.tool.args', // (rx)
  toolDurationMs: 'openclaw.tool.duration_ms', // (rx)
  /** 'in_progress' (a snapshot of an open span) or 'unfinished' (its run ended first) (rx) */
  spanState: 'openclaw.span.state',
  /** the span id the operation has (or will have) when it ends (rx) */
  finalSpanId: 'openclaw.span.final_id',
  inProgressMs: 'openclaw.in_progress.duration_ms',
  inProgressExports: 'openclaw.in_progress.exports',
  stuck: 'openclaw.session.stuck',
  stuckReason: 'openclaw.session.stuck_reason',
} as const;

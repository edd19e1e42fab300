/**
 * A scripted OpenAI-compatible model on 127.0.0.1:0 for driving the real OpenClaw.
 *
 * Turns are decided only from the request: the scenario tag (`[conf:NAME]`) of the last REAL
 * user message picks what to do, and once a `tool` message follows that user message the
 * answer is text. OpenClaw 2026.9+ appends a user message starting with
 * `<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>` after tool results; it is not a real user message
 * (treating it as one made the first live run loop for 5 minutes). A hard cap on tool calls per
 * conversation makes a loop impossible whatever OpenClaw sends.
 *
 * Every response carries the same usage, so token totals are (successful calls) × FIXED_USAGE.
 * Every request is appended to a JSONL log, with the scenario it was attributed to (from the
 * FIRST real user message of the conversation: each scenario runs in its own session).
 *
 * Dispatch scenarios (clawpulse sends `[Subagent Task]: <task>`, so the tag may follow that):
 * `reply` answers a text naming its request and how many real user messages it saw; `slow`
 * holds its first answer (headers and the first chunk go out at once, like a slow model) until
 * `release()` or `slowHoldMs`, or until OpenClaw hangs up (an abort), and that answer is an
 * exec call when exec is offered (a boundary inside the run where OpenClaw hands the model a
 * steer), then text; `busy` answers 529 until the conversation holds clawpulse's first retry
 * message (`RETRY_MARK`), then text.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const INTERNAL_MARKER = '<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>';
export const FIXED_USAGE = { prompt_tokens: 1000, completion_tokens: 20 } as const;
export const MAX_TOOL_CALLS = 4;
export const CHILD_TAG = '[conf:child]';
export const CHILD_LABEL = 'conf-child';
export const FAIL_COMMAND = 'ls /nonexistent-clawpulse-conformance';
export const MISSING_FILE = '/nonexistent-clawpulse-conformance/missing.txt';
export const OK_COMMAND = 'ls /tmp | head -3';
/** what clawpulse's first 529 retry says (src/dispatch/task-prompt.ts continuationMessage) */
export const RETRY_MARK = '[clawpulse retry 1/3]';
/** how long a `slow` answer is held at most when nobody releases it */
export const DEFAULT_SLOW_HOLD_MS = 20_000;
const SLOW_TEXT = 'Slow answer';

/** `heartbeat`: OpenClaw's own periodic poll of the main session (not started by the suite) */
export type Scenario =
  | 'tool'
  | 'spawn'
  | 'child'
  | 'overload'
  | 'fail'
  | 'toolfail'
  | 'execfail'
  | 'heartbeat'
  | 'reply'
  | 'slow'
  | 'busy'
  | 'none';

export interface LoggedRequest {
  n: number;
  t: number;
  path: string;
  stream: boolean;
  nmsgs: number;
  tools: string[];
  lastRole?: string;
  /** scenario of the conversation (first real user message) */
  scenario: Scenario;
  /** scenario of the last real user message (what drove the decision) */
  turnScenario: Scenario;
  lastUserText: string;
  /** the first real user message of the conversation (what the session started with) */
  firstUserText: string;
  /** real user messages in the request (a reused session's earlier turns count) */
  realUsers: number;
  /** every user message's text (OpenClaw's internal ones too), 500 characters each */
  userTexts: string[];
  /** text of the last tool result since that user message (the spawn result names the child) */
  lastToolResult?: string;
  decision:
    | { kind: 'tool'; name: string; args: unknown; id: string }
    | { kind: 'text'; text: string }
    | { kind: 'error'; status: number };
  /** usage sent back (absent for errors) */
  usage?: { prompt_tokens: number; completion_tokens: number };
  /** a held (`slow`) answer: how it ended and after how long (set once it ended) */
  hold?: { end: 'released' | 'timeout' | 'closed'; ms: number };
}

export interface FakeModel {
  /** e.g. http://127.0.0.1:41234/v1 */
  baseUrl: string;
  port: number;
  requests(): LoggedRequest[];
  /** `slow` answers being held right now */
  held(): number;
  /** lets every held answer go; returns how many */
  release(): number;
  close(): Promise<void>;
}

export interface FakeModelOptions {
  logFile: string;
  /** `[conf:overload]`: this many 529s (per fake instance) before it succeeds */
  overloadFailures?: number;
  /** `[conf:slow]`: the longest an answer is held (default DEFAULT_SLOW_HOLD_MS) */
  slowHoldMs?: number;
}

interface ChatMessage {
  role?: string;
  content?: unknown;
  tool_calls?: unknown[];
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((p) =>
        p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string'
          ? (p as { text: string }).text
          : '',
      )
      .join('');
  }
  return '';
}

const isRealUser = (m: ChatMessage): boolean =>
  m.role === 'user' && !textOf(m.content).trimStart().startsWith(INTERNAL_MARKER);

const NAMED: ReadonlySet<string> = new Set([
  'tool',
  'spawn',
  'overload',
  'fail',
  'toolfail',
  'execfail',
  'reply',
  'slow',
  'busy',
]);
const isScenario = (name: string | undefined): name is Scenario => name !== undefined && NAMED.has(name);

/** `[Sat 2026-11-21 14:46 UTC] [conf:tool] ...` → 'tool'; a sub-agent's task message → 'child' */
export function scenarioOf(text: string): Scenario {
  if (text.includes('[Subagent Task]') && text.includes(CHILD_TAG)) return 'child';
  // a dispatched task reads `[Subagent Task]: [conf:NAME] …`
  const m = /^\s*(?:\[[^\]]*\bUTC\]\s*)?(?:\[Subagent Task\]:\s*)?\[conf:([a-z]+)\]/.exec(text);
  const name = m?.[1];
  if (isScenario(name)) return name;
  // OpenClaw 2026.9 retries a failed turn with "[Queued user message from a previous active
  // turn; …]" wrapping the original text: the error scenarios must keep failing through it.
  if (text.includes('[conf:fail]')) return 'fail';
  if (text.includes('[conf:overload]')) return 'overload';
  if (text.includes('[conf:busy]')) return 'busy';
  return 'none';
}

/** which scenario a conversation belongs to, from its first real user message (tag anywhere) */
export function attributionOf(text: string): Scenario {
  if (text.includes('[Subagent Task]') && text.includes(CHILD_TAG)) return 'child';
  // the gateway polls agent:main:main on its own ("[OpenClaw heartbeat poll]") soon after start
  if (/heartbeat (poll|wake)/i.test(text)) return 'heartbeat';
  const name = /\[conf:([a-z]+)\]/.exec(text)?.[1];
  if (isScenario(name)) return name;
  return 'none';
}

export async function startFakeModel(opts: FakeModelOptions): Promise<FakeModel> {
  const log: LoggedRequest[] = [];
  /** the first answer of a `slow` turn, to be held */
  const toHold = new WeakSet<LoggedRequest>();
  const overloadSeen = new Map<string, number>();
  let callSeq = 0;

  function decide(
    body: { messages?: ChatMessage[]; tools?: Array<{ function?: { name?: string } }> },
    path: string,
    stream: boolean,
  ): LoggedRequest {
    const messages = Array.isArray(body.messages) ? body.messages : [];
    const tools = (body.tools ?? []).map((t) => t?.function?.name ?? '').filter(Boolean);
    let lastReal = -1;
    let firstReal = -1;
    messages.forEach((m, i) => {
      if (isRealUser(m)) {
        lastReal = i;
        if (firstReal < 0) firstReal = i;
      }
    });
    const realUsers = messages.filter(isRealUser);
    const lastUserText = lastReal >= 0 ? textOf(messages[lastReal]?.content) : '';
    const firstUserText = firstReal >= 0 ? textOf(messages[firstReal]?.content) : '';
    const afterUser = messages.slice(lastReal + 1);
    const toolsSinceUser = afterUser.filter((m) => m.role === 'assistant' && m.tool_calls?.length).length;
    const sawToolResult = afterUser.some((m) => m.role === 'tool');
    const totalToolCalls = messages.reduce(
      (n, m) => n + (m.role === 'assistant' ? (m.tool_calls?.length ?? 0) : 0),
      0,
    );
    const turnScenario = scenarioOf(lastUserText);
    const entry: Omit<LoggedRequest, 'decision'> = {
      n: log.length + 1,
      t: Date.now(),
      path,
      stream,
      nmsgs: messages.length,
      tools,
      lastRole: messages.at(-1)?.role,
      scenario: attributionOf(firstUserText),
      turnScenario,
      lastUserText: lastUserText.slice(0, 2000),
      firstUserText: firstUserText.slice(0, 2000),
      realUsers: realUsers.length,
      userTexts: messages.filter((m) => m.role === 'user').map((m) => textOf(m.content).slice(0, 500)),
      lastToolResult: afterUser
        .filter((m) => m.role === 'tool')
        .map((m) => textOf(m.content))
        .at(-1)
        ?.slice(0, 2000),
    };
    const tool = (name: string, args: unknown): LoggedRequest => ({
      ...entry,
      decision: { kind: 'tool', name, args, id: `call_conf_${++callSeq}` },
      usage: { ...FIXED_USAGE },
    });
    const text = (t: string): LoggedRequest => ({
      ...entry,
      decision: { kind: 'text', text: t },
      usage: { ...FIXED_USAGE },
    });

    if (turnScenario === 'fail') return { ...entry, decision: { kind: 'error', status: 529 } };
    if (entry.scenario === 'busy' || turnScenario === 'busy') {
      // overloaded until clawpulse's first retry is in the conversation (OpenClaw's own
      // retries of the turn, however it rewraps them, keep failing)
      const retried = realUsers.some((m) => textOf(m.content).includes(RETRY_MARK));
      if (!retried) return { ...entry, decision: { kind: 'error', status: 529 } };
      return text(`Recovered after clawpulse's retry (request ${entry.n}).`);
    }
    if (turnScenario === 'overload') {
      // counted per fake instance, not per text: OpenClaw rewraps the retried message
      const seen = overloadSeen.get('overload') ?? 0;
      if (seen < (opts.overloadFailures ?? 1)) {
        overloadSeen.set('overload', seen + 1);
        return { ...entry, decision: { kind: 'error', status: 529 } };
      }
    }
    if (sawToolResult || totalToolCalls >= MAX_TOOL_CALLS) {
      return text(`Done with ${turnScenario} after ${toolsSinceUser} tool call(s).`);
    }
    switch (turnScenario) {
      case 'tool':
      case 'child':
        return tool('exec', { command: OK_COMMAND });
      case 'toolfail':
        return tool('read', { path: MISSING_FILE });
      case 'execfail':
        return tool('exec', { command: FAIL_COMMAND });
      case 'spawn': {
        const args = { task: `${CHILD_TAG} list /tmp and report.`, label: CHILD_LABEL };
        if (tools.includes('sessions_spawn')) return tool('sessions_spawn', args);
        if (tools.includes('tool_call')) return tool('tool_call', { id: 'sessions_spawn', args });
        return text('No spawn tool offered.');
      }
      case 'reply':
        return text(`Conformance reply r${entry.n}: ${realUsers.length} user message(s) in this session.`);
      case 'slow': {
        // held (see hold()); then an exec call when offered, so the run has a boundary (the
        // tool's end) where OpenClaw can hand the model a steer, else text
        const d = tools.includes('exec') ? tool('exec', { command: OK_COMMAND }) : text(SLOW_TEXT);
        toHold.add(d);
        return d;
      }
      default:
        return text('Noted.');
    }
  }

  /** the status line and, for a stream, its first chunk; `writeBody` sends the rest */
  function writeHead(res: http.ServerResponse, d: LoggedRequest): void {
    if (d.decision.kind === 'error') return;
    if (!d.stream) return;
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    streamChunk(res, d, [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]);
  }

  function streamChunk(
    res: http.ServerResponse,
    d: LoggedRequest,
    choices: unknown[],
    extra: Record<string, unknown> = {},
  ): void {
    const id = `chatcmpl-conf-${d.n}`;
    const created = Math.floor(d.t / 1000);
    res.write(
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: 'fake-model', choices, ...extra })}\n\n`,
    );
  }

  function writeBody(res: http.ServerResponse, d: LoggedRequest): void {
    const id = `chatcmpl-conf-${d.n}`;
    const created = Math.floor(d.t / 1000);
    if (d.decision.kind === 'error') {
      res.writeHead(d.decision.status, { 'content-type': 'application/json' });
      // Both shapes at once: Anthropic's {type:"error",error:{type}} and OpenAI's {error:{message,code}}.
      res.end(
        JSON.stringify({
          type: 'error',
          error: { type: 'overloaded_error', message: 'Overloaded', code: 'overloaded', status: 529 },
        }),
      );
      return;
    }
    const usage = { ...FIXED_USAGE, total_tokens: FIXED_USAGE.prompt_tokens + FIXED_USAGE.completion_tokens };
    const dec = d.decision;
    const finish = dec.kind === 'tool' ? 'tool_calls' : 'stop';
    const toolCall =
      dec.kind === 'tool'
        ? {
            index: 0,
            id: dec.id,
            type: 'function',
            function: { name: dec.name, arguments: JSON.stringify(dec.args) },
          }
        : undefined;
    if (!d.stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      const message =
        dec.kind === 'tool'
          ? { role: 'assistant', content: null, tool_calls: [{ ...toolCall, index: undefined }] }
          : { role: 'assistant', content: dec.text };
      res.end(
        JSON.stringify({
          id,
          object: 'chat.completion',
          created,
          model: 'fake-model',
          choices: [{ index: 0, message, finish_reason: finish }],
          usage,
        }),
      );
      return;
    }
    if (toolCall) streamChunk(res, d, [{ index: 0, delta: { tool_calls: [toolCall] }, finish_reason: null }]);
    else if (dec.kind === 'text')
      streamChunk(res, d, [{ index: 0, delta: { content: dec.text }, finish_reason: null }]);
    streamChunk(res, d, [{ index: 0, delta: {}, finish_reason: finish }]);
    streamChunk(res, d, [], { usage });
    res.end('data: [DONE]\n\n');
  }

  const logLine = (d: LoggedRequest) => fs.appendFileSync(opts.logFile, `${JSON.stringify(d)}\n`);

  /** held `slow` answers: each ends on release(), its timeout, or OpenClaw hanging up */
  const holds = new Set<(end: 'released' | 'timeout' | 'closed') => void>();

  function hold(res: http.ServerResponse, d: LoggedRequest): void {
    writeHead(res, d);
    const t0 = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const finish = (end: 'released' | 'timeout' | 'closed') => {
      if (!holds.delete(finish)) return;
      clearTimeout(timer);
      d.hold = { end, ms: Date.now() - t0 };
      if (end !== 'closed') {
        if (d.decision.kind === 'text')
          d.decision = { kind: 'text', text: `${SLOW_TEXT}, held ${d.hold.ms} ms (${end}).` };
        if (!res.destroyed) writeBody(res, d);
      }
      logLine(d);
    };
    holds.add(finish);
    timer = setTimeout(() => finish('timeout'), opts.slowHoldMs ?? DEFAULT_SLOW_HOLD_MS);
    res.on('close', () => {
      if (!res.writableEnded) finish('closed');
    });
  }

  const server = http.createServer((req, res) => {
    const url = req.url ?? '';
    if (req.method === 'GET' && url.startsWith('/v1/models')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          object: 'list',
          data: [{ id: 'fake-model', object: 'model', owned_by: 'clawpulse' }],
        }),
      );
      return;
    }
    if (req.method !== 'POST' || !url.startsWith('/v1/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `no route ${req.method} ${url}` } }));
      return;
    }
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      let body: Parameters<typeof decide>[0];
      try {
        body = JSON.parse(Buffer.concat(parts).toString('utf8')) as Parameters<typeof decide>[0];
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'bad json' } }));
        return;
      }
      const stream = (body as { stream?: unknown }).stream === true;
      const d = decide(body, url, stream);
      log.push(d);
      if (toHold.has(d)) {
        hold(res, d);
        return;
      }
      logLine(d);
      writeHead(res, d);
      writeBody(res, d);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    port,
    requests: () => [...log],
    held: () => holds.size,
    release: () => {
      const n = holds.size;
      for (const f of [...holds]) f('released');
      return n;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const f of [...holds]) f('closed');
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

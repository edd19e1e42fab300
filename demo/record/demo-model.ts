/**
 * The scripted model the demo recordings are made with: a small OpenAI-compatible server
 * (`POST /v1/chat/completions`, SSE and JSON) on 127.0.0.1 that plays a written script per
 * session, so the real OpenClaw runs real tools and sub-agents with narration a person would
 * write. (test/conformance/fake-model.ts keeps its fixed `[conf:*]` scenarios; its server is
 * not split into reusable parts, so this is its own small server, same wire format.)
 *
 * Which script: the first user message of the conversation contains the script's `match`
 * phrase (a sub-agent's first message holds the task its parent gave to sessions_spawn).
 * Which step: the tool calls the model already made since the last user message. A user
 * message after the first one is a sub-agent's announce (its result), answered by
 * `afterAnnounce`. A step can answer 529 (once: OpenClaw retries it itself; always: the turn
 * fails) and can take its time ("thinking"), so the sessions last as long as real ones.
 *
 * Usage is estimated from the request like a tokenizer would (about 4 characters a token),
 * with the previous request of the same conversation counted as a prompt-cache hit.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ToolStep {
  /** what the model says before the call (shown as narration) */
  say?: string;
  tool: string;
  args: Record<string, unknown>;
  thinkMs?: number;
  /** answer 529 before this step: once (then OpenClaw's retry succeeds) or every time */
  overload?: 'once' | 'always';
}

export interface TextStep {
  text: string;
  thinkMs?: number;
  overload?: 'once' | 'always';
}

export type Step = ToolStep | TextStep;

export interface Script {
  id: string;
  /** a phrase of the conversation's first user message */
  match: string;
  steps: Step[];
  /** the answer to a sub-agent's announce */
  afterAnnounce?: Step[];
}

export interface DemoModel {
  baseUrl: string;
  /** every answer so far: script id, branch, step, what was sent */
  log(): DemoLogEntry[];
  close(): Promise<void>;
}

export interface DemoLogEntry {
  t: number;
  script: string;
  branch: 'task' | 'announce' | 'none';
  step: number;
  kind: 'tool' | 'text' | 'error';
  tool?: string;
  promptTokens?: number;
  lastUser: string;
}

interface ChatMessage {
  role?: string;
  content?: unknown;
  tool_calls?: unknown[];
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((p) => (p && typeof p === 'object' && typeof p.text === 'string' ? (p.text as string) : ''))
    .join('');
}

const tokensOf = (chars: number): number => Math.max(1, Math.round(chars / 4));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startDemoModel(opts: {
  scripts: readonly Script[];
  /** every request and answer, one JSON line each */
  logFile: string;
  /** scales every thinkMs (0 = answer at once, for tests) */
  pace?: number;
}): Promise<DemoModel> {
  const entries: DemoLogEntry[] = [];
  const overloads = new Map<string, number>();
  /** conversation → the previous request's prompt tokens (the provider's cache) */
  const cached = new Map<string, number>();
  let seq = 0;

  function decide(body: { messages?: ChatMessage[]; tools?: Array<{ function?: { name?: string } }> }) {
    const messages = Array.isArray(body.messages) ? body.messages : [];
    const offered = new Set((body.tools ?? []).map((t) => t?.function?.name ?? ''));
    const users = messages.map((m, i) => (m.role === 'user' ? i : -1)).filter((i) => i >= 0);
    const first = users[0] ?? -1;
    const last = users.at(-1) ?? -1;
    const firstText = first >= 0 ? textOf(messages[first]?.content) : '';
    const lastText = last >= 0 ? textOf(messages[last]?.content) : '';
    const script = opts.scripts.find((s) => firstText.includes(s.match));
    const branch: DemoLogEntry['branch'] = !script ? 'none' : last === first ? 'task' : 'announce';
    const step = messages
      .slice(last + 1)
      .filter((m) => m.role === 'assistant' && (m.tool_calls?.length ?? 0) > 0).length;
    const steps = !script ? [] : branch === 'task' ? script.steps : (script.afterAnnounce ?? []);
    let s: Step = steps[step] ?? { text: step > 0 ? 'Done.' : 'Noted.' };
    // a tool OpenClaw does not offer here would be refused: say so instead of calling it
    if ('tool' in s && !offered.has(s.tool)) s = { text: `(${s.tool} is not available here.)` };
    const conv = `${script?.id ?? 'none'}|${firstText.slice(0, 200)}`;
    const promptChars = JSON.stringify(messages).length + JSON.stringify(body.tools ?? []).length;
    const promptTokens = tokensOf(promptChars);
    const at = `${conv}|${branch}|${step}`;
    let error = false;
    if (s.overload === 'always') error = true;
    if (s.overload === 'once' && (overloads.get(at) ?? 0) < 1) {
      overloads.set(at, 1);
      error = true;
    }
    const entry: DemoLogEntry = {
      t: Date.now(),
      script: script?.id ?? 'none',
      branch,
      step,
      kind: error ? 'error' : 'tool' in s ? 'tool' : 'text',
      lastUser: lastText.slice(0, 300),
    };
    if ('tool' in s && !error) entry.tool = s.tool;
    if (!error) entry.promptTokens = promptTokens;
    const cacheHit = error ? 0 : Math.min(cached.get(conv) ?? 0, promptTokens);
    if (!error) cached.set(conv, promptTokens);
    return { entry, step: s, error, promptTokens, cacheHit };
  }

  const server = http.createServer((req, res) => {
    const url = req.url ?? '';
    if (req.method === 'GET' && url.startsWith('/v1/models')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [{ id: 'demo-model', object: 'model' }] }));
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
      void (async () => {
        let body: Parameters<typeof decide>[0] & { stream?: unknown };
        try {
          body = JSON.parse(Buffer.concat(parts).toString('utf8')) as typeof body;
        } catch {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: 'bad json' } }));
          return;
        }
        const d = decide(body);
        entries.push(d.entry);
        fs.appendFileSync(opts.logFile, `${JSON.stringify(d.entry)}\n`);
        const think = Math.round((d.step.thinkMs ?? 800) * (opts.pace ?? 1));
        if (think > 0) await sleep(think);
        if (res.destroyed) return;
        if (d.error) {
          res.writeHead(529, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              type: 'error',
              error: { type: 'overloaded_error', message: 'Overloaded', code: 'overloaded', status: 529 },
            }),
          );
          return;
        }
        send(res, body.stream === true, d.step, d.promptTokens, d.cacheHit, ++seq);
      })();
    });
  });

  function send(
    res: http.ServerResponse,
    stream: boolean,
    s: Step,
    promptTokens: number,
    cacheHit: number,
    n: number,
  ): void {
    const id = `chatcmpl-demo-${n}`;
    const created = Math.floor(Date.now() / 1000);
    const text = 'tool' in s ? (s.say ?? '') : s.text;
    const call =
      'tool' in s
        ? {
            index: 0,
            id: `call_demo_${n}`,
            type: 'function',
            function: { name: s.tool, arguments: JSON.stringify(s.args) },
          }
        : undefined;
    const completion = tokensOf(text.length + (call ? call.function.arguments.length + 20 : 0)) + 6;
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completion,
      total_tokens: promptTokens + completion,
      prompt_tokens_details: { cached_tokens: cacheHit },
    };
    const finish = call ? 'tool_calls' : 'stop';
    if (!stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      const message = call
        ? { role: 'assistant', content: text || null, tool_calls: [{ ...call, index: undefined }] }
        : { role: 'assistant', content: text };
      res.end(
        JSON.stringify({
          id,
          object: 'chat.completion',
          created,
          model: 'demo-model',
          choices: [{ index: 0, message, finish_reason: finish }],
          usage,
        }),
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      res.write(
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: 'demo-model', choices, ...extra })}\n\n`,
      );
    chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]);
    if (text) chunk([{ index: 0, delta: { content: text }, finish_reason: null }]);
    if (call) chunk([{ index: 0, delta: { tool_calls: [call] }, finish_reason: null }]);
    chunk([{ index: 0, delta: {}, finish_reason: finish }]);
    chunk([], { usage });
    res.end('data: [DONE]\n\n');
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    log: () => [...entries],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

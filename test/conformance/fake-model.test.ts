/** The fake model's script, over real HTTP on 127.0.0.1: it must never loop and must be exact. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  attributionOf,
  FAIL_COMMAND,
  type FakeModel,
  FIXED_USAGE,
  INTERNAL_MARKER,
  MAX_TOOL_CALLS,
  scenarioOf,
  startFakeModel,
} from './fake-model.js';

type J = any;

let fake: FakeModel;
let dir: string;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawpulse-fake-model-'));
  fake = await startFakeModel({ logFile: path.join(dir, 'requests.jsonl'), overloadFailures: 1 });
});
afterEach(async () => {
  await fake.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const tools = (...names: string[]) =>
  names.map((name) => ({ type: 'function', function: { name, parameters: {} } }));

async function chat(body: Record<string, unknown>): Promise<Response> {
  return fetch(`${fake.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** parses an SSE stream into its JSON chunks (without [DONE]) */
async function sse(res: Response): Promise<Array<Record<string, J>>> {
  const text = await res.text();
  expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
  return text
    .split('\n\n')
    .map((b) => b.replace(/^data: /, '').trim())
    .filter((b) => b && b !== '[DONE]')
    .map((b) => JSON.parse(b) as Record<string, J>);
}

describe('scenario parsing', () => {
  it('reads the tag at the start of a (timestamped) user message, and a sub-agent task', () => {
    expect(scenarioOf('[Sat 2026-11-21 14:46 UTC] [conf:tool] go')).toBe('tool');
    expect(scenarioOf('please [conf:tool] later')).toBe('none');
    expect(scenarioOf('[conf:execfail] x')).toBe('execfail');
    expect(scenarioOf('[conf:nosuch] x')).toBe('none');
    expect(scenarioOf('[Subagent Context] x\n\n[Subagent Task]\n\n[conf:child] list')).toBe('child');
    expect(scenarioOf('[Queued user message from a previous active turn] [conf:fail] x')).toBe('fail');
    expect(attributionOf('[Queued user message] … [conf:overload] x')).toBe('overload');
    expect(attributionOf('[Sat 2026-11-21 16:00 UTC] [OpenClaw heartbeat poll]')).toBe('heartbeat');
    expect(scenarioOf('[Sat 2026-11-21 16:00 UTC] [OpenClaw heartbeat poll]')).toBe('none');
  });
});

describe('fake model over HTTP', () => {
  it('streams an exec tool call, then text once a tool result follows; usage in a final chunk with no choices', async () => {
    const user = { role: 'user', content: '[conf:tool] list' };
    const first = await sse(await chat({ stream: true, messages: [user], tools: tools('exec', 'read') }));
    const call = first.flatMap((c) => c.choices).find((ch) => ch.delta?.tool_calls)?.delta.tool_calls[0];
    expect(call.function.name).toBe('exec');
    expect(JSON.parse(call.function.arguments)).toEqual({ command: 'ls /tmp | head -3' });
    const last = first.at(-1) as Record<string, J>;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject(FIXED_USAGE);

    const second = await sse(
      await chat({
        stream: true,
        messages: [
          user,
          { role: 'assistant', tool_calls: [{ id: call.id }] },
          { role: 'tool', content: 'a\nb' },
        ],
        tools: tools('exec'),
      }),
    );
    const text = second
      .flatMap((c) => c.choices)
      .map((ch) => ch.delta?.content ?? '')
      .join('');
    expect(text).toMatch(/^Done with tool/);
    expect(second.flatMap((c) => c.choices).some((ch) => ch.finish_reason === 'stop')).toBe(true);
  });

  it('ignores OpenClaw internal-context user messages when deciding (no tool loop)', async () => {
    const res = await chat({
      stream: false,
      messages: [
        { role: 'user', content: '[conf:tool] list' },
        { role: 'assistant', tool_calls: [{ id: 'callconf1' }] },
        { role: 'tool', content: 'ok' },
        { role: 'user', content: `${INTERNAL_MARKER}\nactive exec sessions: none` },
      ],
      tools: tools('exec'),
    });
    const body = (await res.json()) as Record<string, J>;
    expect(body.choices[0].message.content).toMatch(/^Done with tool/);
    expect(body.usage.prompt_tokens).toBe(FIXED_USAGE.prompt_tokens);
  });

  it('stops calling tools after the cap whatever the history says', async () => {
    const calls = Array.from({ length: MAX_TOOL_CALLS }, (_, i) => ({
      role: 'assistant',
      tool_calls: [{ id: `c${i}` }],
    }));
    const res = await chat({
      stream: false,
      messages: [...calls, { role: 'user', content: '[conf:tool] again' }],
      tools: tools('exec'),
    });
    const body = (await res.json()) as Record<string, J>;
    expect(body.choices[0].message.tool_calls).toBeUndefined();
    expect(body.choices[0].finish_reason).toBe('stop');
  });

  it('spawns through sessions_spawn when offered, else through the 2026.9 tool_call wrapper', async () => {
    const direct = (await (
      await chat({ messages: [{ role: 'user', content: '[conf:spawn] go' }], tools: tools('sessions_spawn') })
    ).json()) as Record<string, J>;
    expect(direct.choices[0].message.tool_calls[0].function.name).toBe('sessions_spawn');
    const wrapped = (await (
      await chat({
        messages: [{ role: 'user', content: '[conf:spawn] go' }],
        tools: tools('tool_call', 'exec'),
      })
    ).json()) as Record<string, J>;
    const fn = wrapped.choices[0].message.tool_calls[0].function;
    expect(fn.name).toBe('tool_call');
    expect(JSON.parse(fn.arguments)).toMatchObject({ id: 'sessions_spawn', args: { label: 'conf-child' } });
  });

  it('asks for a failing exec in the execfail scenario', async () => {
    const body = (await (
      await chat({ messages: [{ role: 'user', content: '[conf:execfail] x' }], tools: tools('exec') })
    ).json()) as Record<string, J>;
    const fn = body.choices[0].message.tool_calls[0].function;
    expect(fn.name).toBe('exec');
    expect(JSON.parse(fn.arguments)).toEqual({ command: FAIL_COMMAND });
  });

  it('answers 529 with an overloaded body: once for overload, always for fail', async () => {
    const ov = [{ role: 'user', content: '[conf:overload] x' }];
    const r1 = await chat({ stream: true, messages: ov });
    expect(r1.status).toBe(529);
    expect(((await r1.json()) as Record<string, J>).error.type).toBe('overloaded_error');
    expect((await chat({ stream: true, messages: ov })).status).toBe(200);
    for (let i = 0; i < 3; i++)
      expect((await chat({ messages: [{ role: 'user', content: '[conf:fail] x' }] })).status).toBe(529);
  });

  it('logs every request to the file, survives a garbage body, and lists its model', async () => {
    const bad = await fetch(`${fake.baseUrl}/chat/completions`, { method: 'POST', body: '{not json' });
    expect(bad.status).toBe(400);
    await chat({ messages: [{ role: 'user', content: '[conf:toolfail] x' }], tools: tools('read') });
    const models = (await (await fetch(`${fake.baseUrl}/models`)).json()) as Record<string, J>;
    expect(models.data[0].id).toBe('fake-model');
    const lines = fs.readFileSync(path.join(dir, 'requests.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      scenario: 'toolfail',
      decision: { kind: 'tool', name: 'read' },
    });
    expect(fake.requests()).toHaveLength(1);
  });
});

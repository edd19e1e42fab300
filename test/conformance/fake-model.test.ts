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
  RETRY_MARK,
  scenarioOf,
  startFakeModel,
} from './fake-model.js';

type J = any;

let fake: FakeModel;
let dir: string;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawpulse-fake-model-'));
  fake = await startFakeModel({
    logFile: path.join(dir, 'requests.jsonl'),
    overloadFailures: 1,
    slowHoldMs: 1500,
  });
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

  it("reads the tag of a dispatched task ('[Subagent Task]: [conf:NAME] …'), and busy through a rewrap", () => {
    expect(scenarioOf('[Subagent Task]: [conf:reply] c-basic\n\n---\nCOMPLETION SIGNAL')).toBe('reply');
    expect(scenarioOf('[Sat 2026-11-21 14:46 UTC] [Subagent Task]: [conf:slow] x')).toBe('slow');
    expect(
      scenarioOf('[Queued user message from a previous active turn] [Subagent Task]: [conf:busy] x'),
    ).toBe('busy');
    expect(attributionOf('[Subagent Task]: [conf:busy] x')).toBe('busy');
    expect(scenarioOf('STEER-TOKEN-1 please also say hi')).toBe('none');
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

  it('reply: a text naming the request and the real user messages it saw', async () => {
    const first = (await (
      await chat({ messages: [{ role: 'user', content: '[Subagent Task]: [conf:reply] one' }] })
    ).json()) as Record<string, J>;
    expect(first.choices[0].message.content).toBe('Conformance reply r1: 1 user message(s) in this session.');
    const second = (await (
      await chat({
        messages: [
          { role: 'user', content: '[Subagent Task]: [conf:reply] one' },
          { role: 'assistant', content: first.choices[0].message.content },
          { role: 'user', content: `${INTERNAL_MARKER} x` },
          { role: 'user', content: '[Subagent Task]: [conf:reply] two' },
        ],
      })
    ).json()) as Record<string, J>;
    expect(second.choices[0].message.content).toBe(
      'Conformance reply r2: 2 user message(s) in this session.',
    );
    expect(fake.requests()[1]).toMatchObject({
      scenario: 'reply',
      realUsers: 2,
      firstUserText: '[Subagent Task]: [conf:reply] one',
    });
  });

  it('slow: holds the answer (the stream head goes out at once) until release()', async () => {
    const res = await chat({ stream: true, messages: [{ role: 'user', content: '[conf:slow] wait' }] });
    expect(res.status).toBe(200);
    expect(fake.held()).toBe(1);
    expect(fake.requests()[0]?.hold).toBeUndefined();
    expect(fake.release()).toBe(1);
    const text = (await sse(res))
      .flatMap((c) => c.choices)
      .map((ch) => ch.delta?.content ?? '')
      .join('');
    expect(text).toMatch(/^Slow answer, held \d+ ms \(released\)\.$/);
    expect(fake.held()).toBe(0);
    expect(fake.requests()[0]?.hold?.end).toBe('released');
    // the steer that follows a slow turn is answered at once
    const after = (await (
      await chat({
        messages: [
          { role: 'user', content: '[conf:slow] wait' },
          { role: 'assistant', content: text },
          { role: 'user', content: 'STEER-TOKEN-x' },
        ],
      })
    ).json()) as Record<string, J>;
    expect(after.choices[0].message.content).toBe('Noted.');
    expect(fake.requests()[1]).toMatchObject({ scenario: 'slow', turnScenario: 'none' });
  });

  it('slow: with exec offered, the held answer is an exec call (a steer boundary), then text', async () => {
    const user = { role: 'user', content: '[Subagent Task]: [conf:slow] x' };
    const res = await chat({ stream: true, messages: [user], tools: tools('exec', 'read') });
    await expect.poll(() => fake.held()).toBe(1);
    fake.release();
    const call = (await sse(res)).flatMap((c) => c.choices).find((ch) => ch.delta?.tool_calls)?.delta
      .tool_calls[0];
    expect(call.function.name).toBe('exec');
    expect(fake.requests()[0]?.hold?.end).toBe('released');
    // the next call of the run carries the tool result (and, live, the steer): not held
    const next = (await (
      await chat({
        messages: [
          user,
          { role: 'assistant', tool_calls: [{ id: call.id }] },
          { role: 'tool', content: 'a' },
          { role: 'user', content: 'STEER-TOKEN-y' },
        ],
        tools: tools('exec'),
      })
    ).json()) as Record<string, J>;
    expect(next.choices[0].message.content).toBe('Noted.');
    expect(fake.held()).toBe(0);
    expect(fake.requests()[1]?.hold).toBeUndefined();
  });

  it('slow: lets go by itself after slowHoldMs, and notes a client that hung up (an abort)', async () => {
    const t0 = Date.now();
    const res = await chat({ messages: [{ role: 'user', content: '[conf:slow] wait' }] });
    const body = (await res.json()) as Record<string, J>;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1400);
    expect(body.choices[0].message.content).toMatch(/\(timeout\)\.$/);

    const ac = new AbortController();
    const pending = chat2(
      { stream: true, messages: [{ role: 'user', content: '[conf:slow] x' }] },
      ac.signal,
    );
    await expect.poll(() => fake.held()).toBe(1);
    ac.abort();
    await pending.catch(() => {});
    await expect.poll(() => fake.requests()[1]?.hold?.end).toBe('closed');
    expect(fake.held()).toBe(0);
    const lines = fs.readFileSync(path.join(dir, 'requests.jsonl'), 'utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).hold?.end)).toEqual(['timeout', 'closed']);
  });

  it(`busy: 529 whatever OpenClaw retries, until the conversation holds ${RETRY_MARK}`, async () => {
    const task = { role: 'user', content: '[Subagent Task]: [conf:busy] x' };
    for (let i = 0; i < 3; i++) expect((await chat({ messages: [task] })).status).toBe(529);
    const rewrapped = {
      role: 'user',
      content: '[Queued user message from a previous active turn] [conf:busy] x',
    };
    expect((await chat({ messages: [rewrapped] })).status).toBe(529);
    // a later retry number alone is not the first retry
    expect(
      (await chat({ messages: [task, { role: 'user', content: '[clawpulse retry 2/3] go on' }] })).status,
    ).toBe(529);
    const ok = await chat({
      messages: [task, { role: 'user', content: `${RETRY_MARK} The previous attempt stopped… Continue.` }],
    });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as Record<string, J>).choices[0].message.content).toMatch(/^Recovered/);
    expect(fake.requests().map((r) => r.decision.kind)).toEqual([
      'error',
      'error',
      'error',
      'error',
      'error',
      'text',
    ]);
  });
});

async function chat2(body: Record<string, unknown>, signal: AbortSignal): Promise<Response> {
  const res = await fetch(`${fake.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  });
  await res.text();
  return res;
}

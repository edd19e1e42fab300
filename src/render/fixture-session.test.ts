/**
 * The real v2026.7.35 fixture session (test/fixtures/openclaw/v2026.7.35: sessions.json and
 * the two transcripts) as hand-built PulseEvents: parent `agent:main:main` with exec and
 * sessions_spawn, child `fake-child` with exec, then the announce run. Times, ids and token
 * counts are the fixture's own; the checks tie the model back to sessions.json.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { PulseEvent } from '../model/events.js';
import { ev, must, testLimits } from '../model/test-events.js';
import { createSessionTracker } from '../model/tracker.js';
import { toReplayJson } from './json-view.js';
import { toLiveStatusProps } from './livestatus-tree.js';
import { renderStatusBox } from './status-box.js';
import { BUILTIN_TOOL_LABELS } from './tool-labels.js';

const FIX = new URL('../../test/fixtures/openclaw/v2026.7.35/', import.meta.url);
const P = 'agent:main:main';
const C = 'agent:main:subagent:d8962e0f-3bd5-4e5d-a8cc-eaa16e63acf8';
const T0 = 1795272000000;
const LS = 'ls /tmp | head -3';
const LS_OUT =
  'Done. Tool said: bash_jobs.0 bash_tool_9d31c20f-c1f5-41f2-ab4f-2c8ba9e6a436 bash_tool_dcfa7f77-56d3-4b7e-bd10-3ed9d2154f22';
const SPAWN_OUT =
  'Done. Tool said: { "status": "accepted", "childSessionKey": "agent:main:subagent:d8962e0f-3bd5-4e5d-a8cc-eaa16e63acf8", "runId": "68247b9d-fc41-4101-86f0-f6ccb11dfb7b", "mode": "run" }';
const R1 = 'd795230e-3d50-42fc-a564-a09b77119d88';
const R2 = '1d8c3785-f103-4f4e-84c6-6a27d995cf67';
const R3 =
  'announce:v1:agent:main:subagent:d8962e0f-3bd5-4e5d-a8cc-eaa16e63acf8:68247b9d-fc41-4101-86f0-f6ccb11dfb7b';
const RC = '68247b9d-fc41-4101-86f0-f6ccb11dfb7b';

const tok = (sessionKey: string, ts: number, input: number, costUsd: number) =>
  ev({
    type: 'llm.tokens',
    ts: T0 + ts,
    sessionKey,
    input,
    output: 12,
    cacheRead: 0,
    cacheWrite: 0,
    reasoning: 0,
    costUsd,
    model: 'fake-model',
    provider: 'fake',
  });
const call = (sessionKey: string, ts: number, runId: string, callId: string, name: string, args: string) =>
  ev({ type: 'tool.call', ts: T0 + ts, sessionKey, runId, callId, name, args });
const out = (sessionKey: string, ts: number, runId: string, callId: string, name: string) =>
  ev({ type: 'tool.output', ts: T0 + ts, sessionKey, runId, callId, name });
const text = (sessionKey: string, ts: number, runId: string, t: string) =>
  ev({ type: 'assistant.text', ts: T0 + ts, sessionKey, runId, text: t });
const run = (sessionKey: string, ts: number, runId: string, fin?: 'ok') =>
  fin
    ? ev({ type: 'agent.finished', ts: T0 + ts, sessionKey, runId, outcome: fin })
    : ev({ type: 'agent.started', ts: T0 + ts, sessionKey, runId });

function fixtureEvents(): PulseEvent[] {
  return [
    ev({
      type: 'session.seen',
      ts: T0 + 395004,
      sessionKey: P,
      sessionId: 'daa6b28a-5388-4104-8e50-89a5a783e4c6',
      channel: { provider: 'webchat' },
      model: 'fake-model',
    }),
    run(P, 395163, R1),
    call(P, 397289, R1, 'call_fake_1', 'exec', LS),
    tok(P, 397289, 7957, 0.007981),
    out(P, 397681, R1, 'call_fake_1', 'exec'),
    text(P, 397699, R1, LS_OUT),
    tok(P, 397699, 8039, 0.008063),
    run(P, 397775, R1, 'ok'),
    run(P, 417309, R2),
    call(
      P,
      418288,
      R2,
      'call_fake_3',
      'sessions_spawn',
      '{"task":"Child task: list /tmp and report.","label":"fake-child"}',
    ),
    tok(P, 418288, 8221, 0.008245),
    ev({
      type: 'subagent.spawned',
      ts: T0 + 418394,
      sessionKey: P,
      parentKey: P,
      childKey: C,
      label: 'fake-child',
      runId: R2,
    }),
    ev({
      type: 'session.seen',
      ts: T0 + 418394,
      sessionKey: C,
      sessionId: '98b47024-154f-495f-95d6-aaedbec7b8ed',
      parentKey: P,
      label: 'fake-child',
      spawnDepth: 1,
    }),
    out(P, 418582, R2, 'call_fake_3', 'sessions_spawn'),
    text(P, 418594, R2, SPAWN_OUT),
    tok(P, 418594, 8485, 0.008509),
    run(P, 418804, R2, 'ok'),
    run(C, 418838, RC),
    call(C, 419548, RC, 'call_fake_5', 'exec', LS),
    tok(C, 419548, 5296, 0.00532),
    out(C, 419912, RC, 'call_fake_5', 'exec'),
    text(C, 419923, RC, LS_OUT),
    tok(C, 419923, 5378, 0.005402),
    run(C, 420112, RC, 'ok'),
    run(P, 420599, R3),
    call(P, 421145, R3, 'call_fake_7', 'exec', LS),
    tok(P, 421145, 9305, 0.009329),
    out(P, 421252, R3, 'call_fake_7', 'exec'),
    call(P, 421258, R3, 'call_fake_8', 'exec', LS),
    tok(P, 421258, 9387, 0.009411),
    out(P, 421353, R3, 'call_fake_8', 'exec'),
    text(P, 421361, R3, 'Stopping after several tool calls.'),
    tok(P, 421361, 9469, 0.009493),
    run(P, 421457, R3, 'ok'),
  ];
}

describe('the v2026.7.35 fixture session', () => {
  const t = createSessionTracker(testLimits);
  for (const e of fixtureEvents()) t.apply(e);
  t.tick(T0 + 421457 + 60_000);
  const rows = JSON.parse(readFileSync(new URL('sessions.json', FIX), 'utf8')) as Record<
    string,
    Record<string, unknown>
  >;

  it('matches sessions.json: tree, runtimes, token counts', () => {
    const parent = must(t.get(P));
    const child = must(t.get(C));
    expect(child.parentKey).toBe(rows[C]?.spawnedBy);
    expect(parent.children).toEqual([C]);
    expect(t.rootOf(C)?.key).toBe(P);
    // the last activation of each matches OpenClaw's own runtimeMs and endedAt
    expect(must(parent.endedAt) - must(parent.activeSince)).toBe(rows[P]?.runtimeMs);
    expect(must(child.endedAt) - must(child.activeSince)).toBe(rows[C]?.runtimeMs);
    expect(parent.endedAt).toBe(rows[P]?.endedAt);
    expect(child.endedAt).toBe(rows[C]?.endedAt);
    expect(child.tokens.input).toBe(rows[C]?.inputTokens);
    expect(child.costUsd).toBeCloseTo(rows[C]?.estimatedCostUsd as number, 9);
    expect(parent.tools.map((x) => `${x.callId}:${x.status}`)).toEqual([
      'call_fake_1:ok',
      'call_fake_3:ok',
      'call_fake_7:ok',
      'call_fake_8:ok',
    ]);
    expect([parent.status, child.status]).toEqual(['done', 'done']);
    expect(parent.runs).toBe(3);
  });

  it('renders the nested box', () => {
    const box = renderStatusBox(must(t.get(P)), (k) => t.get(k), {
      now: T0 + 500_000,
      toolLabels: BUILTIN_TOOL_LABELS,
    });
    expect(box).toBe(
      [
        '[DONE] main | 0s',
        '  exec: ls /tmp | head -3 [OK]',
        LS_OUT,
        '  spawn: fake-child [OK]',
        '  Sub-agent: fake-child',
        '      exec: ls /tmp | head -3 [OK]',
        `    ${LS_OUT}`,
        '    [DONE] 1s',
        SPAWN_OUT,
        '  exec: ls /tmp | head -3 [OK]',
        '  exec: ls /tmp | head -3 [OK]',
        'Stopping after several tool calls.',
        '[DONE] 0s | 60.9k tokens | $0.06',
      ].join('\n'),
    );
  });

  it('builds the plugin tree', () => {
    const props = toLiveStatusProps(must(t.get(P)), (k) => t.get(k), T0 + 500_000, BUILTIN_TOOL_LABELS);
    expect(props.v).toBe(1);
    expect(props.updatedAt).toBe(T0 + 500_000);
    const root = props.root;
    expect(root).toMatchObject({
      sessionKey: P,
      agentId: 'main',
      label: 'main',
      status: 'done',
      tokens: 60_947,
    });
    expect(root.lines[0]).toEqual({
      kind: 'tool',
      text: 'exec: ls /tmp | head -3',
      toolStatus: 'ok',
      durationMs: 392,
    });
    expect(root.lines[3]).toEqual({ kind: 'child', childIndex: 0 });
    expect(root.children).toHaveLength(1);
    expect(root.children[0]).toMatchObject({
      sessionKey: C,
      label: 'fake-child',
      status: 'done',
      tokens: 10_698,
    });
    expect(root.children[0]?.lines.map((l) => l.kind)).toEqual(['tool', 'text']);
    // plain JSON: survives a round trip unchanged
    expect(JSON.parse(JSON.stringify(props))).toEqual(props);
  });

  it('produces the replay JSON shape', () => {
    const json = toReplayJson(t.all());
    expect(json.sessions.map((s) => s.sessionKey)).toEqual([P, C]);
    expect(Object.keys(must(json.sessions[1]))).toEqual([
      'sessionKey',
      'sessionId',
      'agentId',
      'label',
      'parentKey',
      'status',
      'startedAt',
      'endedAt',
      'tools',
      'tokens',
      'costUsd',
      'errors',
    ]);
    expect(json.sessions[1]).toEqual({
      sessionKey: C,
      sessionId: '98b47024-154f-495f-95d6-aaedbec7b8ed',
      agentId: 'main',
      label: 'fake-child',
      parentKey: P,
      status: 'done',
      startedAt: T0 + 418394,
      endedAt: T0 + 420112,
      tools: [{ callId: 'call_fake_5', runId: RC, name: 'exec', status: 'ok' }],
      tokens: { input: 10_674, output: 24, cacheRead: 0, cacheWrite: 0, reasoning: 0, total: 10_698 },
      costUsd: 0.010722,
      errors: [],
    });
    expect(json.sessions[0]?.label).toBeNull();
  });
});

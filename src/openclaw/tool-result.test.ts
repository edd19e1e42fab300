import { describe, expect, it } from 'vitest';
import { createGatewayMapper } from './gateway/mapper.js';
import { createTranscriptNormalizer } from './normalize.js';
import { toolResultFailed } from './summarize.js';

// A real 2026.9.6 result (conformance run): the command ran and exited 2; OpenClaw says isError false.
const EXEC_EXIT_2 = {
  status: 'completed',
  exitCode: 2,
  exitSignal: null,
  exitReason: 'exit',
  durationMs: 1909,
  aggregated:
    "ls: cannot access '/nonexistent-clawpulse-conformance': No such file or directory\n\n(Command exited with code 2)",
};

describe('tool result failure', () => {
  it('counts a thrown tool, an error status and a non-zero exit as failures, and nothing else', () => {
    expect(toolResultFailed(true, undefined)).toBe(true);
    expect(toolResultFailed(false, { status: 'error' })).toBe(true);
    expect(toolResultFailed(false, EXEC_EXIT_2)).toBe(true);
    expect(toolResultFailed(false, { status: 'completed', exitCode: 0 })).toBe(false);
    expect(toolResultFailed(false, { status: 'completed' })).toBe(false);
    expect(toolResultFailed(undefined, 'garbage')).toBe(false);
  });

  it('a transcript line of an exec that exited 2 becomes tool.error', () => {
    const n = createTranscriptNormalizer({
      sessionKey: 'agent:main:x',
      agentId: 'main',
      sessionId: 's1',
      source: 'sqlite',
    });
    const t = '2026-11-21T15:00:00.000Z';
    n.push({
      type: 'message',
      id: 'a1',
      parentId: null,
      timestamp: t,
      message: { role: 'user', content: 'list', timestamp: 1 },
    });
    n.push({
      type: 'message',
      id: 'a2',
      parentId: 'a1',
      timestamp: t,
      message: {
        role: 'assistant',
        content: [
          { type: 'toolCall', id: 'call_conf_2', name: 'exec', arguments: { command: 'ls /nonexistent' } },
        ],
        stopReason: 'toolUse',
        timestamp: 2,
      },
    });
    const r = n.push({
      type: 'message',
      id: 'a3',
      parentId: 'a2',
      timestamp: t,
      message: {
        role: 'toolResult',
        toolCallId: 'call_conf_2',
        toolName: 'exec',
        content: [{ type: 'text', text: EXEC_EXIT_2.aggregated }],
        details: EXEC_EXIT_2,
        isError: false,
        timestamp: 3,
      },
    });
    expect(r.events.map((e) => e.type)).toEqual(['tool.error']);
    expect(r.events[0]).toMatchObject({ callId: 'call_conf_2', name: 'exec', durationMs: 1909 });
  });

  it('a gateway session.tool result of an exec that exited 2 becomes tool.error', () => {
    const m = createGatewayMapper();
    const base = { runId: 'r1', sessionKey: 'agent:main:conf-execfail', agentId: 'main', stream: 'tool' };
    const frame = (seq: number, data: object) => ({
      type: 'event' as const,
      event: 'session.tool',
      payload: { ...base, seq, ts: 1000 + seq, data },
    });
    const out = [
      ...m.mapEvent(
        frame(1, {
          phase: 'start',
          name: 'exec',
          toolCallId: 'call_conf_2',
          args: { command: 'ls /nonexistent' },
        }),
        5000,
      ),
      // the real frame's data, as 2026.9.6 sent it
      ...m.mapEvent(
        frame(2, {
          phase: 'result',
          name: 'exec',
          toolCallId: 'call_conf_2',
          meta: 'list files in /nonexistent-clawpulse-conformance',
          isError: false,
          commandBearing: true,
          result: { content: [{ type: 'text', text: EXEC_EXIT_2.aggregated }], details: EXEC_EXIT_2 },
        }),
        5000,
      ),
    ];
    expect(out.filter((e) => e.type.startsWith('tool.')).map((e) => e.type)).toEqual([
      'tool.call',
      'tool.error',
    ]);
  });
});

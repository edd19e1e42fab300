/**
 * Real-shaped events for the usage tests: the demo's recorded OpenClaw 2026.7.35 sessions
 * (a PR review with sub-agents, a CI triage, release notes after a 529, a failed postmortem),
 * each session moved by a whole number of days so the reports span several days; and a plain
 * scan of events that the aggregate must match (written independently of src/usage/fold.ts).
 */
import { fileURLToPath } from 'node:url';
import { streamTranscriptFolder } from '../../src/ingest/files/once.js';
import type { PulseEvent } from '../../src/model/events.js';

export const RELAY_TEAM = fileURLToPath(new URL('../../demo/recordings/relay-team', import.meta.url));

/** the recorded sessions' events; session i moved i days later when `spreadDays` */
export function relayTeamEvents(spreadDays = true): PulseEvent[] {
  const events: PulseEvent[] = [];
  streamTranscriptFolder(RELAY_TEAM, { events: (b) => events.push(...b) });
  if (!spreadDays) return events;
  const order = [...new Set(events.map((e) => e.sessionKey))].sort();
  return events.map((e) => {
    const shift = order.indexOf(e.sessionKey) * 86_400_000;
    return { ...e, ts: e.ts + shift };
  });
}

export interface Scan {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  costUsd: number;
  estimatedCostUsd: number;
  runs: number;
  toolCalls: number;
  failedTools: number;
}

const empty = (): Scan => ({
  input: 0,
  output: 0,
  cacheRead: 0,
  cacheWrite: 0,
  costUsd: 0,
  estimatedCostUsd: 0,
  runs: 0,
  toolCalls: 0,
  failedTools: 0,
});

/** sums per key (`keyOf` an event: its UTC day, its session ...) by reading every event */
export function scanBy(events: readonly PulseEvent[], keyOf: (e: PulseEvent) => string): Map<string, Scan> {
  const out = new Map<string, Scan>();
  for (const e of events) {
    const k = keyOf(e);
    const s = out.get(k) ?? empty();
    out.set(k, s);
    if (e.type === 'llm.tokens') {
      s.input += e.input;
      s.output += e.output;
      s.cacheRead += e.cacheRead;
      s.cacheWrite += e.cacheWrite;
      s.costUsd += e.costUsd;
      if (e.costEstimated) s.estimatedCostUsd += e.costUsd;
    } else if (e.type === 'agent.started') s.runs++;
    else if (e.type === 'tool.call') s.toolCalls++;
    else if (e.type === 'tool.error') s.failedTools++;
  }
  for (const [k, s] of out) if (Object.values(s).every((v) => v === 0)) out.delete(k);
  return out;
}

export const utcDay = (e: PulseEvent): string => new Date(e.ts).toISOString().slice(0, 10);

/** the recorded transcripts' lines with every cost removed (a source that gives no cost) */
export function withoutCost(line: string): string {
  const v = JSON.parse(line) as { message?: { usage?: Record<string, unknown> } };
  if (v.message?.usage) delete v.message.usage.cost;
  return JSON.stringify(v);
}

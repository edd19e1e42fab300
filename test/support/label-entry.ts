/**
 * A dispatch ledger entry for tests: a running fresh label of `agent:main:subagent:aaa`
 * started (and last updated) at `at`; a test names only what differs.
 */
import type { LabelEntry } from '../../src/store/dispatch-ledger.js';

export function labelEntry(at: number, over: Partial<LabelEntry> = {}): LabelEntry {
  const iso = new Date(at).toISOString();
  return {
    sessionKey: 'agent:main:subagent:aaa',
    runId: 'run-1',
    agent: 'main',
    mode: 'fresh',
    model: null,
    thinking: null,
    spawnedAt: iso,
    status: 'running',
    summary: null,
    error: null,
    updatedAt: iso,
    retryCount: 0,
    ...over,
  };
}

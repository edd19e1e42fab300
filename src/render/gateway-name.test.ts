import { describe, expect, it } from 'vitest';
import { scopeEvents } from '../ingest/gateway/scope-events.js';
import { ev, must, testLimits } from '../model/test-events.js';
import { createSessionTracker } from '../model/tracker.js';
import { shortKey } from './format.js';
import { renderStatusBox } from './status-box.js';
import { separatorRow } from './terminal.js';
import { BUILTIN_TOOL_LABELS } from './tool-labels.js';

const K = 'agent:main:main';

function trackerWith(gateway?: string) {
  const t = createSessionTracker(testLimits);
  const events = [
    ev({ type: 'agent.started', ts: 0, sessionKey: K, runId: 'r1' }),
    ev({ type: 'assistant.text', ts: 1000, sessionKey: K, runId: 'r1', text: 'hello' }),
  ];
  for (const e of gateway ? scopeEvents(gateway, events) : events) t.apply(e);
  return t;
}

describe('a named gateway in the views', () => {
  it('the box header says which gateway the session is on', () => {
    const t = trackerWith('build');
    const root = must(t.get(`build|${K}`), 'scoped session');
    expect(root.gateway).toBe('build');
    const box = renderStatusBox(root, (k) => t.get(k), { now: 5000, toolLabels: BUILTIN_TOOL_LABELS });
    expect(box.split('\n')[0]).toBe('[ACTIVE] main on build | 5s');
  });

  it('a local session keeps its header', () => {
    const t = trackerWith();
    const box = renderStatusBox(must(t.get(K)), (k) => t.get(k), {
      now: 5000,
      toolLabels: BUILTIN_TOOL_LABELS,
    });
    expect(box.split('\n')[0]).toBe('[ACTIVE] main | 5s');
  });

  it('short keys and separators drop the scope (the header names the gateway)', () => {
    expect(shortKey(`build|${K}`)).toBe('main');
    expect(shortKey('h1|build|agent:ops:subagent:x')).toBe('subagent:x');
    expect(separatorRow(`build|${K}`, 12)).toBe('── main ────');
  });
});

/** Livestatus posts shaped like the daemon's, for the browser tests. */
import type { LiveStatusNode, LiveStatusProps } from '../../src/render/livestatus-props.js';
import type { MmPost } from '../src/types.js';

export const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);
export const CHANNEL = 'chanaaaaaaaaaaaaaaaaaaaaaa';
export const OTHER_CHANNEL = 'chanbbbbbbbbbbbbbbbbbbbbbb';

export function node(partial: Partial<LiveStatusNode> & Pick<LiveStatusNode, 'sessionKey'>): LiveStatusNode {
  return {
    agentId: 'main',
    label: partial.sessionKey,
    status: 'active',
    startedAt: T0 - 38_000,
    tokens: 0,
    costUsd: 0,
    lines: [],
    children: [],
    ...partial,
  };
}

/** The session from DESIGN.md's status-box example, with a done and a running sub-agent. */
export function mainTree(status: LiveStatusNode['status'] = 'active'): LiveStatusNode {
  return node({
    sessionKey: 'agent:main:mattermost:channel:abc',
    label: 'main',
    status,
    tokens: 12_400,
    costUsd: 0.42,
    ...(status === 'done' ? { endedAt: T0 + 15_000 } : {}),
    lines: [
      { kind: 'text', text: 'Reading live-status source code...' },
      { kind: 'tool', text: 'exec: ls /agents/sessions', toolStatus: 'ok', durationMs: 120 },
      { kind: 'text', text: 'Analyzing agent configurations...' },
      { kind: 'tool', text: 'exec: grep -r live-status', toolStatus: 'error', durationMs: 2300 },
      { kind: 'child', childIndex: 0 },
      { kind: 'child', childIndex: 1 },
      { kind: 'system', text: 'context compacted' },
      { kind: 'tool', text: 'read: src/index.ts', toolStatus: status === 'done' ? 'ok' : 'running' },
    ],
    children: [
      node({
        sessionKey: 'agent:main:subagent:planner',
        label: 'proj035-planner',
        status: 'done',
        startedAt: T0 - 30_000,
        endedAt: T0 - 2_000,
        tokens: 3_100,
        lines: [
          { kind: 'text', text: 'Reading protocol...' },
          { kind: 'text', text: 'Analyzing JSONL format...' },
        ],
      }),
      node({
        sessionKey: 'agent:main:subagent:coder',
        label: 'proj035-coder',
        status: status === 'done' ? 'done' : 'active',
        startedAt: T0 - 10_000,
        lines: [{ kind: 'tool', text: 'write: src/watcher.ts', toolStatus: 'running' }],
      }),
    ],
  });
}

export function props(root: LiveStatusNode, updatedAt = T0): LiveStatusProps {
  return { v: 1, updatedAt, root };
}

let seq = 0;
export function post(id: string, root: LiveStatusNode | null, extra: Partial<MmPost> = {}): MmPost {
  seq++;
  return {
    id,
    channel_id: CHANNEL,
    root_id: '',
    type: 'custom_livestatus',
    message: `[${root?.status.toUpperCase() ?? 'ACTIVE'}] ${root?.label ?? '?'} | plain text summary`,
    props: root ? { livestatus: props(root) } : {},
    create_at: T0 + seq,
    update_at: T0 + seq,
    edit_at: 0,
    delete_at: 0,
    ...extra,
  };
}

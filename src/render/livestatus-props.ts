/**
 * The contract between the daemon and the Mattermost webapp plugin: a post of type
 * `custom_livestatus` carries the session tree in `props.livestatus`. The daemon updates it
 * with props-only patches (edit_at never changes); `message` keeps a readable summary for
 * clients without the plugin. Keep this file free of Node imports: the plugin bundles it.
 */

export const LIVESTATUS_POST_TYPE = 'custom_livestatus';
export const LIVESTATUS_PROPS_VERSION = 1;

export type LiveStatus = 'active' | 'idle' | 'done' | 'error' | 'interrupted' | 'stuck';

export interface LiveStatusLine {
  kind: 'text' | 'tool' | 'system';
  text: string;
  /** tool lines only */
  toolStatus?: 'running' | 'ok' | 'error';
  durationMs?: number;
}

/** One session (root or sub-agent) as the plugin renders it. Sub-agents nest in `children`. */
export interface LiveStatusNode {
  sessionKey: string;
  agentId: string;
  label: string;
  status: LiveStatus;
  startedAt: number;
  endedAt?: number;
  tokens: number;
  costUsd: number;
  /** status lines in order; a sub-agent's place among them is given by `childIndex` entries */
  lines: Array<LiveStatusLine | { kind: 'child'; childIndex: number }>;
  children: LiveStatusNode[];
  error?: string;
}

export interface LiveStatusProps {
  v: typeof LIVESTATUS_PROPS_VERSION;
  /** when the daemon rendered this state (ms) */
  updatedAt: number;
  root: LiveStatusNode;
}

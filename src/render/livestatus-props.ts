/**
 * The contract between the daemon and the Mattermost webapp plugin: a post of type
 * `custom_livestatus` carries the session tree in `props.livestatus`. The daemon updates it
 * with props-only patches (edit_at never changes); `message` keeps a readable summary for
 * clients without the plugin. Keep this file free of Node imports: the plugin bundles it.
 */

export const LIVESTATUS_POST_TYPE = 'custom_livestatus';
export const LIVESTATUS_PROPS_VERSION = 1;

/**
 * A word the daemon puts in every plugin-mode box's fixed `message`, so the plugin finds live
 * boxes in every channel the user can read through Mattermost's post search. Letters only: the
 * search tokenizers (database full-text, Bleve, Elasticsearch) split words on punctuation
 * (`-`, `_`, `.`, `:`), so a marker made of letters stays one whole, exact-matchable word.
 */
export const LIVESTATUS_SEARCH_MARKER = 'clawpulsebox';

/** A live box with no update for this long is drawn as stale (the daemon may be gone). */
export const DEFAULT_STALE_AFTER_MS = 10 * 60_000;

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
  /**
   * present (and true) only when part of `costUsd` was priced from clawpulse's price table
   * because the source reported no cost; shown "~$0.42 est.". Optional, so version 1 stays:
   * an older plugin ignores it and shows the plain cost.
   */
  costEstimated?: true;
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
  /**
   * a still-live box whose last update is older than this is shown as stale ("no update since
   * 14:02 — is clawpulse running?"); absent = DEFAULT_STALE_AFTER_MS
   */
  stale_after_ms?: number;
}

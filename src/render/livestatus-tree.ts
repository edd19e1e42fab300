/**
 * The session tree as the Mattermost webapp plugin renders it (`props.livestatus`, see
 * livestatus-props.ts). Same content as the text box: a sub-agent sits among its parent's
 * lines as a `{kind:'child', childIndex}` entry pointing into `children`.
 */
import type { SessionState, ToolCallState } from '../model/session.js';
import { errorBrief, sessionName } from './format.js';
import {
  LIVESTATUS_PROPS_VERSION,
  type LiveStatusLine,
  type LiveStatusNode,
  type LiveStatusProps,
} from './livestatus-props.js';
import type { SessionLookup } from './status-box.js';
import { type ToolLabels, toolText } from './tool-labels.js';

const MAX_DEPTH = 8;

export function toLiveStatusProps(
  root: SessionState,
  lookup: SessionLookup,
  now: number,
  toolLabels: ToolLabels,
): LiveStatusProps {
  return {
    v: LIVESTATUS_PROPS_VERSION,
    updatedAt: now,
    root: toNode(root, lookup, toolLabels, 0, new Set([root.key])),
  };
}

function toNode(
  s: SessionState,
  lookup: SessionLookup,
  labels: ToolLabels,
  depth: number,
  seen: Set<string>,
): LiveStatusNode {
  const node: LiveStatusNode = {
    sessionKey: s.key,
    agentId: s.agentId,
    label: sessionName(s, depth > 0),
    status: s.status,
    startedAt: s.activeSince ?? s.startedAt,
    tokens: s.tokens.total,
    costUsd: s.costUsd,
    lines: [],
    children: [],
  };
  if (s.endedAt !== undefined) node.endedAt = s.endedAt;
  if (s.costEstimated) node.costEstimated = true;
  const error = s.status === 'error' ? errorBrief(s) : s.status === 'active' ? undefined : s.note;
  if (error) node.error = error;
  let tools: Map<string, ToolCallState> | undefined;
  for (const line of s.lines) {
    if (line.kind === 'text' || line.kind === 'system') {
      node.lines.push({ kind: line.kind, text: line.text });
    } else if (line.kind === 'tool') {
      tools ??= new Map(s.tools.map((t) => [`${t.runId}\u0000${t.callId}`, t]));
      const t = tools.get(`${line.runId}\u0000${line.callId}`);
      if (!t) continue;
      const l: LiveStatusLine = { kind: 'tool', text: toolText(t, labels), toolStatus: t.status };
      if (t.durationMs !== undefined) l.durationMs = t.durationMs;
      node.lines.push(l);
    } else {
      const child = lookup(line.childKey);
      if (!child || seen.has(child.key) || depth + 1 > MAX_DEPTH) continue;
      seen.add(child.key);
      node.lines.push({ kind: 'child', childIndex: node.children.length });
      node.children.push(toNode(child, lookup, labels, depth + 1, seen));
    }
  }
  return node;
}

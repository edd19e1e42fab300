/**
 * One session node drawn as terminal lines: narration, tool calls with OK/ERR/running, and
 * sub-agents as collapsible nested blocks (recursively). Pure rendering: state comes in by props.
 */
// biome-ignore lint/correctness/noUnusedImports: the classic JSX transform (vite.config.ts) needs React in scope
import * as React from 'react';
import type { LiveStatusLine, LiveStatusNode } from '../../src/render/livestatus-props.js';
import {
  ESTIMATED_COST_TITLE,
  elapsedMs,
  formatCostMarked,
  formatDuration,
  formatTokens,
  formatToolDuration,
} from './format.js';
import { type Palette, statusColor } from './theme.js';
import { isLive } from './validate.js';

export interface NodeViewProps {
  node: LiveStatusNode;
  palette: Palette;
  now: number;
  updatedAt: number;
  /** user choices per sub-agent key; unset means "open while live" */
  expanded: Readonly<Record<string, boolean>>;
  onToggle(sessionKey: string, open: boolean): void;
}

export function StatusTag(props: { node: LiveStatusNode; palette: Palette }) {
  const color = statusColor(props.palette, props.node.status);
  return (
    <span data-testid="ls-status" data-status={props.node.status} style={{ color, fontWeight: 700 }}>
      [{props.node.status.toUpperCase()}]
    </span>
  );
}

function ToolLine(props: { line: LiveStatusLine; palette: Palette }) {
  const { line, palette } = props;
  const st = line.toolStatus ?? 'running';
  const tag = st === 'ok' ? 'OK' : st === 'error' ? 'ERR' : 'running…';
  const color = st === 'ok' ? palette.ok : st === 'error' ? palette.error : palette.warn;
  return (
    <div data-testid="ls-line" data-kind="tool" data-tool-status={st} style={{ paddingLeft: '2ch' }}>
      <span>{line.text}</span>{' '}
      <span data-testid="ls-tool-tag" style={{ color, fontWeight: 700 }}>
        [{tag}]
      </span>
      {line.durationMs !== undefined && st !== 'running' ? (
        <span style={{ color: palette.dim }}> {formatToolDuration(line.durationMs)}</span>
      ) : null}
    </div>
  );
}

function Line(props: { line: LiveStatusLine; palette: Palette }) {
  const { line, palette } = props;
  if (line.kind === 'tool') return <ToolLine line={line} palette={palette} />;
  const system = line.kind === 'system';
  return (
    <div
      data-testid="ls-line"
      data-kind={line.kind}
      style={system ? { color: palette.dim, fontStyle: 'italic' } : undefined}
    >
      {line.text}
    </div>
  );
}

/** `[DONE] 53s | 12.4k tokens | $0.42` (`~$0.42 est.` when priced from the daemon's price table) */
export function Footer(props: { node: LiveStatusNode; palette: Palette; now: number; updatedAt: number }) {
  const { node, palette } = props;
  const parts = [formatDuration(elapsedMs(node.startedAt, node.endedAt, props.now, props.updatedAt))];
  if (node.tokens > 0) parts.push(formatTokens(node.tokens));
  const cost = formatCostMarked(node.costUsd, node.costEstimated);
  return (
    <div data-testid="ls-footer">
      <StatusTag node={node} palette={palette} />{' '}
      <span style={{ color: palette.dim }}>
        {parts.join(' | ')}
        {cost ? ' | ' : ''}
        {cost ? (
          <span
            data-testid="ls-footer-cost"
            data-estimated={node.costEstimated ? 'true' : undefined}
            title={node.costEstimated ? ESTIMATED_COST_TITLE : undefined}
          >
            {cost}
          </span>
        ) : null}
      </span>
    </div>
  );
}

function ChildBlock(props: NodeViewProps) {
  const { node, palette } = props;
  const choice = props.expanded[node.sessionKey];
  const open = choice ?? isLive(node.status);
  return (
    <div data-testid="ls-child" data-session-key={node.sessionKey} data-expanded={String(open)}>
      <button
        type="button"
        data-testid="ls-child-toggle"
        aria-expanded={open}
        onClick={() => props.onToggle(node.sessionKey, !open)}
        style={{
          all: 'unset',
          cursor: 'pointer',
          paddingLeft: '2ch',
          display: 'block',
          color: palette.link,
        }}
      >
        {open ? '▾' : '▸'} Sub-agent: {node.label}{' '}
        {open ? null : (
          <>
            <StatusTag node={node} palette={palette} />{' '}
            <span style={{ color: palette.dim }}>
              {formatDuration(elapsedMs(node.startedAt, node.endedAt, props.now, props.updatedAt))}
            </span>
          </>
        )}
      </button>
      {open ? (
        <div
          data-testid="ls-child-body"
          style={{ marginLeft: '3ch', paddingLeft: '1ch', borderLeft: `2px solid ${palette.border}` }}
        >
          <NodeLines {...props} />
          {node.error ? <div style={{ color: palette.error }}>{node.error}</div> : null}
          <Footer node={node} palette={palette} now={props.now} updatedAt={props.updatedAt} />
        </div>
      ) : null}
    </div>
  );
}

/** The node's own lines in order, with its sub-agents placed where the daemon put them. */
export function NodeLines(props: NodeViewProps) {
  const { node } = props;
  return (
    <>
      {node.lines.map((line, i) => {
        if (line.kind === 'child') {
          const child = node.children[line.childIndex];
          // keys by session so a collapsed child stays collapsed when lines shift
          return child ? <ChildBlock key={`c:${child.sessionKey}`} {...props} node={child} /> : null;
        }
        // biome-ignore lint/suspicious/noArrayIndexKey: lines have no ids; the daemon only appends
        return <Line key={`l:${i}`} line={line} palette={props.palette} />;
      })}
    </>
  );
}

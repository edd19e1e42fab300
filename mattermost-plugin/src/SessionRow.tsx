/** One session as a clickable row (panel and widget): status, label, duration, tokens, cost. */
// biome-ignore lint/correctness/noUnusedImports: the classic JSX transform (vite.config.ts) needs React in scope
import * as React from 'react';
import { elapsedMs, formatCost, formatDuration, formatTokens } from './format.js';
import type { SessionSummary } from './sessions.js';
import { type Palette, statusColor } from './theme.js';

export function SessionRow(props: {
  s: SessionSummary;
  palette: Palette;
  now: number;
  compact?: boolean;
  onOpen(postId: string): void;
}) {
  const { s, palette } = props;
  const color = statusColor(palette, s.status);
  const details = [formatDuration(elapsedMs(s.startedAt, s.endedAt, props.now, s.updatedAt))];
  if (!props.compact) {
    if (s.tokens > 0) details.push(formatTokens(s.tokens));
    const cost = formatCost(s.costUsd);
    if (cost) details.push(cost);
  }
  if (s.liveChildren > 0) details.push(`+${s.liveChildren} sub-agent${s.liveChildren > 1 ? 's' : ''}`);
  return (
    <button
      type="button"
      data-testid="ls-session"
      data-session-key={s.sessionKey}
      data-status={s.status}
      title={`${s.label} (${s.status}) — open the status box`}
      onClick={() => props.onOpen(s.postId)}
      style={{
        all: 'unset',
        boxSizing: 'border-box',
        cursor: 'pointer',
        display: 'flex',
        alignItems: 'center',
        gap: 8,
        width: '100%',
        padding: props.compact ? '3px 8px' : '8px 12px',
        borderBottom: `1px solid ${palette.border}`,
        color: palette.fg,
      }}
    >
      <span
        aria-hidden="true"
        style={{ width: 8, height: 8, borderRadius: 4, background: color, flex: '0 0 auto' }}
      />
      <span style={{ flex: '1 1 auto', minWidth: 0, overflow: 'hidden', textOverflow: 'ellipsis' }}>
        <span style={{ fontWeight: 600 }}>{s.label}</span>
        {s.agentId && !props.compact ? <span style={{ color: palette.dim }}> · {s.agentId}</span> : null}
        <br />
        <span style={{ color: palette.dim, fontSize: '90%' }}>
          <span style={{ color, fontWeight: 600 }}>{s.status}</span> · {details.join(' · ')}
        </span>
      </span>
    </button>
  );
}

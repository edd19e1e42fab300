/** One session as a clickable row (panel and widget): status, label, duration, tokens, cost. */
// biome-ignore lint/correctness/noUnusedImports: the classic JSX transform (vite.config.ts) needs React in scope
import * as React from 'react';
import { ESTIMATED_COST_TITLE, elapsedMs, formatCostMarked, formatDuration, formatTokens } from './format.js';
import type { SessionSummary } from './sessions.js';
import { isStale, staleText } from './stale.js';
import { type Palette, statusColor } from './theme.js';

export function SessionRow(props: {
  s: SessionSummary;
  palette: Palette;
  now: number;
  compact?: boolean;
  onOpen(postId: string): void;
}) {
  const { s, palette } = props;
  const stale = isStale(s.status, s.updatedAt, s.staleAfterMs, props.now);
  const color = stale ? palette.warn : statusColor(palette, s.status);
  // a stale session's clock stops at its last update: nothing says it ran on after that
  const end = stale ? s.updatedAt : props.now;
  const duration = formatDuration(elapsedMs(s.startedAt, s.endedAt, end, s.updatedAt));
  const cost = formatCostMarked(s.costUsd, s.costEstimated);
  const sep = <span style={{ color: palette.dim }}> · </span>;
  return (
    <button
      type="button"
      data-testid="ls-session"
      data-session-key={s.sessionKey}
      data-status={s.status}
      data-stale={stale ? 'true' : 'false'}
      title={`${s.label} (${stale ? 'stale' : s.status}) — open the status box`}
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
          <span style={{ color, fontWeight: 600 }}>{stale ? 'stale' : s.status}</span> · {duration}
          {!props.compact && s.tokens > 0 ? (
            <>
              {sep}
              <span data-testid="ls-session-tokens">{formatTokens(s.tokens)}</span>
            </>
          ) : null}
          {!props.compact && cost ? (
            <>
              {sep}
              <span
                data-testid="ls-session-cost"
                data-estimated={s.costEstimated ? 'true' : undefined}
                title={s.costEstimated ? ESTIMATED_COST_TITLE : undefined}
              >
                {cost}
              </span>
            </>
          ) : null}
          {s.liveChildren > 0 ? (
            <>
              {sep}+{s.liveChildren} sub-agent{s.liveChildren > 1 ? 's' : ''}
            </>
          ) : null}
        </span>
        {stale ? (
          <>
            <br />
            <span data-testid="ls-session-stale" style={{ color: palette.warn, fontSize: '90%' }}>
              {staleText(s.updatedAt, props.now)}
            </span>
          </>
        ) : null}
      </span>
    </button>
  );
}

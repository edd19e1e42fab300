/**
 * The post-type component for `custom_livestatus`. Mattermost re-renders it with a new `post` on
 * every `post_edited`, so it only draws what it is given; it keeps just UI state (scroll, which
 * sub-agents the user folded). Bad props fall back to the plain `message`.
 */
import * as React from 'react';
import { browserClock, type Clock } from './clock.js';
import { elapsedMs, formatDuration } from './format.js';
import { useNow } from './hooks.js';
import { Footer, NodeLines, StatusTag } from './NodeView.js';
import { isStale, staleText } from './stale.js';
import { MONO, paletteOf, statusColor, withAlpha } from './theme.js';
import type { MmPost, MmTheme } from './types.js';
import { isLive, liveStatusOfPost } from './validate.js';

export interface LiveStatusPostProps {
  post?: MmPost | null;
  theme?: MmTheme | null;
  /** tests inject a manual clock; Mattermost does not pass one */
  clock?: Clock;
}

const BOX_MAX_HEIGHT = 360;
/** how close to the bottom still counts as "following the output" */
const STICK_SLACK_PX = 8;

function Fallback(props: { post: MmPost | null | undefined; fg: string }) {
  const message = typeof props.post?.message === 'string' ? props.post.message : '';
  return (
    <div data-testid="ls-fallback" style={{ whiteSpace: 'pre-wrap', color: props.fg }}>
      {message}
    </div>
  );
}

export function LiveStatusPost(props: LiveStatusPostProps) {
  const clock = props.clock ?? browserClock;
  const palette = paletteOf(props.theme);
  const ls = liveStatusOfPost(props.post);
  const live = ls ? isLive(ls.root.status) : false;
  const now = useNow(clock, 1000, live);
  const [expanded, setExpanded] = React.useState<Record<string, boolean>>({});
  const scroller = React.useRef<HTMLDivElement | null>(null);
  const stick = React.useRef(true);

  // After every render (new lines arrive as a new `post`), follow the bottom unless the user
  // scrolled up to read something.
  React.useLayoutEffect(() => {
    const el = scroller.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  });

  if (!ls) return <Fallback post={props.post} fg={palette.fg} />;
  const root = ls.root;
  const lastUpdate = Math.max(ls.updatedAt, props.post?.update_at ?? 0);
  const stale = isStale(root.status, lastUpdate, ls.stale_after_ms, now);
  // a stale box's clocks stop at its last update: nothing says the session ran on after that
  const shownNow = stale ? lastUpdate : now;
  const onScroll = () => {
    const el = scroller.current;
    if (el) stick.current = el.scrollTop + el.clientHeight >= el.scrollHeight - STICK_SLACK_PX;
  };
  return (
    <div
      data-testid="ls-box"
      data-session-key={root.sessionKey}
      data-status={root.status}
      data-stale={stale ? 'true' : 'false'}
      style={{
        fontFamily: MONO,
        fontSize: 12.5,
        lineHeight: 1.5,
        color: palette.fg,
        background: palette.panel,
        border: `1px solid ${palette.border}`,
        borderLeft: `3px solid ${stale ? palette.warn : statusColor(palette, root.status)}`,
        borderRadius: 4,
        maxWidth: 900,
        overflow: 'hidden',
      }}
    >
      <div
        data-testid="ls-header"
        style={{
          padding: '4px 10px',
          borderBottom: `1px solid ${palette.border}`,
          display: 'flex',
          gap: '1ch',
          alignItems: 'baseline',
        }}
      >
        <StatusTag node={root} palette={palette} />
        <span style={{ fontWeight: 600 }}>{root.label}</span>
        <span style={{ color: palette.dim }}>
          | {formatDuration(elapsedMs(root.startedAt, root.endedAt, shownNow, ls.updatedAt))}
        </span>
        {root.agentId ? <span style={{ color: palette.dim, marginLeft: 'auto' }}>{root.agentId}</span> : null}
      </div>
      {stale ? (
        <div
          data-testid="ls-stale"
          role="status"
          style={{
            padding: '3px 10px',
            color: palette.warn,
            background: withAlpha(palette.warn.startsWith('#') ? palette.warn : '#ffbc1f', 0.12),
            borderBottom: `1px solid ${palette.border}`,
          }}
        >
          ⚠ {staleText(lastUpdate, now)}
        </div>
      ) : null}
      <div
        ref={scroller}
        data-testid="ls-scroll"
        onScroll={onScroll}
        style={{ maxHeight: BOX_MAX_HEIGHT, overflowY: 'auto', padding: '4px 10px', whiteSpace: 'pre-wrap' }}
      >
        <NodeLines
          node={root}
          palette={palette}
          now={shownNow}
          updatedAt={ls.updatedAt}
          expanded={expanded}
          onToggle={(key, open) => setExpanded((e) => ({ ...e, [key]: open }))}
        />
        {root.error ? (
          <div data-testid="ls-error" style={{ color: palette.error }}>
            {root.error}
          </div>
        ) : null}
      </div>
      <div style={{ padding: '4px 10px', borderTop: `1px solid ${palette.border}` }}>
        <Footer node={root} palette={palette} now={shownNow} updatedAt={ls.updatedAt} />
      </div>
    </div>
  );
}

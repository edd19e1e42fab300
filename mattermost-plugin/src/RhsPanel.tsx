/**
 * The right-hand panel: the sessions still running (active/idle/stuck), then recently finished
 * ones. Opening it loads the current channel's recent posts over REST so boxes created before the
 * page loaded are listed too; clicking a row jumps to its status box.
 */
import * as React from 'react';
import { fetchChannelPosts } from './api.js';
import type { Clock } from './clock.js';
import type { PluginDeps } from './deps.js';
import { useNow, useReconnects, useSessions, useStoreValue } from './hooks.js';
import { SessionRow } from './SessionRow.js';
import { paletteFor } from './theme.js';
import type { MmTheme } from './types.js';
import { isLive } from './validate.js';

const RECENT_DONE = 10;

type LoadState = { phase: 'idle' | 'loading' | 'loaded'; count?: number } | { phase: 'error'; error: string };

export interface RhsPanelProps {
  deps: PluginDeps;
  theme?: MmTheme | null;
  clock?: Clock;
}

export function RhsPanel(props: RhsPanelProps) {
  const { deps } = props;
  const clock = props.clock ?? deps.clock;
  const palette = paletteFor(props.theme);
  const sessions = useSessions(deps);
  const channelId = useStoreValue(deps, (s) => s.entities?.channels?.currentChannelId ?? '');
  const [load, setLoad] = React.useState<LoadState>({ phase: 'idle' });

  const reconnects = useReconnects(deps);
  const { fetch: fetchImpl, cache } = deps;
  // Loads on open, on channel switch and after a WebSocket reconnect (edits may have been missed).
  // biome-ignore lint/correctness/useExhaustiveDependencies: reconnects is a reload trigger
  React.useEffect(() => {
    if (!channelId) return;
    let cancelled = false;
    setLoad({ phase: 'loading' });
    fetchChannelPosts(fetchImpl, channelId).then((r) => {
      if (cancelled) return;
      if (!r.ok) {
        setLoad({ phase: 'error', error: r.error });
        return;
      }
      for (const p of r.posts) cache.upsert(p);
      setLoad({ phase: 'loaded', count: r.posts.length });
    });
    return () => {
      cancelled = true;
    };
  }, [channelId, fetchImpl, cache, reconnects]);

  const live = sessions.filter((s) => isLive(s.status));
  const done = sessions.filter((s) => !isLive(s.status)).slice(0, RECENT_DONE);
  const now = useNow(clock, 1000, live.length > 0);
  const heading = (text: string) => (
    <div
      style={{
        padding: '12px 12px 4px',
        fontSize: 11,
        fontWeight: 700,
        letterSpacing: '0.04em',
        textTransform: 'uppercase',
        color: palette.dim,
      }}
    >
      {text}
    </div>
  );
  return (
    <div
      data-testid="ls-rhs"
      data-load={load.phase}
      style={{ color: palette.fg, background: palette.bg, height: '100%', overflowY: 'auto', fontSize: 14 }}
    >
      {heading(`Running (${live.length})`)}
      <div data-testid="ls-rhs-live">
        {live.length === 0 ? (
          <div style={{ padding: '4px 12px', color: palette.dim }}>No agent session is running.</div>
        ) : (
          live.map((s) => (
            <SessionRow key={s.sessionKey} s={s} palette={palette} now={now} onOpen={deps.openPost} />
          ))
        )}
      </div>
      {done.length > 0 ? heading('Recently finished') : null}
      <div data-testid="ls-rhs-done">
        {done.map((s) => (
          <SessionRow key={s.sessionKey} s={s} palette={palette} now={now} onOpen={deps.openPost} />
        ))}
      </div>
      <div data-testid="ls-rhs-load" style={{ padding: '8px 12px', fontSize: 12, color: palette.dim }}>
        {load.phase === 'loading' ? 'Loading channel posts…' : null}
        {load.phase === 'error' ? `Could not load channel posts: ${load.error}` : null}
      </div>
    </div>
  );
}

/**
 * The right-hand panel: the sessions still running (active/idle/stuck), then recently finished
 * ones, those needing attention first (stuck, stale; errors), with tokens and cost. Opening it
 * finds the live boxes of every channel the user can read through Mattermost's post search for
 * the daemon's marker word, and loads the current channel's recent posts; from then on the
 * WebSocket keeps it live. Clicking a row jumps to its status box.
 */
import * as React from 'react';
import { LIVESTATUS_SEARCH_MARKER } from '../../src/render/livestatus-props.js';
import { fetchChannelPosts, searchLiveBoxes } from './api.js';
import type { Clock } from './clock.js';
import type { PluginDeps } from './deps.js';
import { ESTIMATED_COST_TITLE, formatCostMarked, formatTokens } from './format.js';
import { useNow, useReconnects, useSessions, useStoreValue } from './hooks.js';
import { SessionRow } from './SessionRow.js';
import { byAttention } from './sessions.js';
import { paletteFor } from './theme.js';
import type { MmTheme } from './types.js';
import { isLive } from './validate.js';

const RECENT_DONE = 10;

type LoadState =
  | { phase: 'idle' | 'loading' }
  | { phase: 'loaded'; found: number; warning?: string }
  | { phase: 'error'; error: string };

/** the user's teams: memberships when the webapp has them, else the current team */
function teamIdsOf(s: import('./types.js').MmState): string {
  const t = s.entities?.teams;
  const ids = t?.myMembers && typeof t.myMembers === 'object' ? Object.keys(t.myMembers) : [];
  if (ids.length === 0 && t?.currentTeamId) ids.push(t.currentTeamId);
  return ids.sort().join(',');
}

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
  const teams = useStoreValue(deps, teamIdsOf);
  const [load, setLoad] = React.useState<LoadState>({ phase: 'idle' });

  const reconnects = useReconnects(deps);
  const { fetch: fetchImpl, cache } = deps;
  // Loads on open, on channel switch and after a WebSocket reconnect (edits may have been missed).
  // biome-ignore lint/correctness/useExhaustiveDependencies: reconnects is a reload trigger
  React.useEffect(() => {
    let cancelled = false;
    setLoad({ phase: 'loading' });
    const search = teams
      ? searchLiveBoxes(fetchImpl, teams.split(','), LIVESTATUS_SEARCH_MARKER)
      : Promise.resolve({ ok: false as const, error: 'no team' });
    const channel = channelId
      ? fetchChannelPosts(fetchImpl, channelId)
      : Promise.resolve({ ok: false as const, error: 'no channel' });
    Promise.all([search, channel]).then(([sr, cr]) => {
      if (cancelled) return;
      let found = 0;
      for (const r of [sr, cr]) {
        if (!r.ok) continue;
        for (const p of r.posts) cache.upsert(p);
        found += r.posts.length;
      }
      if (!sr.ok && !cr.ok) {
        setLoad({ phase: 'error', error: cr.error === 'no channel' ? sr.error : cr.error });
        return;
      }
      const warning = !sr.ok
        ? `search failed (${sr.error}): only this channel is listed`
        : sr.failed > 0
          ? `search failed in ${sr.failed} of ${sr.teams} teams`
          : !cr.ok && channelId
            ? `could not load channel posts: ${cr.error}`
            : undefined;
      setLoad(warning ? { phase: 'loaded', found, warning } : { phase: 'loaded', found });
    });
    return () => {
      cancelled = true;
    };
  }, [channelId, teams, fetchImpl, cache, reconnects]);

  const anyLive = sessions.some((s) => isLive(s.status));
  const now = useNow(clock, 1000, anyLive);
  const live = byAttention(
    sessions.filter((s) => isLive(s.status)),
    now,
  );
  const done = byAttention(sessions.filter((s) => !isLive(s.status)).slice(0, RECENT_DONE), now);
  const tokens = live.reduce((n, s) => n + s.tokens, 0);
  // the total is marked estimated when any session in it is
  const costEstimated = live.some((s) => s.costEstimated);
  const cost = formatCostMarked(
    live.reduce((n, s) => n + s.costUsd, 0),
    costEstimated,
  );
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
      {live.length > 0 && (tokens > 0 || cost) ? (
        <div
          data-testid="ls-rhs-totals"
          title={costEstimated ? ESTIMATED_COST_TITLE : undefined}
          style={{ padding: '0 12px 4px', fontSize: 12, color: palette.dim }}
        >
          {[tokens > 0 ? formatTokens(tokens) : '', cost].filter(Boolean).join(' · ')} running now
        </div>
      ) : null}
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
        {load.phase === 'loading' ? 'Looking for agent sessions in your channels…' : null}
        {load.phase === 'loaded' && load.warning ? load.warning : null}
        {load.phase === 'error' ? `Could not load agent sessions: ${load.error}` : null}
      </div>
    </div>
  );
}

/** The dashboard shell: header, filters, the session list, and either the feed or one session. */
import { useDeferredValue, useEffect, useMemo, useState } from 'react';
import type { SessionStatus } from '../../src/model/session.js';
import { Feed } from './Feed.js';
import { STATUSES } from './format.js';
import { useLive, useRoute, useTheme } from './hooks.js';
import type { LiveStore } from './live.js';
import { SessionList } from './SessionList.js';
import { SessionView } from './SessionView.js';
import { buildRows, type Filters } from './tree.js';

export function App({ live }: { live: LiveStore }) {
  const state = useLive(live);
  const [selected, select] = useRoute();
  const [theme, toggleTheme] = useTheme();
  const [filters, setFilters] = useState<Filters>({ status: '', agent: '', text: '' });
  const text = useDeferredValue(filters.text);
  const { status, agent } = filters;
  const rows = useMemo(
    () => buildRows(state.sessions, { status, agent, text }),
    [state.sessions, status, agent, text],
  );
  const agents = useMemo(
    () => [...new Set([...state.sessions.values()].map((s) => s.agentId))].sort(),
    [state.sessions],
  );
  const counts = useMemo(() => {
    const c: Partial<Record<SessionStatus, number>> = {};
    for (const s of state.sessions.values()) c[s.status] = (c[s.status] ?? 0) + 1;
    return c;
  }, [state.sessions]);
  // problems show in the tab title too, so a background tab still says when something is wrong
  const problems = (counts.stuck ?? 0) + (counts.error ?? 0);
  useEffect(() => {
    document.title = problems ? `(${problems}) clawpulse` : 'clawpulse';
  }, [problems]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && !(e.target instanceof HTMLInputElement)) select(undefined);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [select]);

  return (
    <div className="app">
      <header className="top">
        <a
          className="brand"
          href="/"
          onClick={(e) => {
            e.preventDefault();
            select(undefined);
          }}
        >
          <span className="pulse-dot" aria-hidden="true" />
          clawpulse
        </a>
        <div className="counts" data-testid="counts">
          {STATUSES.filter((s) => counts[s]).map((s) => (
            <button
              type="button"
              key={s}
              className={`count st-${s}${filters.status === s ? ' on' : ''}`}
              onClick={() => setFilters({ ...filters, status: filters.status === s ? '' : s })}
              title={`show ${s} sessions`}
            >
              <b>{counts[s]}</b> {s}
            </button>
          ))}
        </div>
        <div className="spacer" />
        <span className={`conn conn-${state.conn}`} data-testid="conn" role="status">
          {state.conn === 'live' ? 'live' : state.conn === 'connecting' ? 'connecting…' : 'reconnecting…'}
        </span>
        <button
          type="button"
          className="theme"
          onClick={toggleTheme}
          aria-label="toggle theme"
          data-testid="theme"
        >
          {theme === 'dark' ? '☀' : '☾'}
        </button>
      </header>
      <div className="filters">
        <select
          aria-label="status"
          value={filters.status}
          onChange={(e) => setFilters({ ...filters, status: e.target.value as Filters['status'] })}
        >
          <option value="">all statuses</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <select
          aria-label="agent"
          value={filters.agent}
          onChange={(e) => setFilters({ ...filters, agent: e.target.value })}
        >
          <option value="">all agents</option>
          {agents.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </select>
        <input
          type="search"
          aria-label="search"
          placeholder="search label, key, channel, text…"
          value={filters.text}
          onChange={(e) => setFilters({ ...filters, text: e.target.value })}
        />
        <span className="muted small">
          {rows.length} of {state.sessions.size} sessions
        </span>
      </div>
      <main className={selected ? 'layout with-detail' : 'layout'}>
        <section className="pane list-pane" aria-label="sessions">
          <SessionList
            rows={rows}
            offsetMs={state.offsetMs}
            selected={selected}
            onSelect={select}
            compact={!!selected}
          />
        </section>
        <section className="pane side-pane">
          {selected ? (
            <SessionView key={selected} sessionKey={selected} live={live} state={state} onSelect={select} />
          ) : (
            <Feed feed={state.feed} sessions={state.sessions} onSelect={select} />
          )}
        </section>
      </main>
    </div>
  );
}

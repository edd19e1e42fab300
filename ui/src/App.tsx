/** The dashboard shell: header, filters, the session list, and either the feed or one session. */
import { useDeferredValue, useEffect, useMemo, useState } from 'react';
import type { SessionStatus } from '../../src/model/session.js';
import type { SessionSummary } from '../../src/server/summary.js';
import { AlertsBadge, AlertsView, useAlerts } from './AlertsView.js';
import { Feed } from './Feed.js';
import { FleetHealth } from './FleetHealth.js';
import { ESTIMATED_COST_TITLE, fmtCostMarked, fmtTokens, STATUSES } from './format.js';
import { type Problem, problemsOf, useHealth } from './health.js';
import { useLive, useRoute, useTheme } from './hooks.js';
import type { LiveStore } from './live.js';
import { useSessionPages } from './paging.js';
import { SessionList } from './SessionList.js';
import { SessionView } from './SessionView.js';
import { buildRows, type Filters } from './tree.js';
import { UsageView, useUsageRoute } from './UsageView.js';

export function App({ live }: { live: LiveStore }) {
  const state = useLive(live);
  const [selected, select] = useRoute();
  const [theme, toggleTheme] = useTheme();
  // the Usage view (#usage) takes the place of the list and the feed while open
  const [usageOpen, openUsage] = useUsageRoute();
  const [filters, setFilters] = useState<Filters>({ status: '', agent: '', host: '', gateway: '', text: '' });
  const text = useDeferredValue(filters.text);
  const { status, agent, host, gateway } = filters;
  const query = useMemo(() => ({ status, agent, host, gateway, text }), [status, agent, host, gateway, text]);
  const rows = useMemo(() => buildRows(state.sessions, query), [state.sessions, query]);
  // the rest of the list comes in pages from the server as it scrolls into view
  const paging = useSessionPages(live, state.epoch, state.nextCursor, query);
  const totalsAll = state.totals;
  /** the filters' choices: every value the server has (not only the sessions loaded here) */
  const choices = useMemo(() => {
    const known = [...state.sessions.values()];
    const of = (server: string[] | undefined, pick: (s: SessionSummary) => string | undefined) =>
      [...new Set([...(server ?? []), ...known.map(pick).filter((x): x is string => !!x)])].sort();
    return {
      agents: of(totalsAll?.agents, (s) => s.agentId),
      hosts: of(totalsAll?.hosts, (s) => s.host),
      gateways: of(totalsAll?.gateways, (s) => s.gateway),
    };
  }, [state.sessions, totalsAll]);
  const { agents, hosts, gateways } = choices;
  const counts = useMemo(() => {
    if (totalsAll) return totalsAll.byStatus;
    const c: Partial<Record<SessionStatus, number>> = {};
    for (const s of state.sessions.values()) c[s.status] = (c[s.status] ?? 0) + 1;
    return c;
  }, [state.sessions, totalsAll]);
  const filtered = !!(status || agent || host || gateway || text.trim());
  const health = useHealth();
  // the Alerts view takes the feed's place while open (AlertsView.tsx)
  const alerts = useAlerts();
  const [showAlerts, setShowAlerts] = useState(false);
  const trouble = useMemo(() => problemsOf(health), [health]);
  const totals = useMemo(() => {
    if (totalsAll)
      return {
        tokens: totalsAll.tokens,
        cost: totalsAll.costUsd,
        costEstimated: !!totalsAll.costEstimated,
        running: totalsAll.running,
      };
    let tokens = 0;
    let cost = 0;
    let costEstimated = false;
    let running = 0;
    for (const s of state.sessions.values()) {
      tokens += s.tokens;
      cost += s.costUsd;
      if (s.costEstimated) costEstimated = true;
      if (s.status === 'active' || s.status === 'stuck') running++;
    }
    return { tokens, cost, costEstimated, running };
  }, [state.sessions, totalsAll]);
  // the chip: the stream first (no stream, nothing is live), then what the sources say
  const chip =
    state.conn !== 'live'
      ? { cls: state.conn, text: state.conn === 'connecting' ? 'connecting…' : 'reconnecting…' }
      : health?.status === 'down'
        ? { cls: 'down', text: 'down' }
        : health?.status === 'degraded'
          ? { cls: 'degraded', text: 'degraded' }
          : { cls: 'live', text: 'live' };
  const chipTitle =
    state.conn !== 'live'
      ? 'the live stream is not connected; retrying'
      : trouble.length
        ? trouble.map((p) => `${p.title}: ${p.reason}`).join('\n')
        : health
          ? 'stream connected; every source is up'
          : 'stream connected';
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
        <div className="totals" data-testid="totals">
          <span className="tile" title="tokens across the sessions in view">
            <b data-testid="total-tokens">{fmtTokens(totals.tokens)}</b> tokens
          </span>
          <span
            className={totals.costEstimated ? 'tile est' : 'tile'}
            title="cost across the sessions in view"
          >
            {/* marked when any session in it was priced from the price table */}
            <b data-testid="total-cost" title={totals.costEstimated ? ESTIMATED_COST_TITLE : undefined}>
              {fmtCostMarked(totals.cost, totals.costEstimated)}
            </b>{' '}
            cost
          </span>
          <span className="tile" title="sessions running now (active or stuck)">
            <b data-testid="total-running">{totals.running}</b> running
          </span>
        </div>
        <AlertsBadge alerts={alerts} open={showAlerts} onToggle={() => setShowAlerts((v) => !v)} />
        <span
          className={`conn conn-${chip.cls}`}
          data-testid="conn"
          data-health={health?.status ?? ''}
          role="status"
          title={chipTitle}
        >
          {chip.text}
        </span>
        <button
          type="button"
          className={`theme${usageOpen ? ' on' : ''}`}
          onClick={() => openUsage(!usageOpen)}
          aria-pressed={usageOpen}
          data-testid="usage-link"
        >
          usage
        </button>
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
      {trouble.length > 0 && <Banners problems={trouble} />}
      <FleetHealth health={health} />
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
        {hosts.length > 1 && (
          <select
            aria-label="host"
            data-testid="host-filter"
            value={filters.host}
            onChange={(e) => setFilters({ ...filters, host: e.target.value })}
          >
            <option value="">all hosts</option>
            {hosts.map((h) => (
              <option key={h} value={h}>
                {h}
              </option>
            ))}
          </select>
        )}
        {gateways.length > 1 && (
          <select
            aria-label="gateway"
            data-testid="gateway-filter"
            value={filters.gateway}
            onChange={(e) => setFilters({ ...filters, gateway: e.target.value })}
          >
            <option value="">all gateways</option>
            {gateways.map((g) => (
              <option key={g} value={g}>
                {g}
              </option>
            ))}
          </select>
        )}
        <input
          type="search"
          aria-label="search"
          placeholder="search label, key, channel, text…"
          value={filters.text}
          onChange={(e) => setFilters({ ...filters, text: e.target.value })}
        />
        <span className="muted small" data-testid="list-count">
          {filtered ? (paging.total ?? rows.length) : (totalsAll?.sessions ?? state.sessions.size)} of{' '}
          {totalsAll?.sessions ?? state.sessions.size} sessions
        </span>
      </div>
      {usageOpen && <UsageView />}
      <main
        className={selected ? 'layout with-detail' : 'layout'}
        style={usageOpen ? { display: 'none' } : undefined}
      >
        <section className="pane list-pane" aria-label="sessions">
          <SessionList
            rows={rows}
            paging={paging}
            offsetMs={state.offsetMs}
            selected={selected}
            onSelect={select}
            compact={!!selected}
            blind={trouble.some((p) => p.id.startsWith('source:'))}
          />
        </section>
        <section className="pane side-pane">
          {selected && (
            <button type="button" className="back" onClick={() => select(undefined)} data-testid="back">
              ← all sessions
            </button>
          )}
          {selected ? (
            <SessionView key={selected} sessionKey={selected} live={live} state={state} onSelect={select} />
          ) : showAlerts ? (
            <AlertsView alerts={alerts} onSelect={select} />
          ) : (
            <Feed feed={state.feed} sessions={state.sessions} onSelect={select} />
          )}
        </section>
      </main>
    </div>
  );
}

/** one banner per failing source or output: what is wrong, and what to set */
function Banners({ problems }: { problems: Problem[] }) {
  return (
    <div className="banners" data-testid="banners" role="alert">
      {problems.map((p) => (
        <div key={p.id} className={`banner lvl-${p.level}`} data-problem={p.id}>
          <b className="banner-title">{p.title}</b>
          <span className="banner-reason">{p.reason}</span>
          <span className="banner-fix">
            <b>Fix:</b> {p.fix}
          </span>
        </div>
      ))}
    </div>
  );
}

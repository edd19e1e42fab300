/** One session, live: header, status box text, sub-agent tree, tool timeline, token chart, errors. */
import { useState } from 'react';
import type { StoredEvent } from '../../src/model/events.js';
import { errorText } from '../../src/render/format.js';
import type { SessionSummary, SessionTreeNode } from '../../src/server/summary.js';
import { Badge, channelText, Elapsed, LiveNote, sessionTitle } from './bits.js';
import { TokenChart, ToolTimeline } from './charts.js';
import { useSessionDetail } from './detail.js';
import { describe } from './Feed.js';
import { ESTIMATED_COST_TITLE, fmtCostMarked, fmtTime, fmtTokens } from './format.js';
import { useNow } from './hooks.js';
import type { LiveState, LiveStore } from './live.js';
import { SessionControls } from './SessionControls.js';
import { statusBox } from './status-text.js';

interface Props {
  sessionKey: string;
  live: LiveStore;
  state: LiveState;
  onSelect: (key: string | undefined) => void;
}

export function SessionView({ sessionKey, live, state, onSelect }: Props) {
  const { model, error, loadOlderEvents, loadOlderTools } = useSessionDetail(sessionKey, live, state.epoch);
  const now = useNow() + state.offsetMs;
  const summary = state.sessions.get(sessionKey) ?? model?.detail.summary;
  const close = (
    <button type="button" className="close" onClick={() => onSelect(undefined)} aria-label="close session">
      ✕
    </button>
  );
  if (error) {
    return (
      <div className="detail">
        <div className="detail-head">{close}</div>
        <div className="empty">{error}</div>
      </div>
    );
  }
  if (!model || !summary) return <div className="detail empty">Loading…</div>;
  const session = model.tracker.get(sessionKey) ?? model.detail.session;
  const lookup = (k: string) => state.sessions.get(k);
  const box = statusBox(sessionKey, (k) => model.tracker.get(k), lookup, now);
  const tree = liveTree(model.detail.tree, model.tracker.get.bind(model.tracker), lookup);
  // the session's own sub-agents (the fetched tree starts at its root, which may be a parent)
  const own = findNode(tree, sessionKey);
  const parent = summary.parentKey ? lookup(summary.parentKey) : undefined;
  const running = summary.status === 'active' || summary.status === 'stuck' || session.runOpen;

  return (
    <article className={`detail st-${summary.status}`} data-testid="detail" data-status={summary.status}>
      <div className="detail-head">
        <Badge status={summary.status} />
        <h2 title={summary.key}>{sessionTitle(summary)}</h2>
        {close}
      </div>
      <dl className="facts">
        <div>
          <dt>agent</dt>
          <dd>{summary.agentId}</dd>
        </div>
        <div>
          <dt>elapsed</dt>
          <dd>
            <Elapsed s={summary} offsetMs={state.offsetMs} />
          </dd>
        </div>
        <div>
          <dt>tokens</dt>
          <dd data-testid="detail-tokens">{fmtTokens(summary.tokens)}</dd>
        </div>
        <div>
          <dt>cost</dt>
          <dd
            data-testid="detail-cost"
            className={summary.costEstimated ? 'est' : undefined}
            title={summary.costEstimated ? ESTIMATED_COST_TITLE : undefined}
          >
            {fmtCostMarked(summary.costUsd, summary.costEstimated)}
          </dd>
        </div>
        {summary.model && (
          <div>
            <dt>model</dt>
            <dd>{summary.model}</dd>
          </div>
        )}
        {summary.host && (
          <div>
            <dt>host</dt>
            <dd data-testid="detail-host">{summary.host}</dd>
          </div>
        )}
        {summary.gateway && (
          <div>
            <dt>gateway</dt>
            <dd data-testid="detail-gateway">{summary.gateway}</dd>
          </div>
        )}
        {channelText(summary) && (
          <div>
            <dt>channel</dt>
            <dd>{channelText(summary)}</dd>
          </div>
        )}
        {summary.parentKey && (
          <div>
            <dt>parent</dt>
            <dd>
              <button
                type="button"
                className="link"
                title={summary.parentKey}
                onClick={() => onSelect(summary.parentKey)}
              >
                {parent ? sessionTitle(parent) : sessionTitle({ key: summary.parentKey })}
              </button>
            </dd>
          </div>
        )}
        <div>
          <dt>started</dt>
          <dd>{fmtTime(summary.startedAt)}</dd>
        </div>
      </dl>
      <p className="key-line mono small muted">{summary.key}</p>
      {(summary.note || summary.status === 'stuck') && (
        <p className={`note st-${summary.status}`} data-testid="detail-note">
          {summary.status === 'stuck' && summary.runningTool && (
            <>
              stuck in <span className="stuck-tool">{summary.runningTool}</span> ·{' '}
            </>
          )}
          <LiveNote s={summary} offsetMs={state.offsetMs} />
        </p>
      )}
      <SessionControls sessionKey={sessionKey} active={running} />

      <h3>Status</h3>
      <pre className="statusbox" data-testid="statusbox">
        {box.map((l, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: box lines have no identity; the box re-renders whole
          <span key={i} className={`sb-${l.kind}${l.status ? ` sb-st-${l.status}` : ''}`}>
            {l.text}
            {'\n'}
          </span>
        ))}
      </pre>

      {own && own.children.length > 0 ? (
        <>
          <h3>Sub-agents</h3>
          <ul className="subtree" data-testid="subtree">
            {own.children.map((c) => (
              <TreeNode
                key={c.summary.key}
                node={c}
                selected={sessionKey}
                offsetMs={state.offsetMs}
                onSelect={onSelect}
              />
            ))}
          </ul>
        </>
      ) : null}

      <h3>Tokens and cost</h3>
      <TokenChart
        series={model.tokenSeries}
        now={now}
        from={session.startedAt}
        split={session.tokens}
        costEstimated={summary.costEstimated}
      />

      <h3>Tools ({Math.max(summary.toolCalls, session.tools.length)})</h3>
      <ToolTimeline
        tools={model.olderTools.length ? [...model.olderTools, ...session.tools] : session.tools}
        total={summary.toolCalls}
        now={now}
        onMore={model.toolsBefore === null ? undefined : loadOlderTools}
      />

      {session.errors.length > 0 && (
        <>
          <h3>Errors</h3>
          <ul className="errors">
            {session.errors.slice(-10).map((e, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: errors are append-only; position is identity
              <li key={i}>
                <time>{fmtTime(e.ts)}</time> {errorText(e)}
              </li>
            ))}
          </ul>
        </>
      )}

      <h3>Events</h3>
      <EventList events={model.events} hasOlder={model.eventsBefore !== null} loadOlder={loadOlderEvents} />
    </article>
  );
}

/** the session's events, newest on top: 40, then 40 more at a time (older pages fetched on demand) */
function EventList(p: { events: StoredEvent[]; hasOlder: boolean; loadOlder: () => Promise<void> }) {
  const [limit, setLimit] = useState(40);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  // session.seen is bookkeeping, repeated on every store write
  const rows = p.events.filter((it) => it.event.type !== 'session.seen');
  const more = async () => {
    setError(undefined);
    if (rows.length <= limit && p.hasOlder) {
      setBusy(true);
      try {
        await p.loadOlder();
      } catch (err) {
        setError((err as Error).message);
        return;
      } finally {
        setBusy(false);
      }
    }
    setLimit(limit + 40);
  };
  return (
    <ol className="feed compact-feed" data-testid="detail-events">
      {rows
        .slice(-limit)
        .reverse()
        .map((it) => {
          const d = describe(it.event);
          return (
            <li key={it.seq} data-seq={it.seq} className={`feed-row${d.tone ? ` tone-${d.tone}` : ''}`}>
              <time>{fmtTime(it.event.ts)}</time>
              <span className={`tag tag-${d.tag}`}>{d.tag}</span>
              <span className="feed-text">{d.text}</span>
            </li>
          );
        })}
      {(rows.length > limit || p.hasOlder) && (
        <li className="more">
          <button type="button" onClick={more} disabled={busy} data-testid="more-events">
            {busy ? 'Loading…' : 'Show older events'}
          </button>
          {error && <span className="tl-err">{error}</span>}
        </li>
      )}
    </ol>
  );
}

interface LiveNode {
  summary: SessionSummary;
  children: LiveNode[];
}

/** the fetched tree, with live summaries and children spawned since the fetch */
function liveTree(
  node: SessionTreeNode,
  get: (k: string) => { children: string[] } | undefined,
  lookup: (k: string) => SessionSummary | undefined,
  seen = new Set<string>(),
): LiveNode {
  const key = node.summary.key;
  seen.add(key);
  const known = new Map(node.children.map((c) => [c.summary.key, c]));
  const childKeys = get(key)?.children ?? node.children.map((c) => c.summary.key);
  const children: LiveNode[] = [];
  for (const k of childKeys) {
    if (seen.has(k)) continue;
    const sub = known.get(k);
    const s = lookup(k) ?? sub?.summary;
    if (!s) continue;
    children.push(liveTree(sub ?? { summary: s, children: [] }, get, lookup, seen));
  }
  return { summary: lookup(key) ?? node.summary, children };
}

function findNode(node: LiveNode, key: string): LiveNode | undefined {
  if (node.summary.key === key) return node;
  for (const c of node.children) {
    const hit = findNode(c, key);
    if (hit) return hit;
  }
  return undefined;
}

function TreeNode(p: { node: LiveNode; selected: string; offsetMs: number; onSelect: (k: string) => void }) {
  const s = p.node.summary;
  return (
    <li>
      <button
        type="button"
        className={`tree-item st-${s.status}${s.key === p.selected ? ' selected' : ''}`}
        onClick={() => p.onSelect(s.key)}
      >
        <Badge status={s.status} />{' '}
        <span className="title" title={s.key}>
          {sessionTitle(s)}
        </span>{' '}
        <span className="muted">
          <Elapsed s={s} offsetMs={p.offsetMs} /> · {fmtTokens(s.tokens)} tok
        </span>
      </button>
      {p.node.children.length > 0 && (
        <ul>
          {p.node.children.map((c) => (
            <TreeNode key={c.summary.key} {...p} node={c} />
          ))}
        </ul>
      )}
    </li>
  );
}
